package tenantpath

import (
	"context"
	"fmt"

	"github.com/tenantpath/tenantpath/internal/pgname"
)

// The statements that set a connection's path.

// form says how a switch statement travels, and so how it must report a
// tenant that does not exist.
type form uint8

const (
	// alone: a round trip of its own. A missing schema (or role) must not
	// abort a transaction the caller began by hand, so the statement sets
	// nothing and says so in its row count (SELECT 0).
	alone form = iota
	// carried: in front of the statement it precedes, in one implicit
	// transaction (internal/wire). A missing schema must stop that
	// statement, so the switch fails: the server then skips the statement.
	carried
)

// tenantSwitch sets the path (and, with tenant roles, the role) for the
// tenant whose schema is schema, but only if that schema (and role) exist.
// With local set, the settings last until the end of the current
// transaction.
//
// Alone, the existence check goes through to_regnamespace (and
// to_regrole), which read the catalog caches: with no FROM clause there is
// nothing to plan, the WHERE clause is a one-time filter evaluated before
// set_config is called, and the server spends about half the CPU a lookup
// in pg_namespace costs (docs/BENCHMARKS.md, BenchmarkSwitchStatement).
// Carried, the names are cast to regnamespace (and regrole): the cast of a
// constant happens when the statement is parsed, before anything runs, and
// fails with 3F000 (42704 for a role). The names are passed as quoted
// identifiers, so case and any character survive.
func (cfg *config) tenantSwitch(schema string, local bool, f form, extra string) (string, error) {
	scope := ", false)"
	if local {
		scope = ", true)"
	}
	set := "pg_catalog.set_config('search_path', " + QuoteLiteral(joinPath(schema, cfg.naming.SharedSchemas())) + scope + extra
	nsp := QuoteLiteral(QuoteIdentifier(schema))
	var role string
	if cfg.roleFor != nil {
		role = cfg.roleFor(schema)
		if reason := pgname.RoleProblem(role); reason != "" {
			return "", fmt.Errorf("tenantpath: role %q for schema %q: %s", role, schema, reason)
		}
		set = "pg_catalog.set_config('role', " + QuoteLiteral(role) + scope + ", " + set
	}
	rol := QuoteLiteral(QuoteIdentifier(role))
	switch {
	case f == carried && role == "":
		return "SELECT " + set + ", " + nsp + "::pg_catalog.regnamespace", nil
	case f == carried:
		return "SELECT " + set + ", " + nsp + "::pg_catalog.regnamespace, " + rol + "::pg_catalog.regrole", nil
	case role == "":
		return "SELECT " + set + " WHERE pg_catalog.to_regnamespace(" + nsp + ") IS NOT NULL", nil
	default:
		return "SELECT " + set + " WHERE pg_catalog.to_regnamespace(" + nsp + ") IS NOT NULL" +
			" AND pg_catalog.to_regrole(" + rol + ") IS NOT NULL", nil
	}
}

// sharedSwitch sets the shared schemas alone (and the login role). It
// cannot fail for want of a schema, so it is the same alone or carried.
func (cfg *config) sharedSwitch(local bool, extra string) string {
	scope := ", false)"
	if local {
		scope = ", true)"
	}
	q := "SELECT "
	if cfg.roleFor != nil {
		q += "pg_catalog.set_config('role', 'none'" + scope + ", "
	}
	return q + "pg_catalog.set_config('search_path', " + QuoteLiteral(cfg.naming.SharedPath()) + scope + extra
}

// baseSwitch returns the session to the path (and role) it started with.
// Carried, it must be one statement, so with tenant roles it sets both to
// the values RESET would restore.
// extra (settings to reset, see settings.go) follows in the select list.
func (cfg *config) baseSwitch(f form, extra string) string {
	if f == alone {
		q := "RESET search_path"
		if cfg.roleFor != nil {
			q = "RESET role; " + q
		}
		if extra != "" {
			q += "; SELECT " + extra[len(", "):]
		}
		return q
	}
	if cfg.roleFor == nil && extra == "" {
		return "RESET search_path"
	}
	q := "SELECT " + resetTo("search_path")
	if cfg.roleFor != nil {
		q += ", " + resetTo("role")
	}
	return q + extra
}

// resetTo sets a setting to the value RESET would give it, in a select list.
func resetTo(name string) string {
	return "pg_catalog.set_config(" + QuoteLiteral(name) +
		", (SELECT reset_val FROM pg_catalog.pg_settings WHERE name = " + QuoteLiteral(name) + "), false)"
}

// switchQuery returns the statement of form f that puts want's path in
// place; with local set, for the current transaction only. It returns ""
// when there is nothing to set, or when the switch cannot take that form.
// Nothing is sent: an invalid tenant fails here.
//
// extra is a fragment of the select list, ", set_config(…), …", for the
// tenant's settings (settings.go); it is "" without WithTenantSettings.
func (cfg *config) switchQuery(want Scope, local bool, f form, extra string) (query, schema string, err error) {
	switch want.Kind {
	case ScopeTenant:
		if schema, err = cfg.naming.Schema(want.Tenant); err != nil {
			return "", "", err
		}
		query, err = cfg.tenantSwitch(schema, local, f, extra)
		return query, schema, err
	case ScopeShared:
		switch {
		case extra != "":
			return cfg.sharedSwitch(local, extra), "", nil
		case local:
			return cfg.sharedLocalQuery, "", nil
		}
		return cfg.sharedQuery, "", nil
	default:
		switch {
		case local:
			return "", "", nil
		case extra != "":
			return cfg.baseSwitch(f, extra), "", nil
		case f == carried:
			return cfg.baseCarried, "", nil
		}
		return cfg.baseQuery, "", nil
	}
}

// sendSwitch sends a switch built by switchQuery alone. A tenant whose
// schema does not exist gets an UnknownTenantError: set_config never ran. A
// failure of the statement itself comes back as a *SwitchError, and the
// caller decides what it leaves in doubt.
func (c *conn) sendSwitch(ctx context.Context, query string, want Scope, schema string) error {
	res, err := c.execDirect(ctx, query)
	if err == nil && want.Kind == ScopeTenant {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			return &UnknownTenantError{Tenant: want.Tenant, Schema: schema}
		}
	}
	if err != nil {
		return &SwitchError{Scope: want, Err: err}
	}
	return nil
}
