package migrator

import (
	"context"
	"fmt"
	"sort"
)

// CheckReport is the result of [Migrator.Check].
type CheckReport struct {
	// Orphans are schemas whose names the naming maps back to a tenant
	// id, but whose tenant is not listed. With an empty Prefix (and no
	// Parse) every valid, non-shared schema maps back to a tenant id, so
	// an application schema such as "extensions" would be listed: use a
	// prefix, or list such schemas as shared.
	Orphans []string
	// Missing are listed tenants whose schema does not exist.
	Missing []string
	// Invalid are listed tenant ids the naming refuses.
	Invalid []string
	// Shadowed are tables (or views) of the shared schemas with the name of
	// a table in tenant schemas. A statement for a tenant whose table of
	// that name is gone (a dropped or renamed schema, a migration not yet
	// applied) finds the shared one on the path instead, with no error:
	// rename one of them. The version table, which the migrator always
	// names with its schema, is left out.
	Shadowed []ShadowedTable
}

// ShadowedTable is a relation of a shared schema whose name a tenant
// schema's relation also has.
type ShadowedTable struct {
	Schema  string // the shared schema
	Table   string
	Tenants int // listed tenants whose schema has a relation of that name
}

// OK reports whether the tenant list and the schemas agree and no shared
// table shadows a tenant's.
func (r CheckReport) OK() bool {
	return len(r.Orphans) == 0 && len(r.Missing) == 0 && len(r.Invalid) == 0 && len(r.Shadowed) == 0
}

// shadowSQL finds relations of the shared schemas ($1) named like a
// relation of the tenant schemas ($2), tables, views, materialized views
// and foreign tables alike (any of them is found by an unqualified name),
// other than the version table ($3).
const shadowSQL = `
SELECT s.nspname, c.relname, count(DISTINCT tc.relnamespace)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
  JOIN pg_catalog.pg_class tc ON tc.relname = c.relname AND tc.relkind IN ('r', 'p', 'v', 'm', 'f')
  JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
 WHERE s.nspname = ANY ($1::text[]) AND tn.nspname = ANY ($2::text[])
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> $3
 GROUP BY 1, 2
 ORDER BY 1, 2`

// Check compares the tenant list with the schemas on the server, and finds
// shared tables that shadow tenant tables, in three queries whatever the
// number of tenants.
func (m *Migrator) Check(ctx context.Context) (CheckReport, error) {
	ctx = onBasePath(ctx)
	var rep CheckReport
	ids, err := m.List(ctx)
	if err != nil {
		return rep, err
	}
	names, err := queryStrings(ctx, m.db, 1, `SELECT nspname FROM pg_catalog.pg_namespace`)
	if err != nil {
		return rep, fmt.Errorf("migrator: listing schemas: %w", err)
	}
	schemas := make(map[string]bool, len(names))
	for _, s := range names {
		schemas[s] = true
	}
	listed := make(map[string]bool, len(ids))
	var tenantSchemas []string
	for _, id := range ids {
		schema, err := m.naming.Schema(id)
		if err != nil {
			rep.Invalid = append(rep.Invalid, id)
			continue
		}
		listed[schema] = true
		tenantSchemas = append(tenantSchemas, schema)
		if !schemas[schema] {
			rep.Missing = append(rep.Missing, id)
		}
	}
	for s := range schemas {
		if _, ok := m.naming.Tenant(s); ok && !listed[s] {
			rep.Orphans = append(rep.Orphans, s)
		}
	}
	sort.Strings(rep.Orphans)
	shadows, err := m.shadowed(ctx, tenantSchemas)
	rep.Shadowed = shadows
	return rep, err
}

// shadowed runs shadowSQL over the listed tenants' schemas.
func (m *Migrator) shadowed(ctx context.Context, tenantSchemas []string) ([]ShadowedTable, error) {
	if len(tenantSchemas) == 0 || len(m.naming.SharedSchemas()) == 0 {
		return nil, nil
	}
	rows, err := m.db.QueryContext(ctx, shadowSQL, textArray(m.naming.SharedSchemas()), textArray(tenantSchemas), m.cfg.versionTable)
	if err != nil {
		return nil, fmt.Errorf("migrator: looking for shadowed tables: %w", err)
	}
	defer rows.Close()
	var out []ShadowedTable
	for rows.Next() {
		var st ShadowedTable
		if err := rows.Scan(&st.Schema, &st.Table, &st.Tenants); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
