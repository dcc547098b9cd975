package tenantpath

import (
	"context"
	"fmt"

	"github.com/tenantpath/tenantpath/internal/pgname"
)

// The statements that set a connection's path. Each is one round trip.

// tenantSwitch sets the path (and, with tenant roles, the role) for the
// tenant whose schema is schema, but only if that schema (and role) exist:
// the command tag's row count then says whether anything was set. With local
// set, the settings last until the end of the current transaction.
//
// The existence check goes through to_regnamespace (and to_regrole), which
// read the catalog caches: with no FROM clause there is nothing to plan, and
// the server spends about half the CPU a lookup in pg_namespace costs
// (docs/BENCHMARKS.md, BenchmarkSwitchStatement). The WHERE clause is a
// one-time filter, evaluated before set_config is called. The names are
// passed as quoted identifiers, so case and any character survive.
func (cfg *config) tenantSwitch(schema string, local bool) (string, error) {
	scope := ", false)"
	if local {
		scope = ", true)"
	}
	path := QuoteLiteral(joinPath(schema, cfg.naming.SharedSchemas()))
	exists := "pg_catalog.to_regnamespace(" + QuoteLiteral(QuoteIdentifier(schema)) + ") IS NOT NULL"
	if cfg.roleFor == nil {
		return "SELECT pg_catalog.set_config('search_path', " + path + scope + " WHERE " + exists, nil
	}
	role := cfg.roleFor(schema)
	if reason := pgname.RoleProblem(role); reason != "" {
		return "", fmt.Errorf("tenantpath: role %q for schema %q: %s", role, schema, reason)
	}
	return "SELECT pg_catalog.set_config('role', " + QuoteLiteral(role) + scope +
		", pg_catalog.set_config('search_path', " + path + scope +
		" WHERE " + exists + " AND pg_catalog.to_regrole(" + QuoteLiteral(QuoteIdentifier(role)) + ") IS NOT NULL", nil
}

// sharedSwitch sets the shared schemas alone (and the login role).
func (cfg *config) sharedSwitch(local bool) string {
	scope := ", false)"
	if local {
		scope = ", true)"
	}
	q := "SELECT "
	if cfg.roleFor != nil {
		q += "pg_catalog.set_config('role', 'none'" + scope + ", "
	}
	return q + "pg_catalog.set_config('search_path', " + QuoteLiteral(cfg.naming.SharedPath()) + scope
}

// baseSwitch returns the session to the path (and role) it started with.
func (cfg *config) baseSwitch() string {
	if cfg.roleFor != nil {
		return "RESET role; RESET search_path"
	}
	return "RESET search_path"
}

// switchQuery returns the statement that puts want's path in place; with
// local set, for the current transaction only ("" when there is nothing to
// set). Nothing is sent: an invalid tenant fails here.
func (cfg *config) switchQuery(want Scope, local bool) (query, schema string, err error) {
	switch want.Kind {
	case ScopeTenant:
		if schema, err = cfg.naming.Schema(want.Tenant); err != nil {
			return "", "", err
		}
		query, err = cfg.tenantSwitch(schema, local)
		return query, schema, err
	case ScopeShared:
		if local {
			return cfg.sharedLocalQuery, "", nil
		}
		return cfg.sharedQuery, "", nil
	default:
		if local {
			return "", "", nil
		}
		return cfg.baseQuery, "", nil
	}
}

// sendSwitch sends a switch built by switchQuery. A tenant whose schema does
// not exist gets an UnknownTenantError: set_config never ran. A failure of
// the statement itself comes back as a *SwitchError, and the caller decides
// what it leaves in doubt.
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
