package migrator

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"

	"github.com/tenantpath/tenantpath"
)

// Create makes a tenant: its schema, its version table and every tenant
// migration, and (without [WithTenantSource]) its registry row. It is all or
// nothing: on any failure no schema and no registry row remain.
//
// When a spare tenant is free (see [Migrator.EnsureSpares]), Create claims
// it instead: one statement renames the spare to the tenant's schema and
// registers it, under the tenant's advisory lock; the spare's whole history
// must match the migration files, or it is not taken. When none is free
// that statement costs one round trip, and Create builds the tenant.
//
// By default the migrations travel as one consolidated script in one Exec,
// with all their version rows, inside one transaction: four round trips
// whatever the number of migrations (see [WithPerMigrationCreate]). Go
// migrations run in the same transaction between the script's parts.
// Non-transactional migrations run after the transaction commits; if one
// fails, the new schema is dropped again.
//
// A tenant whose schema already exists is refused with an error matching
// [ErrTenantExists]. Functions registered with [Migrator.Watch] are told of
// the new tenant once it is complete.
func (m *Migrator) Create(ctx context.Context, tenant string) error {
	ctx = onBasePath(ctx)
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return err
	}
	if err := m.ensureRegistry(ctx); err != nil {
		return err
	}
	claimed, err := m.claimOne(ctx, t, m.sparePattern(), m.spareFingerprint())
	if err != nil {
		return err
	}
	if claimed {
		m.logChange(ctx, "migrator: tenant created from a spare", t.tenant, t.schema)
		m.watch.notify(tenant, true)
		return nil
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
	if m.tenant.hasNoTx {
		if err := m.finishCreate(ctx, t); err != nil {
			return err
		}
	}
	m.logChange(ctx, "migrator: tenant created", t.tenant, t.schema)
	m.watch.notify(tenant, true)
	return nil
}

// finishCreate runs the non-transactional migrations of a tenant just
// created, and drops it again if they fail.
func (m *Migrator) finishCreate(ctx context.Context, t target) error {
	res := m.runOne(ctx, t, m.migrateJob())
	if res.Err == nil {
		return nil
	}
	if derr := m.dropNow(context.WithoutCancel(ctx), t, nil); derr != nil {
		return fmt.Errorf("migrator: creating tenant %q: %w (and removing the half-built schema failed: %v)", t.name(), res.Err, derr)
	}
	return fmt.Errorf("migrator: creating tenant %q: %w", t.name(), res.Err)
}

// CreateTx is Create inside the caller's transaction, so that for example
// "insert the organisation row" and "create its schema" commit or roll back
// together. Nothing is committed by CreateTx; the advisory lock it takes is
// released when tx ends. The search_path of tx is restored before CreateTx
// returns.
//
// tx must belong to a PostgreSQL connection. It may have been begun on a
// pool opened through tenantpath with any scope (the shared scope, to
// insert the organisation row, is typical): CreateTx sends its statements
// with [tenantpath.WithBasePath], which the driver runs in the
// transaction's own scope. Without [WithTenantSource], the registry table
// is created inside tx if it does not exist yet; CreateTx uses no other
// connection.
//
// Like Create, CreateTx first claims a free spare tenant, inside tx (two
// statements; tx stays usable whatever they find). When none is free it
// builds the tenant, unless a tenant migration is non-transactional: it
// then returns [ErrNonTransactional] and tx holds nothing of the tenant.
//
// Functions registered with [Migrator.Watch] are told of the tenant when
// CreateTx returns without error, before the caller commits: if tx then
// rolls back, the tenant does not exist after all, and the driver answers
// calls for it with [tenantpath.ErrUnknownTenant].
func (m *Migrator) CreateTx(ctx context.Context, tx *sql.Tx, tenant string) error {
	ctx = onBasePath(ctx)
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return err
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
	outcome, err := m.claimInTx(ctx, tx, t)
	if err != nil {
		return err
	}
	if outcome == claimClaimed {
		m.logChange(ctx, "migrator: tenant created from a spare in the caller's transaction", t.tenant, t.schema)
		m.watch.notify(tenant, true)
		return nil
	}
	if m.tenant.hasNoTx {
		return ErrNonTransactional
	}
	if err := m.createIn(ctx, tx, t); err != nil {
		return err
	}
	m.logChange(ctx, "migrator: tenant created in the caller's transaction", t.tenant, t.schema)
	m.watch.notify(tenant, true)
	return nil
}

// Rename moves a tenant to a new id: its schema is renamed (tables, data and
// version table move with it) and its registry row follows. The old id must
// exist ([tenantpath.ErrUnknownTenant]) and the new one must not
// ([ErrTenantExists]). Both schemas' advisory locks are held, so a rename
// waits for a migration of either tenant to finish. Functions registered
// with [Migrator.Watch] are told (old, false), then (new, true).
func (m *Migrator) Rename(ctx context.Context, oldTenant, newTenant string) error {
	ctx = onBasePath(ctx)
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
	if err := m.rename(ctx, from, to); err != nil {
		return err
	}
	m.logChange(ctx, "migrator: tenant renamed", to.tenant, to.schema,
		slog.String("old_tenant", from.tenant), slog.String("old_schema", from.schema))
	m.watch.notify(oldTenant, false)
	m.watch.notify(newTenant, true)
	return nil
}

