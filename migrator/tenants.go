package migrator

import (
	"context"
	"sync"
	"time"
)

// Report is the outcome of [Migrator.Migrate]: the shared schema first, then
// one result per tenant, then what was done to the spare tenants.
type Report struct {
	Shared  Result
	Tenants []Result
	Spares  SparesReport
}

// Migrate applies the shared migrations, then the tenant migrations in every
// tenant (see [Migrator.MigrateTenants]). If the shared migrations fail, no
// tenant is touched and the error is a [SharedError]. Run options are
// checked first: a bad one fails the call before the shared migrations run.
// The tenant list is read and checked after them (they may create the table
// a [WithTenantSource] callback reads), with the errors MigrateTenants
// returns.
//
// Without [Only] or [Except], the spare tenants ([Migrator.EnsureSpares])
// are then brought up to date too; a spare that cannot be is dropped and
// listed in Report.Spares.Failed, which does not fail the run (a spare holds
// no data). Migrate fails only if the spares could not be listed or dropped.
func (m *Migrator) Migrate(ctx context.Context, opts ...RunOption) (Report, error) {
	var rep Report
	rc, err := m.runConfig(opts)
	if err != nil {
		return rep, err
	}
	rep.Shared, err = m.MigrateShared(ctx)
	if err != nil {
		return rep, &SharedError{Err: err}
	}
	rep.Tenants, err = m.MigrateTenants(ctx, opts...)
	if rc.only != nil || rc.except != nil || ctx.Err() != nil {
		return rep, err
	}
	var serr error
	if rep.Spares, serr = m.migrateSpares(onBasePath(ctx)); serr != nil && err == nil {
		err = serr
	}
	return rep, err
}

// MigrateTenants applies the pending tenant migrations in every tenant (see
// [Only] and [Except]), several tenants at a time. Each tenant is migrated
// on one pinned connection holding that tenant's advisory lock, so a second
// Migrator (another deploy) running at the same time waits for it and then
// finds nothing left to do, while different tenants never wait for each
// other. Each migration runs in its own transaction with its version row, so
// a failing tenant stays at its last good version and other tenants are not
// affected.
//
// Before anything runs, the tenant list is read and checked: a registry
// written under another naming ([NamingMismatchError]), Only or Except ids
// that are not tenants ([UnknownTenantsError]) and an empty list while
// schemas that look like tenants exist ([NoTenantsFoundError]) are errors.
//
// It returns one result per tenant, sorted by tenant id, and a
// [*PartialError] if any tenant failed or was not started. Cancelling ctx
// stops the run cleanly: running migrations are rolled back by their
// transactions, locks are released, and tenants not started are listed as
// skipped.
func (m *Migrator) MigrateTenants(ctx context.Context, opts ...RunOption) ([]Result, error) {
	return m.forTenants(ctx, opts, m.migrateJob())
}

// RollbackTenants rolls every tenant (see [Only] and [Except]) back to tg,
// with the same checks, parallelism, locking and error reporting as
// MigrateTenants.
func (m *Migrator) RollbackTenants(ctx context.Context, tg Target, opts ...RunOption) ([]Result, error) {
	return m.forTenants(ctx, opts, m.rollbackJob(tg))
}

// forTenants runs j in every selected tenant on a bounded pool of workers.
func (m *Migrator) forTenants(ctx context.Context, opts []RunOption, j job) ([]Result, error) {
	ctx = onBasePath(ctx)
	rc, ids, err := m.selected(ctx, opts)
	if err != nil {
		return nil, err
	}
	return m.runDispatch(ctx, j.op, ids, rc, func(d *dispatch) { m.worker(ctx, d, j) })
}

// runDispatch runs work on min(workers, tenants) goroutines, each taking
// tenants from one dispatch until none is left, and returns the results of
// the tenants started, in tenant order, with a *PartialError when any
// failed or was not started. op names the run in the logs.
func (m *Migrator) runDispatch(ctx context.Context, op string, ids []string, rc runConfig, work func(*dispatch)) ([]Result, error) {
	start := time.Now()
	workers := min(rc.workers, len(ids))
	m.logRunStart(ctx, op, len(ids), workers)
	d := &dispatch{ids: ids, rc: rc, results: make([]Result, len(ids)), started: make([]bool, len(ids))}
	d.progress.Total = len(ids)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(d)
		}()
	}
	wg.Wait()
	out, perr := d.outcome()
	m.logRunEnd(ctx, op, perr, time.Since(start))
	if len(perr.Failed) == 0 && len(perr.Skipped) == 0 {
		return out, nil
	}
	perr.Cause = ctx.Err()
	return out, perr
}

