package migrator

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tenantpath/tenantpath"
)

// createIn builds tenant t inside tx: under the schema's transaction lock,
// it refuses an existing schema, then sends the schema, its version table,
// every transactional tenant migration with their version rows and the
// registry row as consolidated scripts (split only around Go migrations,
// or per migration with WithPerMigrationCreate), and finally puts back the
// transaction's search_path.
func (m *Migrator) createIn(ctx context.Context, tx *sql.Tx, t target) error {
	var exists bool
	var savedPath string
	err := tx.QueryRowContext(ctx, xactLockedSelect(
		`EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $2), current_setting('search_path')`, 1),
		lockKey(t.schema), t.schema).Scan(&exists, &savedPath)
	if err != nil {
		return fmt.Errorf("migrator: creating tenant %q: %w", t.name(), err)
	}
	if exists {
		return fmt.Errorf("%w: tenant %q (schema %q)", ErrTenantExists, t.name(), t.schema)
	}
	sc := &createScript{m: m, tx: tx, t: t, first: true}
	fmt.Fprintf(&sc.b, "CREATE SCHEMA %s;\nSET LOCAL search_path TO %s;\n%s;\n",
		tenantpath.QuoteIdentifier(t.schema), t.path, m.createVersionTableSQL(t.schema))
	for _, mig := range m.tenant.list {
		if t.limit != 0 && mig.Version > t.limit {
			break
		}
		if mig.NoTx {
			break // Create runs it after commit
		}
		if err := sc.add(ctx, mig); err != nil {
			return err
		}
	}
	if len(sc.rows) > 0 {
		sc.b.WriteString(m.insertVersionsSQL(t.schema, sc.rows) + ";\n")
	}
	if m.cfg.source == nil && !t.reserved {
		sc.b.WriteString(m.registerSQL(t.tenant, t.schema) + ";\n")
	}
	fmt.Fprintf(&sc.b, "SELECT set_config('search_path', %s, true)", tenantpath.QuoteLiteral(savedPath))
	return sc.flush(ctx)
}

// createScript collects the statements of a Create into as few Execs as
// possible.
type createScript struct {
	m     *Migrator
	tx    *sql.Tx
	t     target
	b     strings.Builder
	rows  []string // version rows still to insert, as VALUES tuples
	first bool     // nothing sent yet
}

// add adds one transactional migration: SQL to the script, a Go migration
// run between two scripts, or, per migration, two Execs of its own.
func (sc *createScript) add(ctx context.Context, mig *migration) error {
	switch {
	case mig.isGo():
		if err := sc.flush(ctx); err != nil {
			return err
		}
		if err := mig.up(ctx, sc.tx); err != nil {
			return sc.fail(mig, err)
		}
		if _, err := sc.tx.ExecContext(ctx, sc.pathAgain()); err != nil {
			return sc.fail(mig, err)
		}
	case sc.m.cfg.perMigrationCreate:
		if err := sc.flush(ctx); err != nil {
			return err
		}
		if _, err := sc.tx.ExecContext(ctx, mig.upSQL); err != nil {
			return sc.fail(mig, err)
		}
		if _, err := sc.tx.ExecContext(ctx, sc.pathAgain()+";\n"+sc.m.versionChange(sc.t.schema, mig, false, -1)); err != nil {
			return sc.fail(mig, err)
		}
		return nil
	default:
		sc.b.WriteString(mig.upSQL)
		sc.b.WriteString("\n;\n" + sc.pathAgain() + ";\n")
	}
	sc.rows = append(sc.rows, versionValues(mig, -1))
	return nil
}

// pathAgain sets the tenant's path again after a migration: all of
// Create's migrations run in one transaction, and one that sets the path
// for its transaction (SET LOCAL) must not move the next one.
func (sc *createScript) pathAgain() string {
	return "SET LOCAL search_path TO " + sc.t.path
}

// flush sends what the script holds.
func (sc *createScript) flush(ctx context.Context) error {
	if sc.b.Len() == 0 {
		return nil
	}
	_, err := sc.tx.ExecContext(ctx, sc.b.String())
	sc.b.Reset()
	// The existence check reads pg_namespace with a snapshot taken before
	// the lock was granted: a creator of the same tenant that committed
	// while we waited is only seen by CREATE SCHEMA, the first statement
	// of the first script, as duplicate_schema.
	if sc.first && sqlState(err) == "42P06" {
		err = fmt.Errorf("%w: tenant %q (schema %q) (%w)", ErrTenantExists, sc.t.name(), sc.t.schema, err)
	}
	sc.first = false
	if err != nil {
		return sc.fail(nil, err)
	}
	return nil
}

// fail wraps err, naming the migration that failed when it is known.
func (sc *createScript) fail(mig *migration, err error) error {
	if mig == nil {
		return fmt.Errorf("migrator: creating tenant %q: %w", sc.t.name(), err)
	}
	return fmt.Errorf("migrator: creating tenant %q: %w", sc.t.name(),
		&MigrationError{Schema: sc.t.schema, Version: mig.Version, Name: mig.Name, Err: err})
}
