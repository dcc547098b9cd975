package migrator

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/tenantpath/tenantpath"
)

// The tenant registry: a table in the first shared schema (default
// tenantpath_tenants) holding each tenant's id and schema, kept by Create,
// Rename and Drop, unless the application lists its tenants itself
// (WithTenantSource).

func (m *Migrator) registry() string {
	return tenantpath.QuoteIdentifier(m.naming.SharedSchemas()[0]) + "." + tenantpath.QuoteIdentifier(m.cfg.registryTable)
}

// ensureRegistry creates the registry table once per Migrator (under the
// shared schema's advisory lock, so concurrent creators do not collide).
func (m *Migrator) ensureRegistry(ctx context.Context) error {
	if m.cfg.source != nil {
		return nil
	}
	m.registryMu.Lock()
	defer m.registryMu.Unlock()
	if m.registryReady {
		return nil
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := m.ensureRegistryIn(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	m.registryReady = true
	return nil
}

// ensureRegistryIn creates the registry table, if missing, inside tx.
func (m *Migrator) ensureRegistryIn(ctx context.Context, tx *sql.Tx) error {
	shared := m.naming.SharedSchemas()[0]
	q := fmt.Sprintf(`SELECT %s;
CREATE SCHEMA IF NOT EXISTS %s;
CREATE TABLE IF NOT EXISTS %s (
	tenant     text PRIMARY KEY,
	schema     text NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now()
)`, xactLock(tenantpath.QuoteLiteral(lockKey(shared))), tenantpath.QuoteIdentifier(shared), m.registry())
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("migrator: creating registry table: %w", err)
	}
	return nil
}

// registerSQL records tenant's row in the registry. A registered tenant
// whose schema had gone missing is re-created: its row is kept up to date
// rather than refused.
func (m *Migrator) registerSQL(tenant, schema string) string {
	return fmt.Sprintf("INSERT INTO %s (tenant, schema) VALUES (%s, %s)\n"+
		"ON CONFLICT (tenant) DO UPDATE SET schema = EXCLUDED.schema, created_at = now()",
		m.registry(), tenantpath.QuoteLiteral(tenant), tenantpath.QuoteLiteral(schema))
}

func (m *Migrator) setRegistryReady() {
	m.registryMu.Lock()
	m.registryReady = true
	m.registryMu.Unlock()
}

func (m *Migrator) isRegistryReady() bool {
	m.registryMu.Lock()
	defer m.registryMu.Unlock()
	return m.registryReady
}

// List returns the tenants, sorted: from the [WithTenantSource] callback,
// or else from the registry (empty while the registry table does not exist;
// reading never creates it).
//
// A registry whose stored schema names the naming does not produce (it
// was written with a Prefix, and this Migrator has none, say) is an error
// matching [ErrNamingMismatch]: every tenant would be looked for in the
// wrong schema.
func (m *Migrator) List(ctx context.Context) ([]string, error) {
	ctx = onBasePath(ctx)
	var ids []string
	if m.cfg.source != nil {
		list, err := m.cfg.source(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrator: tenant source: %w", err)
		}
		ids = append(ids, list...)
	} else {
		var err error
		if ids, err = m.listRegistry(ctx); err != nil {
			return nil, err
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// listRegistry reads the registry and checks its schema names.
func (m *Migrator) listRegistry(ctx context.Context) ([]string, error) {
	pairs, err := queryStrings(ctx, m.db, 2, "SELECT tenant, schema FROM "+m.registry())
	if sqlState(err) == "42P01" { // undefined_table: no tenant created yet
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("migrator: reading the tenant registry: %w", err)
	}
	ids := make([]string, 0, len(pairs)/2)
	var stray []string
	prefix, explained := "", true
	for i := 0; i < len(pairs); i += 2 {
		id, stored := pairs[i], pairs[i+1]
		ids = append(ids, id)
		if schema, err := m.naming.Schema(id); err == nil && schema == stored {
			continue
		}
		p, ok := strings.CutSuffix(stored, id)
		explained = explained && ok && p != "" && (len(stray) == 0 || p == prefix)
		prefix = p
		stray = append(stray, stored)
	}
	if len(stray) == 0 {
		return ids, nil
	}
	sort.Strings(stray)
	if !explained {
		prefix = ""
	}
	return nil, &NamingMismatchError{Schemas: stray, Prefix: prefix}
}

// queryStrings runs query on db and returns the text of the first width
// columns of every row, row after row (width 1: one string per row). Other
// columns are read and ignored.
func queryStrings(ctx context.Context, db *sql.DB, width int, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if len(cols) < width {
		return nil, fmt.Errorf("migrator: %d column(s) in the result, want %d", len(cols), width)
	}
	dest := make([]any, len(cols))
	vals := make([]string, width)
	for i := range dest {
		if i < width {
			dest[i] = &vals[i]
		} else {
			dest[i] = new(any)
		}
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	return out, rows.Err()
}
