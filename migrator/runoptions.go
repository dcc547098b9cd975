package migrator

import "fmt"

// RunOption adjusts one run over tenants (MigrateTenants, RollbackTenants,
// Migrate, Status, ForEachTenant, QueryTenants). A bad option fails the call
// before anything is sent.
type RunOption func(*runConfig) error

type runConfig struct {
	only, except    map[string]bool
	continueOnError bool
	workers         int
	progress        func(Progress)
	write           bool
}

// Only limits the run to the given tenant ids. Every one of them must be in
// the tenant list: an id that is not makes the call fail with an
// [UnknownTenantsError] before anything runs, so a typo is never silently
// ignored. (To run one tenant the list does not hold, use
// [Migrator.MigrateTenant].)
func Only(tenants ...string) RunOption {
	return func(r *runConfig) error {
		r.only = addIDs(r.only, tenants)
		return nil
	}
}

// Except leaves the given tenant ids out of the run. Like [Only], it
// refuses ids that are not in the tenant list.
func Except(tenants ...string) RunOption {
	return func(r *runConfig) error {
		r.except = addIDs(r.except, tenants)
		return nil
	}
}

func addIDs(set map[string]bool, ids []string) map[string]bool {
	if set == nil {
		set = make(map[string]bool)
	}
	for _, id := range ids {
		set[id] = true
	}
	return set
}

// ContinueOnError keeps going after a tenant fails. Without it, no new
// tenant is started after the first failure (those already running finish),
// and the ones not started are listed in [PartialError.Skipped].
func ContinueOnError() RunOption {
	return func(r *runConfig) error {
		r.continueOnError = true
		return nil
	}
}

// Workers overrides the Migrator's worker count for one run. n must be at
// least 1, as for [WithWorkers]; otherwise the call fails before anything
// is sent.
func Workers(n int) RunOption {
	return func(r *runConfig) error {
		if n < 1 {
			return fmt.Errorf("migrator: workers must be at least 1, got %d", n)
		}
		r.workers = n
		return nil
	}
}

// OnProgress calls fn after each tenant finishes. Calls are serialised, so
// fn need not be safe for concurrent use, but it should be quick: workers
// wait for it.
func OnProgress(fn func(Progress)) RunOption {
	return func(r *runConfig) error {
		r.progress = fn
		return nil
	}
}

// Write lets the work of [Migrator.ForEachTenant] and
// [Migrator.QueryTenants] write: each tenant's transaction is then READ
// WRITE. Without it that transaction is READ ONLY, so the server itself
// refuses any write (SQLSTATE 25006) whatever the SQL says. Runs that
// migrate or report ignore it.
func Write() RunOption {
	return func(r *runConfig) error {
		r.write = true
		return nil
	}
}

// Progress is passed to an [OnProgress] callback.
type Progress struct {
	Done, Failed, Total int
	Last                Result // the tenant that just finished
}

// runConfig applies opts over the Migrator's defaults. Without a worker
// count from Workers or WithWorkers, it follows the pool:
// db.Stats().MaxOpenConnections when set, else 8.
func (m *Migrator) runConfig(opts []RunOption) (runConfig, error) {
	var rc runConfig
	for _, o := range opts {
		if err := o(&rc); err != nil {
			return rc, err
		}
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
	return rc, nil
}
