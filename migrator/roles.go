package migrator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgname"
)

// ProvisionTenantRole prepares the role that tenant's connections switch to
// under [tenantpath.WithTenantRoles], so that SQL naming another tenant's
// schema explicitly (`SELECT * FROM org_11.notes` while routed to org_10) is
// refused by PostgreSQL itself (permission denied, SQLSTATE 42501). role
// must be the same function given to the driver; it maps the tenant's
// schema name to the role's name.
//
// In one transaction it:
//
//   - creates the role, NOLOGIN, unless it exists (an existing superuser
//     role is refused: permission checks would not apply to it);
//   - grants the role to current_user, so the driver's connections, which
//     log in as current_user, may switch to it;
//   - grants it USAGE on the tenant's schema, SELECT, INSERT, UPDATE and
//     DELETE on the schema's tables and USAGE, SELECT and UPDATE on its
//     sequences, both for the objects that exist now and, through default
//     privileges, for those current_user creates there later (run the
//     migrations as the same login role, or call this again after them);
//   - grants it USAGE on every shared schema of naming, so the types,
//     functions and extensions there resolve. Privileges on the shared
//     schemas' tables are the application's to grant: which shared data a
//     tenant may read is its decision.
//
// The tenant's schema must exist (create the tenant first); otherwise the
// error matches [tenantpath.ErrUnknownTenant]. A tenant id refused by naming
// is an [tenantpath.InvalidTenantError], and a role name that cannot be a
// tenant role (empty, longer than 63 bytes, holding NUL, not valid UTF-8,
// starting with "pg_" in any case, or one of PostgreSQL's reserved role
// names such as "public" and "none": the rule the driver applies to
// [tenantpath.WithTenantRoles]) is an error; in those cases nothing is
// sent. db may be a plain pool or one opened through tenantpath, whatever
// scope ctx carries (see the package documentation). Calling it again is
// harmless, so it can run after every migration. Every name is quoted with
// [tenantpath.QuoteIdentifier].
//
// Creating roles needs the CREATEROLE attribute (or a superuser). Roles
// belong to the whole cluster, not to one database: see [DropTenantRole].
func ProvisionTenantRole(ctx context.Context, db *sql.DB, naming tenantpath.Naming, role func(schema string) string, tenant string) error {
	ctx = onBasePath(ctx)
	schema, rname, err := tenantRole(naming, role, tenant)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		return fmt.Errorf("migrator: provisioning role %q for tenant %q: %w", rname, tenant, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()

	// Two provisioners of one role wait for each other instead of
	// failing on a duplicate CREATE ROLE.
	var schemaExists, roleExists, roleSuper bool
	err = tx.QueryRowContext(ctx, xactLockedSelect(
		`EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $2),
		 EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $3),
		 COALESCE((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = $3), false)`, 1),
		roleLockKey(rname), schema, rname).Scan(&schemaExists, &roleExists, &roleSuper)
	if err != nil {
		return fail(err)
	}
	if !schemaExists {
		return &tenantpath.UnknownTenantError{Tenant: tenant, Schema: schema}
	}
	if roleSuper {
		return fail(errors.New("the role is a superuser: permission checks do not apply to it"))
	}

	r := tenantpath.QuoteIdentifier(rname)
	s := tenantpath.QuoteIdentifier(schema)
	var b strings.Builder
	if !roleExists {
		fmt.Fprintf(&b, "CREATE ROLE %s NOLOGIN;\n", r)
	}
	fmt.Fprintf(&b, "GRANT %s TO CURRENT_USER;\n", r)
	fmt.Fprintf(&b, "GRANT USAGE ON SCHEMA %s TO %s;\n", s, r)
	fmt.Fprintf(&b, "GRANT %s ON ALL TABLES IN SCHEMA %s TO %s;\n", tablePrivileges, s, r)
	fmt.Fprintf(&b, "GRANT %s ON ALL SEQUENCES IN SCHEMA %s TO %s;\n", sequencePrivileges, s, r)
	fmt.Fprintf(&b, "ALTER DEFAULT PRIVILEGES IN SCHEMA %s GRANT %s ON TABLES TO %s;\n", s, tablePrivileges, r)
	fmt.Fprintf(&b, "ALTER DEFAULT PRIVILEGES IN SCHEMA %s GRANT %s ON SEQUENCES TO %s;\n", s, sequencePrivileges, r)
	for _, shared := range naming.SharedSchemas() {
		fmt.Fprintf(&b, "GRANT USAGE ON SCHEMA %s TO %s;\n", tenantpath.QuoteIdentifier(shared), r)
	}
	if _, err := tx.ExecContext(ctx, b.String()); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// DropTenantRole undoes [ProvisionTenantRole]: it revokes every privilege
// the tenant's role holds in the current database (DROP OWNED BY, which also
// removes its default privileges) and drops the role. A role that does not
// exist is not an error. The tenant's schema need not exist any more, so it
// can run after [Migrator.Drop]. The role cannot be dropped while it holds
// privileges in another database of the cluster; PostgreSQL then says so.
func DropTenantRole(ctx context.Context, db *sql.DB, naming tenantpath.Naming, role func(schema string) string, tenant string) error {
	ctx = onBasePath(ctx)
	_, rname, err := tenantRole(naming, role, tenant)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		return fmt.Errorf("migrator: dropping role %q of tenant %q: %w", rname, tenant, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	var exists bool
	err = tx.QueryRowContext(ctx, xactLockedSelect(`EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $2)`, 1),
		roleLockKey(rname), rname).Scan(&exists)
	if err != nil {
		return fail(err)
	}
	if !exists {
		return nil
	}
	r := tenantpath.QuoteIdentifier(rname)
	if _, err := tx.ExecContext(ctx, "DROP OWNED BY "+r+";\nDROP ROLE "+r); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

const (
	tablePrivileges    = "SELECT, INSERT, UPDATE, DELETE"
	sequencePrivileges = "USAGE, SELECT, UPDATE"
)

// tenantRole returns the tenant's schema and its role's name, checked by
// the same rule the driver applies to the roles of WithTenantRoles.
func tenantRole(naming tenantpath.Naming, role func(string) string, tenant string) (schema, rname string, err error) {
	if role == nil {
		return "", "", errors.New("migrator: nil role function")
	}
	if schema, err = naming.Schema(tenant); err != nil {
		return "", "", err
	}
	rname = role(schema)
	if reason := pgname.RoleProblem(rname); reason != "" {
		return "", "", fmt.Errorf("migrator: tenant %q: role name %q: %s", tenant, rname, reason)
	}
	return schema, rname, nil
}
