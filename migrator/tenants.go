package migrator

import (
	"context"
	"sort"
	"sync"
)

// Report is the outcome of [Migrator.Migrate]: the shared schema first, then
// one result per tenant.
type Report struct {
	Shared  Result
	Tenants []Result
}

// Migrate applies the shared migrations, then the tenant migrations in every
// tenant (see [Migrator.MigrateTenants]). If the shared migrations fail, no
// tenant is touched and the error is a [SharedError].
func (m *Migrator) Migrate(ctx context.Context, opts ...RunOption) (Report, error) {
	var rep Report
	var err error
	rep.Shared, err = m.MigrateShared(ctx)
	if err != nil {
		return rep, &SharedError{Err: err}
	}
	rep.Tenants, err = m.MigrateTenants(ctx, opts...)
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
// It returns one result per tenant, sorted by tenant id, and a
// [*PartialError] if any tenant failed or was not started. Cancelling ctx
// stops the run cleanly: running migrations are rolled back by their
// transactions, locks are released, and tenants not started are listed as
// skipped.
func (m *Migrator) MigrateTenants(ctx context.Context, opts ...RunOption) ([]Result, error) {
	return m.forTenants(ctx, opts, true, m.upAction)
}

// RollbackTenants rolls every tenant (see [Only] and [Except]) back to tg,
// with the same parallelism, locking and error reporting as MigrateTenants.
func (m *Migrator) RollbackTenants(ctx context.Context, tg Target, opts ...RunOption) ([]Result, error) {
	return m.forTenants(ctx, opts, false, m.downAction(tg))
}

func (m *Migrator) runConfig(opts []RunOption) runConfig {
	var rc runConfig
	for _, o := range opts {
		o(&rc)
	}
	if rc.workers == 0 {
		rc.workers = m.cfg.workers
	}
	if rc.workers == 0 {
		rc.workers = m.db.Stats().MaxOpenConnections
	}
	if rc.workers == 0 {
		rc.workers = 8
	}
	return rc
}

// selectTenants lists the tenants of a run: the source filtered by Only and
// Except. Only ids that are not listed are kept, so they are reported (as
// unknown tenants) rather than dropped.
func (m *Migrator) selectTenants(ctx context.Context, rc runConfig) ([]string, error) {
	all, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	if rc.only != nil {
		for id := range rc.only {
			out = append(out, id)
		}
		sort.Strings(out)
	} else {
		out = all
	}
	if rc.except != nil {
		kept := out[:0:0]
		for _, id := range out {
			if !rc.except[id] {
				kept = append(kept, id)
			}
		}
		out = kept
	}
	return out, nil
}

func (m *Migrator) forTenants(ctx context.Context, opts []RunOption, create bool, act action) ([]Result, error) {
	rc := m.runConfig(opts)
	ids, err := m.selectTenants(ctx, rc)
	if err != nil {
		return nil, err
	}
	results := make([]Result, len(ids))
	started := make([]bool, len(ids))

	var (
		mu       sync.Mutex
		progress = Progress{Total: len(ids)}
		stop     bool
	)
	finish := func(i int, r Result) {
		mu.Lock()
		defer mu.Unlock()
		results[i] = r
		progress.Done++
		if r.Err != nil {
			progress.Failed++
			if !rc.continueOnError {
				stop = true
			}
		}
		if rc.progress != nil {
			progress.Last = r
			rc.progress(progress)
		}
	}
	next := 0
	claim := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if stop || next >= len(ids) || ctx.Err() != nil {
			return 0, false
		}
		i := next
		next++
		started[i] = true
		return i, true
	}

	workers := min(rc.workers, len(ids))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A worker keeps one session (one pinned connection) for
			// all its tenants: each run takes its tenant's lock and
			// path, releasing the previous tenant's in the same
			// statement; release at the end gives the last lock back
			// and resets the path. A connection left in doubt is
			// discarded and replaced.
			var s *session
			defer func() {
				if s != nil {
					s.release(ctx)
				}
			}()
			for {
				i, ok := claim()
				if !ok {
					return
				}
				t, err := m.tenantTarget(ids[i])
				if err != nil {
					finish(i, Result{Tenant: ids[i], Err: err})
					continue
				}
				if s == nil {
					if s, err = m.newSession(ctx); err != nil {
						s = nil
						finish(i, Result{Tenant: t.tenant, Schema: t.schema, Err: err})
						continue
					}
				}
				reused := s.runs > 0
				r, ok := m.runSchema(ctx, s, t, create, act)
				if !ok {
					s = nil
					// The connection died during the previous
					// tenant's run (a killed backend, say): that
					// is not this tenant's failure. Try it once on
					// a fresh connection.
					if reused && lostConnection(r.Err) && ctx.Err() == nil {
						if s, err = m.newSession(ctx); err != nil {
							s = nil
						} else if r, ok = m.runSchema(ctx, s, t, create, act); !ok {
							s = nil
						}
					}
				}
				finish(i, r)
			}
		}()
	}
	wg.Wait()

	perr := &PartialError{}
	var out []Result
	for i, id := range ids {
		if !started[i] {
			perr.Skipped = append(perr.Skipped, id)
			continue
		}
		out = append(out, results[i])
		if results[i].Err != nil {
			perr.Failed = append(perr.Failed, results[i])
		} else {
			perr.Succeeded++
		}
	}
	if len(perr.Failed) == 0 && len(perr.Skipped) == 0 {
		return out, nil
	}
	perr.Cause = ctx.Err()
	return out, perr
}
