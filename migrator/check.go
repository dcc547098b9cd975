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
}

// OK reports whether the tenant list and the schemas agree.
func (r CheckReport) OK() bool {
	return len(r.Orphans) == 0 && len(r.Missing) == 0 && len(r.Invalid) == 0
}

// Check compares the tenant list with the schemas on the server, in two
// queries whatever the number of tenants.
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
	for _, id := range ids {
		schema, err := m.naming.Schema(id)
		if err != nil {
			rep.Invalid = append(rep.Invalid, id)
			continue
		}
		listed[schema] = true
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
	return rep, nil
}