// worker runs tenants until none is left to claim. It keeps one session
// (one pinned connection) for all its tenants: each run takes its tenant's
// lock and path, releasing the previous tenant's in the same statement, and
// the release at the end gives the last lock back and resets the path. A
// connection left in doubt is discarded and replaced.
func (m *Migrator) worker(ctx context.Context, d *dispatch, j job) {
	m.claimLoop(ctx, d, j.op, func(s *session, tenant string) (*session, Result) {
		return m.runTenant(ctx, s, tenant, j)
	})
}

// claimLoop claims tenants from d until none is left and runs each with
// run, on the session that run hands back from one tenant to the next,
// released at the end.
func (m *Migrator) claimLoop(ctx context.Context, d *dispatch, op string, run func(*session, string) (*session, Result)) {
	var s *session
	defer func() {
		if s != nil {
			s.release(ctx)
		}
	}()
	for {
		i, ok := d.claim(ctx)
		if !ok {
			return
		}
		var r Result
		s, r = run(s, d.ids[i])
		p := d.finish(i, r)
		m.logResult(ctx, op, r, &p)
	}
}

// runTenant runs j for one tenant on s, or on a new session when s is nil,
// and returns the session to use next (nil when its connection was lost).
func (m *Migrator) runTenant(ctx context.Context, s *session, id string, j job) (*session, Result) {
	t, err := m.tenantTarget(id)
	if err != nil {
		return s, Result{Tenant: id, Err: err}
	}
	if s == nil {
		if s, err = m.newSession(ctx); err != nil {
			return nil, Result{Tenant: id, Schema: t.schema, Err: err}
		}
	}
	reused := s.runs > 0
	r, ok := m.runSchema(ctx, s, t, j)
	if ok {
		return s, r
	}
	// The connection died during the previous tenant's run (a killed
	// backend, say): that is not this tenant's failure. Try it once on a
	// fresh connection.
	if !reused || !lostConnection(r.Err) || ctx.Err() != nil {
		return nil, r
	}
	if s, err = m.newSession(ctx); err != nil {
		return nil, r
	}
	if r, ok = m.runSchema(ctx, s, t, j); !ok {
		return nil, r
	}
	return s, r
}

// dispatch hands the tenants of a run to its workers and collects their
// results.
type dispatch struct {
	ids []string
	rc  runConfig

	mu       sync.Mutex
	results  []Result
	started  []bool
	next     int
	stop     bool // a tenant failed without ContinueOnError
	progress Progress
}

// claim returns the next tenant to run, or false when there is none, the
// run stopped after a failure, or ctx is done.
func (d *dispatch) claim(ctx context.Context) (int, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop || d.next >= len(d.ids) || ctx.Err() != nil {
		return 0, false
	}
	i := d.next
	d.next++
	d.started[i] = true
	return i, true
}

// finish records tenant i's result, reports progress and returns it.
func (d *dispatch) finish(i int, r Result) Progress {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.results[i] = r
	d.progress.Done++
	if r.Err != nil {
		d.progress.Failed++
		d.stop = d.stop || !d.rc.continueOnError
	}
	d.progress.Last = r
	if d.rc.progress != nil {
		d.rc.progress(d.progress)
	}
	return d.progress
}

// outcome returns the results of the tenants started, in tenant order, and
// the run's PartialError (empty when all succeeded).
func (d *dispatch) outcome() ([]Result, *PartialError) {
	perr := &PartialError{}
	var out []Result
	for i, id := range d.ids {
		if !d.started[i] {
			perr.Skipped = append(perr.Skipped, id)
			continue
		}
		out = append(out, d.results[i])
		if d.results[i].Err != nil {
			perr.Failed = append(perr.Failed, d.results[i])
		} else {
			perr.Succeeded++
		}
	}
	return out, perr
}
