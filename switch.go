package tenantpath

// The statements that set a connection's path. Each is one round trip.

// tenantSwitch sets the path (and, with tenant roles, the role) for the
// tenant whose schema is schema, but only if that schema (and role) exist:
// the command tag's row count then says whether anything was set. With local
// set, the settings last until the end of the current transaction.
func (cfg *config) tenantSwitch(schema string, local bool) string {
	scope := ", false)"
	if local {
		scope = ", true)"
	}
	path := QuoteLiteral(joinPath(schema, cfg.naming.SharedSchemas()))
	nsp := QuoteLiteral(schema)
	if cfg.roleFor == nil {
		return "SELECT pg_catalog.set_config('search_path', " + path + scope +
			" FROM pg_catalog.pg_namespace WHERE nspname = " + nsp
	}
	role := QuoteLiteral(cfg.roleFor(schema))
	return "SELECT pg_catalog.set_config('role', " + role + scope +
		", pg_catalog.set_config('search_path', " + path + scope +
		" FROM pg_catalog.pg_namespace, pg_catalog.pg_roles WHERE nspname = " + nsp + " AND rolname = " + role
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
