package migrator

import (
	"context"
	"fmt"
	"slices"
	"sort"
)

// selectTenants lists the tenants of a run or status: the tenant list
// (checked by List against the naming) filtered by Only and Except. Before
// anything runs it refuses ids given to Only or Except that are not
// tenants, and an empty list while schemas that look like tenants exist.
func (m *Migrator) selectTenants(ctx context.Context, rc runConfig) ([]string, error) {
	all, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		if err := m.noTenantsFound(ctx); err != nil {
			return nil, err
		}
	}
	listed := make(map[string]bool, len(all))
	for _, id := range all {
		listed[id] = true
	}
	var unknown []string
	for _, named := range []map[string]bool{rc.only, rc.except} {
		for id := range named {
			if !listed[id] && !slices.Contains(unknown, id) {
				unknown = append(unknown, id)
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &UnknownTenantsError{Tenants: unknown}
	}
	out := make([]string, 0, len(all))
	for _, id := range all {
		if (rc.only == nil || rc.only[id]) && !rc.except[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// noTenantsFound returns a NoTenantsFoundError when schemas exist that the
// naming maps to tenant ids: the tenant source listed none of them.
func (m *Migrator) noTenantsFound(ctx context.Context) error {
	names, err := queryStrings(ctx, m.db, 1, "SELECT nspname FROM pg_catalog.pg_namespace ORDER BY nspname")
	if err != nil {
		return fmt.Errorf("migrator: listing schemas: %w", err)
	}
	var found []string
	for _, s := range names {
		if _, ok := m.naming.Tenant(s); ok {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		return nil
	}
	return &NoTenantsFoundError{Schemas: found}
}

// selected checks the run options and selects the tenants of a run.
func (m *Migrator) selected(ctx context.Context, opts []RunOption) (runConfig, []string, error) {
	rc, err := m.runConfig(opts)
	if err != nil {
		return rc, nil, err
	}
	ids, err := m.selectTenants(ctx, rc)
	return rc, ids, err
}
