package tenantpath

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tenantpath/tenantpath/internal/pgname"
)

// MaxIdentifierBytes is PostgreSQL's limit on a name (NAMEDATALEN-1). Longer
// names are truncated by the server without an error, so two tenants whose
// schema names share the first 63 bytes would share a schema: tenantpath
// refuses such names instead.
const MaxIdentifierBytes = pgname.MaxBytes

// ReservedPrefix starts the names of schemas tenantpath keeps for itself,
// such as the migrator's spare tenants, created ahead of sign-up: no tenant's
// schema may start with it (in any case), so they can never be routed to.
const ReservedPrefix = "tenantpath_"

// Naming maps tenant ids to schema names and builds search paths from them.
// The driver, the migrator and the HTTP middleware all take a Naming, so they
// can never disagree about where a tenant lives.
//
// The zero value maps a tenant to a schema of the same name, with "public" as
// the only shared schema and the strict name policy of [ValidateStrict].
// A Naming is a value; it is safe for concurrent use once built.
type Naming struct {
	// Prefix is prepended to the tenant id: with Prefix "org_", tenant "10"
	// lives in schema "org_10". Ignored when Format is set.
	Prefix string

	// Format, when set, maps a tenant id to its schema name instead of
	// Prefix. Set Parse too if the migrator is to recognise tenant schemas
	// it did not create (see Tenant).
	Format func(tenant string) string

	// Parse is the inverse of Format: it returns the tenant a schema name
	// belongs to. Without it, a Naming with Format recognises no schema.
	Parse func(schema string) (tenant string, ok bool)

	// Shared lists the schemas that follow the tenant's schema on every
	// search_path, in order. Nil means []string{"public"}; an empty,
	// non-nil slice means none.
	Shared []string

	// Validate, when set, replaces the default character policy
	// ([ValidateStrict]) for schema names. The rules that keep tenants
	// apart always apply whatever it says: a name must be non-empty, valid
	// UTF-8, at most 63 bytes, free of NUL, must not start with "pg_" and
	// must not be a system or shared schema.
	Validate func(schema string) error
}

// SharedSchemas returns the schemas that follow a tenant's schema on its
// search_path, and that make up the path of the shared scope.
func (n Naming) SharedSchemas() []string {
	if n.Shared == nil {
		return []string{"public"}
	}
	return n.Shared
}

// Schema returns the schema name of tenant, or an [InvalidTenantError]
// saying why the id or the name made from it is refused.
func (n Naming) Schema(tenant string) (string, error) {
	if tenant == "" {
		return "", &InvalidTenantError{Tenant: tenant, Reason: "empty tenant id"}
	}
	var schema string
	if n.Format != nil {
		schema = n.Format(tenant)
	} else {
		schema = n.Prefix + tenant
	}
	if reason := n.refuse(schema); reason != "" {
		return "", &InvalidTenantError{Tenant: tenant, Schema: schema, Reason: reason}
	}
	return schema, nil
}

// Tenant returns the tenant id whose schema is schema, and false if schema is
// not a tenant schema under this naming (wrong prefix, invalid, shared, or a
// Format without Parse).
func (n Naming) Tenant(schema string) (string, bool) {
	var tenant string
	var ok bool
	switch {
	case n.Format != nil && n.Parse == nil:
		return "", false
	case n.Parse != nil:
		tenant, ok = n.Parse(schema)
	default:
		tenant, ok = strings.CutPrefix(schema, n.Prefix)
	}
	if !ok {
		return "", false
	}
	// Only a round trip proves it: the schema must be what Schema makes.
	if back, err := n.Schema(tenant); err != nil || back != schema {
		return "", false
	}
	return tenant, true
}

// SearchPath returns the quoted search_path for tenant: its schema, the
// shared schemas, then pg_temp, e.g. `"org_10", "public", "pg_temp"`.
// PostgreSQL searches the session's temporary schema first unless the path
// names it; naming it last means a temporary table created under one
// tenant can never shadow another tenant's table of the same name (reach
// temporary tables as pg_temp.name).
func (n Naming) SearchPath(tenant string) (string, error) {
	schema, err := n.Schema(tenant)
	if err != nil {
		return "", err
	}
	return joinPath(schema, n.SharedSchemas()), nil
}

