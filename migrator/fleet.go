package migrator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tenantpath/tenantpath"
)

// TenantFunc is the work [Migrator.ForEachTenant] does in one tenant. tx is
// a transaction of its own on a connection whose search_path is the
// tenant's schema followed by the shared schemas, for this transaction
// only; it is READ ONLY unless the run was given [Write]. Use ctx for the
// calls on tx: it carries [tenantpath.WithBasePath], which a pool opened
// through tenantpath runs in the transaction as it is (another scope would
// be refused there). Returning an error rolls the tenant's transaction back
// and makes it the tenant's [Result.Err]; returning nil commits it.
type TenantFunc func(ctx context.Context, tenant string, tx *sql.Tx) error

// ForEachTenant runs fn once in every tenant (see [Only] and [Except]),
// several tenants at a time ([Workers]), and returns one [Result] per
// tenant started, sorted by tenant id, with a [*PartialError] when any
// failed or was not started (see [ContinueOnError]). [OnProgress] reports
// each tenant as it finishes. Results carry Tenant, Schema, Duration and
// Err; From, To and Applied stay zero.
//
// The tenant list is read and checked as for [Migrator.MigrateTenants].
// Each tenant's work holds that tenant's advisory lock in shared mode, taken
// before its transaction begins: a migration, rename or drop of the tenant
// waits until the work is done (and the work waits for them), while work in
// other tenants, and other work in the same tenant, never waits. The
// transaction checks that the schema exists once the lock is held, so fn
// never runs on the path of a schema that is gone (which would let its
// statements read the shared schemas' tables of the same names); such a
// tenant fails with an error matching [tenantpath.ErrUnknownTenant].
//
// Without [Write] each transaction is READ ONLY: the server refuses any
// write, whatever fn sends. Each worker pins one connection and, as a
// migration run does, leaves it on its base path and holding no lock.
func (m *Migrator) ForEachTenant(ctx context.Context, fn TenantFunc, opts ...RunOption) ([]Result, error) {
	if fn == nil {
		return nil, errors.New("migrator: nil TenantFunc")
	}
	ctx = onBasePath(ctx)
	rc, ids, err := m.selected(ctx, opts)
	if err != nil {
		return nil, err
	}
	return m.runWork(ctx, rc, ids, fn)
}

// runWork runs fn in every tenant of ids on the run's workers.
func (m *Migrator) runWork(ctx context.Context, rc runConfig, ids []string, fn TenantFunc) ([]Result, error) {
	return m.runDispatch(ctx, "work", ids, rc, func(d *dispatch) { m.workWorker(ctx, d, fn) })
}

// workWorker runs fn in tenants until none is left to claim, on one session
// whose shared lock moves from tenant to tenant.
func (m *Migrator) workWorker(ctx context.Context, d *dispatch, fn TenantFunc) {
	m.claimLoop(ctx, d, "work", func(s *session, tenant string) (*session, Result) {
		return m.workTenant(ctx, s, tenant, fn, d.rc.write)
	})
}

// workTenant runs fn in one tenant on s (or a new session when s is nil)
// and returns the session to use next, nil when its connection was lost.
func (m *Migrator) workTenant(ctx context.Context, s *session, id string, fn TenantFunc, write bool) (*session, Result) {
	start := time.Now()
	r := Result{Tenant: id}
	defer func() { r.Duration = time.Since(start) }()
	t, err := m.tenantTarget(id)
	if err != nil {
		r.Err = err
		return s, r
	}
	r.Schema = t.schema
	if s, err = m.shareTenant(ctx, s, t); err != nil {
		r.Err = fmt.Errorf("migrator: tenant %q: locking: %w", id, err)
		return nil, r
	}
	r.Err = inTenantTx(ctx, s.conn, t, write, func(ctx context.Context, tx *sql.Tx) error { return fn(ctx, id, tx) })
	return s, r
}

// shareTenant takes t's lock in shared mode on s, or on a new session when
// s is nil. A connection that died during the previous tenant's work (its
// statement finds it gone before sending anything) is replaced once, so
// that failure is not passed on. On error the session is discarded.
func (m *Migrator) shareTenant(ctx context.Context, s *session, t target) (*session, error) {
	reused := s != nil
	var err error
	if s == nil {
		if s, err = m.newSharedSession(ctx); err != nil {
			return nil, err
		}
	}
	err = s.take(ctx, lockKey(t.schema))
	if err != nil && reused && lostConnection(err) && ctx.Err() == nil {
		s.broken()
		if s, err = m.newSharedSession(ctx); err != nil {
			return nil, err
		}
		err = s.take(ctx, lockKey(t.schema))
	}
	if err != nil {
		s.broken()
		return nil, err
	}
	return s, nil
}

// enterTenantSQL puts a transaction on a tenant's path ($1), for the
// transaction only, and says whether its schema ($2) exists, as the
// transaction's snapshot sees it.
const enterTenantSQL = `SELECT set_config('search_path', $1, true),
       EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $2)`

// inTenantTx runs body in a transaction of its own on conn, READ ONLY
// unless write, on t's path for that transaction only. A schema that does
// not exist is an UnknownTenantError and body does not run. The caller
// holds t's lock, so the check is taken after any drop or rename that could
// race with it has committed, whatever the isolation level.
func inTenantTx(ctx context.Context, conn *sql.Conn, t target, write bool, body func(context.Context, *sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var path string
	var exists bool
	if err := tx.QueryRowContext(ctx, enterTenantSQL, t.path, t.schema).Scan(&path, &exists); err != nil {
		return err
	}
	if !exists {
		return &tenantpath.UnknownTenantError{Tenant: t.tenant, Schema: t.schema}
	}
	if err := body(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}
