package migrator

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/tenantpath/tenantpath"
)

// Create makes a tenant: its schema, its version table and every tenant
// migration, and (without [WithTenantSource]) its registry row. It is all or
// nothing: on any failure no schema and no registry row remain.
//
// By default the migrations travel as one consolidated script in one Exec,
// with all their version rows, inside one transaction: four round trips
// whatever the number of migrations (see [WithPerMigrationCreate]). Go
// migrations run in the same transaction between the script's parts.
// Non-transactional migrations run after the transaction commits; if one
// fails, the new schema is dropped again.
//
// A tenant whose schema already exists is refused with an error matching
// [ErrTenantExists].
func (m *Migrator) Create(ctx context.Context, tenant string) error {
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return err
	}
	if err := m.ensureRegistry(ctx); err != nil {
		return err
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := m.createIn(ctx, tx, t); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrator: creating tenant %q: %w", tenant, err)
	}
	if !m.tenant.hasNoTx {
		return nil
	}
	res := m.runOne(ctx, t, true, m.upAction)
	if res.Err == nil {
		return nil
	}
	if derr := m.dropNow(context.WithoutCancel(ctx), t, nil); derr != nil {
		return fmt.Errorf("migrator: creating tenant %q: %w (and removing the half-built schema failed: %v)", tenant, res.Err, derr)
	}
	return fmt.Errorf("migrator: creating tenant %q: %w", tenant, res.Err)
}

// CreateTx is Create inside the caller's transaction, so that for example
// "insert the organisation row" and "create its schema" commit or roll back
// together. Nothing is committed by CreateTx; the advisory lock it takes is
// released when tx ends. The search_path of tx is restored before CreateTx
// returns.
//
// tx must belong to a PostgreSQL connection. When a tenant migration is
// non-transactional CreateTx returns [ErrNonTransactional] and does nothing.
// Without [WithTenantSource], the registry table is created inside tx if it
// does not exist yet; CreateTx uses no other connection.
func (m *Migrator) CreateTx(ctx context.Context, tx *sql.Tx, tenant string) error {
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return err
	}
	if m.tenant.hasNoTx {
		return ErrNonTransactional
	}
	// The registry table, if missing, is created inside tx rather than on
	// another connection: a pool whose only connection holds tx would
	// otherwise wait for itself.
	if m.cfg.source == nil && !m.isRegistryReady() {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, m.registry()).Scan(&exists); err != nil {
			return fmt.Errorf("migrator: creating tenant %q: %w", tenant, err)
		}
		if exists {
			m.setRegistryReady()
		} else if err := m.ensureRegistryIn(ctx, tx); err != nil {
			return err
		}
	}
	return m.createIn(ctx, tx, t)
}