func (m *Migrator) rename(ctx context.Context, from, to target) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	keys := []string{lockKey(from.schema), lockKey(to.schema)}
	sort.Strings(keys) // one order for everyone: no deadlock between renames
	var fromExists, toExists bool
	err = tx.QueryRowContext(ctx, xactLockedSelect(
		`EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $3),
		 EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $4)`, 2),
		keys[0], keys[1], from.schema, to.schema).Scan(&fromExists, &toExists)
	if err != nil {
		return fmt.Errorf("migrator: renaming tenant %q: %w", from.tenant, err)
	}
	if !fromExists {
		return &tenantpath.UnknownTenantError{Tenant: from.tenant, Schema: from.schema}
	}
	if toExists {
		return fmt.Errorf("%w: tenant %q (schema %q)", ErrTenantExists, to.tenant, to.schema)
	}
	q := fmt.Sprintf("ALTER SCHEMA %s RENAME TO %s", tenantpath.QuoteIdentifier(from.schema), tenantpath.QuoteIdentifier(to.schema))
	if m.cfg.source == nil {
		q += fmt.Sprintf(";\nDELETE FROM %[1]s WHERE tenant = %[2]s;\nINSERT INTO %[1]s (tenant, schema) VALUES (%[3]s, %[4]s)\n"+
			"ON CONFLICT (tenant) DO UPDATE SET schema = EXCLUDED.schema",
			m.registry(), tenantpath.QuoteLiteral(from.tenant), tenantpath.QuoteLiteral(to.tenant), tenantpath.QuoteLiteral(to.schema))
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		// As in Create, a rename committed while we waited for the
		// locks is seen by ALTER SCHEMA, not by the check above.
		switch sqlState(err) {
		case "42P06": // duplicate_schema
			return fmt.Errorf("%w: tenant %q (schema %q) (%w)", ErrTenantExists, to.tenant, to.schema, err)
		case "3F000": // invalid_schema_name
			return &tenantpath.UnknownTenantError{Tenant: from.tenant, Schema: from.schema}
		}
		return fmt.Errorf("migrator: renaming tenant %q to %q: %w", from.tenant, to.tenant, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrator: renaming tenant %q to %q: %w", from.tenant, to.tenant, err)
	}
	return nil
}

// Drop removes a tenant: the before-drop hook of [WithDrop] runs, then its
// schema is dropped with everything in it and its registry row deleted, all
// in one transaction under the tenant's advisory lock. Without WithDrop it
// returns [ErrDropDisabled] and touches nothing. A tenant whose schema does
// not exist gets an error matching [tenantpath.ErrUnknownTenant]. Functions
// registered with [Migrator.Watch] are told (tenant, false) once it is gone.
func (m *Migrator) Drop(ctx context.Context, tenant string) error {
	if !m.cfg.allowDrop {
		return ErrDropDisabled
	}
	ctx = onBasePath(ctx)
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return err
	}
	return m.drop(ctx, t, m.cfg.beforeDrop)
}

// drop drops tenant t with before as its hook, logs it and tells the
// watchers.
func (m *Migrator) drop(ctx context.Context, t target, before func(context.Context, *sql.Tx, string) error) error {
	if err := m.ensureRegistry(ctx); err != nil {
		return err
	}
	if err := m.dropNow(ctx, t, before); err != nil {
		return err
	}
	m.logChange(ctx, "migrator: tenant dropped", t.tenant, t.schema)
	m.watch.notify(t.tenant, false)
	return nil
}

func (m *Migrator) dropNow(ctx context.Context, t target, before func(context.Context, *sql.Tx, string) error) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var exists bool
	err = tx.QueryRowContext(ctx, xactLockedSelect(`EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $2)`, 1),
		lockKey(t.schema), t.schema).Scan(&exists)
	if err != nil {
		return fmt.Errorf("migrator: dropping tenant %q: %w", t.name(), err)
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
	if m.cfg.source == nil && !t.reserved {
		q += ";\nDELETE FROM " + m.registry() + " WHERE tenant = " + tenantpath.QuoteLiteral(t.tenant)
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		if sqlState(err) == "3F000" { // dropped by someone else while we waited
			return &tenantpath.UnknownTenantError{Tenant: t.tenant, Schema: t.schema}
		}
		return fmt.Errorf("migrator: dropping tenant %q: %w", t.name(), err)
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
	err = m.db.QueryRowContext(onBasePath(ctx),
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1)`, t.schema).Scan(&exists)
	return exists, err
}