// SharedPath returns the quoted search_path of the shared scope: the shared
// schemas alone, then pg_temp, e.g. `"public", "pg_temp"`.
func (n Naming) SharedPath() string {
	shared := n.SharedSchemas()
	if len(shared) == 0 {
		return QuoteIdentifier("pg_temp")
	}
	return joinPath(shared[0], shared[1:])
}

// Check reports whether the naming itself is usable: every shared schema
// must be a valid, distinct identifier. Constructors that take a Naming call
// it, so a bad configuration fails at start-up rather than per request.
func (n Naming) Check() error {
	seen := make(map[string]bool)
	for _, s := range n.SharedSchemas() {
		if reason := identifierProblem(s); reason != "" {
			return fmt.Errorf("tenantpath: shared schema %q: %s", s, reason)
		}
		if s == "$user" {
			return errors.New(`tenantpath: shared schema "$user" means the current role's schema; list the schema itself`)
		}
		if seen[s] {
			return fmt.Errorf("tenantpath: shared schema %q listed twice", s)
		}
		seen[s] = true
	}
	if n.Format == nil && strings.ContainsRune(n.Prefix, 0) {
		return errors.New("tenantpath: prefix contains NUL")
	}
	return nil
}

// refuse returns why schema cannot be a tenant schema, or "".
func (n Naming) refuse(schema string) string {
	if reason := identifierProblem(schema); reason != "" {
		return reason
	}
	if strings.HasPrefix(strings.ToLower(schema), "pg_") {
		return `names starting with "pg_" are reserved for the system`
	}
	if strings.HasPrefix(strings.ToLower(schema), ReservedPrefix) {
		return `names starting with "` + ReservedPrefix + `" are reserved for tenantpath's own schemas`
	}
	if systemSchemas[strings.ToLower(schema)] {
		return "a system schema cannot be a tenant"
	}
	if schema == "$user" {
		return `"$user" on a search_path means the current role's schema, even quoted`
	}
	for _, s := range n.SharedSchemas() {
		if strings.EqualFold(s, schema) {
			return "a shared schema cannot be a tenant"
		}
	}
	validate := n.Validate
	if validate == nil {
		validate = ValidateStrict
	}
	if err := validate(schema); err != nil {
		return err.Error()
	}
	return ""
}

var systemSchemas = map[string]bool{
	"public":             true,
	"information_schema": true,
}

// identifierProblem checks what every PostgreSQL name must satisfy.
func identifierProblem(name string) string { return pgname.Problem(name) }

// ValidateStrict is the default character policy for schema names: lowercase
// ASCII letters, digits, '_' and '-'. Refusing upper case means two tenants
// can never differ by case alone ("Acme" and "acme"), and refusing anything
// outside ASCII rules out look-alike names.
func ValidateStrict(schema string) error {
	for i := 0; i < len(schema); i++ {
		c := schema[i]
		if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '_' || c == '-' {
			continue
		}
		return fmt.Errorf("byte %d (%q) is not allowed: use lowercase ASCII letters, digits, '_' or '-'", i, c)
	}
	return nil
}

// QuoteIdentifier quotes name as a PostgreSQL identifier: it doubles every
// '"' and wraps the result in double quotes, so any name, however hostile,
// is read back as exactly one identifier. Names must not contain NUL;
// [Naming] refuses them before they get here.
func QuoteIdentifier(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteLiteral quotes s as a PostgreSQL string literal that means s whatever
// standard_conforming_strings is set to.
func QuoteLiteral(s string) string {
	s = strings.ReplaceAll(s, `'`, `''`)
	if strings.Contains(s, `\`) {
		return `E'` + strings.ReplaceAll(s, `\`, `\\`) + `'`
	}
	return `'` + s + `'`
}

// joinPath quotes first, then rest, then pg_temp, as a search_path.
func joinPath(first string, rest []string) string {
	var b strings.Builder
	b.WriteString(QuoteIdentifier(first))
	for _, s := range rest {
		b.WriteString(", ")
		b.WriteString(QuoteIdentifier(s))
	}
	b.WriteString(`, "pg_temp"`)
	return b.String()
}