func (m *Migrator) createIn(ctx context.Context, tx *sql.Tx, t target) error {
	var exists bool
	var savedPath string
	err := tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $2), current_setting('search_path')
		   FROM pg_advisory_xact_lock(hashtextextended($1, 0))`,
		lockKey(t.schema), t.schema).Scan(&exists, &savedPath)
	if err != nil {
		return fmt.Errorf("migrator: creating tenant %q: %w", t.tenant, err)
	}
	if exists {
		return fmt.Errorf("%w: tenant %q (schema %q)", ErrTenantExists, t.tenant, t.schema)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "CREATE SCHEMA %s;\nSET LOCAL search_path TO %s;\n%s;\n",
		tenantpath.QuoteIdentifier(t.schema), t.path, m.createVersionTableSQL(t.schema))
	first := true
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, b.String())
		b.Reset()
		// The existence check above reads pg_namespace with a snapshot
		// taken before the lock was granted: a creator of the same
		// tenant that committed while we waited is only seen by CREATE
		// SCHEMA, the first statement of the first script, as
		// duplicate_schema.
		if first && sqlState(err) == "42P06" {
			err = fmt.Errorf("%w: tenant %q (schema %q) (%w)", ErrTenantExists, t.tenant, t.schema, err)
		}
		first = false
		return err
	}
	fail := func(mig *migration, err error) error {
		if mig == nil {
			return fmt.Errorf("migrator: creating tenant %q: %w", t.tenant, err)
		}
		return fmt.Errorf("migrator: creating tenant %q: %w", t.tenant,
			&MigrationError{Schema: t.schema, Version: mig.Version, Name: mig.Name, Err: err})
	}
	var rows []string
	for _, mig := range m.tenant.list {
		if mig.NoTx {
			break // Create runs it after commit
		}
		switch {
		case mig.isGo():
			if err := flush(); err != nil {
				return fail(nil, err)
			}
			if err := mig.up(ctx, tx); err != nil {
				return fail(mig, err)
			}
		case m.cfg.perMigrationCreate:
			if err := flush(); err != nil {
				return fail(nil, err)
			}
			if _, err := tx.ExecContext(ctx, mig.upSQL); err != nil {
				return fail(mig, err)
			}
			if _, err := tx.ExecContext(ctx, m.versionChange(t.schema, mig, false, -1)); err != nil {
				return fail(mig, err)
			}
			continue
		default:
			b.WriteString(mig.upSQL)
			b.WriteString("\n;\n")
		}
		rows = append(rows, fmt.Sprintf("(%d, %s, %s, clock_timestamp() - statement_timestamp())",
			mig.Version, tenantpath.QuoteLiteral(mig.Name), tenantpath.QuoteLiteral(mig.Checksum)))
	}
	if len(rows) > 0 {
		fmt.Fprintf(&b, "INSERT INTO %s (version, name, checksum, duration) VALUES\n%s;\n",
			m.table(t.schema), strings.Join(rows, ",\n"))
	}
	if m.cfg.source == nil {
		// A registered tenant whose schema had gone missing is
		// re-created: its row is kept up to date rather than refused.
		fmt.Fprintf(&b, "INSERT INTO %s (tenant, schema) VALUES (%s, %s)\n"+
			"ON CONFLICT (tenant) DO UPDATE SET schema = EXCLUDED.schema, created_at = now();\n",
			m.registry(), tenantpath.QuoteLiteral(t.tenant), tenantpath.QuoteLiteral(t.schema))
	}
	fmt.Fprintf(&b, "SELECT set_config('search_path', %s, true)", tenantpath.QuoteLiteral(savedPath))
	if err := flush(); err != nil {
		return fail(nil, err)
	}
	return nil
}

// Rename moves a tenant to a new id: its schema is renamed (tables, data and
// version table move with it) and its registry row follows. The old id must
// exist ([tenantpath.ErrUnknownTenant]) and the new one must not
// ([ErrTenantExists]). Both schemas' advisory locks are held, so a rename
// waits for a migration of either tenant to finish.
func (m *Migrator) Rename(ctx context.Context, oldTenant, newTenant string) error {
	from, err := m.tenantTarget(oldTenant)
	if err != nil {
		return err
	}
	to, err := m.tenantTarget(newTenant)
	if err != nil {
		return err
	}
	if err := m.ensureRegistry(ctx); err != nil {
		return err
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	keys := []string{lockKey(from.schema), lockKey(to.schema)}
	sort.Strings(keys) // one order for everyone: no deadlock between renames
	var fromExists, toExists bool
	err = tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $3),
		        EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $4)
		   FROM pg_advisory_xact_lock(hashtextextended($1, 0)) AS l1, pg_advisory_xact_lock(hashtextextended($2, 0)) AS l2`,
		keys[0], keys[1], from.schema, to.schema).Scan(&fromExists, &toExists)
	if err != nil {
		return fmt.Errorf("migrator: renaming tenant %q: %w", oldTenant, err)
	}
	if !fromExists {
		return &tenantpath.UnknownTenantError{Tenant: oldTenant, Schema: from.schema}
	}
	if toExists {
		return fmt.Errorf("%w: tenant %q (schema %q)", ErrTenantExists, newTenant, to.schema)
	}
	q := fmt.Sprintf("ALTER SCHEMA %s RENAME TO %s", tenantpath.QuoteIdentifier(from.schema), tenantpath.QuoteIdentifier(to.schema))
	if m.cfg.source == nil {
		q += fmt.Sprintf(";\nDELETE FROM %[1]s WHERE tenant = %[2]s;\nINSERT INTO %[1]s (tenant, schema) VALUES (%[3]s, %[4]s)\n"+
			"ON CONFLICT (tenant) DO UPDATE SET schema = EXCLUDED.schema",
			m.registry(), tenantpath.QuoteLiteral(oldTenant), tenantpath.QuoteLiteral(newTenant), tenantpath.QuoteLiteral(to.schema))
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		// As in Create, a rename committed while we waited for the
		// locks is seen by ALTER SCHEMA, not by the check above.
		switch sqlState(err) {
		case "42P06": // duplicate_schema
			return fmt.Errorf("%w: tenant %q (schema %q) (%w)", ErrTenantExists, newTenant, to.schema, err)
		case "3F000": // invalid_schema_name
			return &tenantpath.UnknownTenantError{Tenant: oldTenant, Schema: from.schema}
		}
		return fmt.Errorf("migrator: renaming tenant %q to %q: %w", oldTenant, newTenant, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrator: renaming tenant %q to %q: %w", oldTenant, newTenant, err)
	}
	return nil
}

// Drop removes a tenant: the before-drop hook of [WithDrop] runs, then its
// schema is dropped with everything in it and its registry row deleted, all
// in one transaction under the tenant's advisory lock. Without WithDrop it
// returns [ErrDropDisabled] and touches nothing. A tenant whose schema does
// not exist gets an error matching [tenantpath.ErrUnknownTenant].
func (m *Migrator) Drop(ctx context.Context, tenant string) error {
	if !m.cfg.allowDrop {
		return ErrDropDisabled
	}
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return err
	}
	if err := m.ensureRegistry(ctx); err != nil {
		return err
	}
	return m.dropNow(ctx, t, m.cfg.beforeDrop)
}

func (m *Migrator) dropNow(ctx context.Context, t target, before func(context.Context, *sql.Tx, string) error) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var exists bool
	err = tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $2)
		   FROM pg_advisory_xact_lock(hashtextextended($1, 0))`,
		lockKey(t.schema), t.schema).Scan(&exists)
	if err != nil {
		return fmt.Errorf("migrator: dropping tenant %q: %w", t.tenant, err)
	}
	if !exists {
		return &tenantpath.UnknownTenantError{Tenant: t.tenant, Schema: t.schema}
	}
	if before != nil {
		if err := before(ctx, tx, t.tenant); err != nil {
			return fmt.Errorf("migrator: dropping tenant %q: before-drop hook: %w", t.tenant, err)
		}
	}
	q := "DROP SCHEMA " + tenantpath.QuoteIdentifier(t.schema) + " CASCADE"
	if m.cfg.source == nil {
		q += ";\nDELETE FROM " + m.registry() + " WHERE tenant = " + tenantpath.QuoteLiteral(t.tenant)
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		if sqlState(err) == "3F000" { // dropped by someone else while we waited
			return &tenantpath.UnknownTenantError{Tenant: t.tenant, Schema: t.schema}
		}
		return fmt.Errorf("migrator: dropping tenant %q: %w", t.tenant, err)
	}
	return tx.Commit()
}

// Exists reports whether the tenant's schema exists. An invalid id is an
// error matching [tenantpath.ErrInvalidTenant].
func (m *Migrator) Exists(ctx context.Context, tenant string) (bool, error) {
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return false, err
	}
	var exists bool
	err = m.db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1)`, t.schema).Scan(&exists)
	return exists, err
}

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
	var rep CheckReport
	ids, err := m.List(ctx)
	if err != nil {
		return rep, err
	}
	rows, err := m.db.QueryContext(ctx, `SELECT nspname FROM pg_catalog.pg_namespace`)
	if err != nil {
		return rep, err
	}
	defer rows.Close()
	schemas := make(map[string]bool)
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return rep, err
		}
		schemas[s] = true
	}
	if err := rows.Err(); err != nil {
		return rep, err
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
