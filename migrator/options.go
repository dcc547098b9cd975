package migrator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Option configures a [Migrator]. Options are checked by [New]: a bad or
// conflicting option is an error there, never a surprise during a run.
type Option func(*config) error

type config struct {
	sharedDir, tenantDir       string
	sharedDirSet, tenantDirSet bool
	goMigrations               map[Set][]GoMigration
	versionTable               string
	registryTable              string
	source                     func(ctx context.Context) ([]string, error)
	workers                    int
	allowDrop                  bool
	beforeDrop                 func(ctx context.Context, tx *sql.Tx, tenant string) error
	perMigrationCreate         bool
}

// Default folder and table names.
const (
	DefaultSharedDir     = "migrations"
	DefaultTenantDir     = "tenant_migrations"
	DefaultVersionTable  = "tenantpath_migrations"
	DefaultRegistryTable = "tenantpath_tenants"
)

// WithSharedDir sets the folder of the shared migrations inside the fs.FS
// (default "migrations"). Without this option a missing default folder means
// no shared migrations; a folder named here must exist. "" means none.
func WithSharedDir(dir string) Option {
	return func(c *config) error {
		c.sharedDir, c.sharedDirSet = dir, true
		return nil
	}
}

// WithTenantDir sets the folder of the tenant migrations inside the fs.FS
// (default "tenant_migrations"), with the same rules as [WithSharedDir].
func WithTenantDir(dir string) Option {
	return func(c *config) error {
		c.tenantDir, c.tenantDirSet = dir, true
		return nil
	}
}

// WithGoMigration adds a migration written in Go to a set. Its version must
// not be used by a file of the same set.
func WithGoMigration(s Set, m GoMigration) Option {
	return func(c *config) error {
		if m.Up == nil {
			return fmt.Errorf("migrator: Go migration %d (%s) has no Up function", m.Version, m.Name)
		}
		if m.Version <= 0 {
			return fmt.Errorf("migrator: Go migration %q: version must be positive", m.Name)
		}
		if c.goMigrations == nil {
			c.goMigrations = make(map[Set][]GoMigration)
		}
		c.goMigrations[s] = append(c.goMigrations[s], m)
		return nil
	}
}

// WithVersionTable names the version table kept in every migrated schema
// (default "tenantpath_migrations").
func WithVersionTable(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("migrator: empty version table name")
		}
		c.versionTable = name
		return nil
	}
}

// WithRegistryTable names the tenant registry table kept in the first
// shared schema (default "tenantpath_tenants").
func WithRegistryTable(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("migrator: empty registry table name")
		}
		c.registryTable = name
		return nil
	}
}

// WithTenantSource makes fn the list of tenants: typically a query over the
// application's organisations table. With it the Migrator keeps no registry
// table: Create, Rename and Drop only touch schemas, and the application
// keeps its own table in step (CreateTx lets it do both atomically).
//
// Without it, the tenants are the rows of the Migrator's registry table,
// which Create, Rename and Drop maintain.
func WithTenantSource(fn func(ctx context.Context) ([]string, error)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("migrator: nil tenant source")
		}
		c.source = fn
		return nil
	}
}

// TenantsFromQuery returns a tenant source for [WithTenantSource] that runs
// query on db and reads one tenant id from the first column of each row,
// e.g. "SELECT id FROM organisations WHERE deleted_at IS NULL". db should be
// a plain pool (or one routed with the shared scope): the query reads the
// application's own table.
func TenantsFromQuery(db *sql.DB, query string) func(ctx context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
}

// WithWorkers sets how many tenants are migrated at once by default. Without
// it the count follows the pool: db.Stats().MaxOpenConnections when set, else
// 8. Each worker holds one connection while it runs. Workers spend most of
// their time waiting for round trips, so more workers than server cores
// usually pays.
func WithWorkers(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("migrator: workers must be at least 1, got %d", n)
		}
		c.workers = n
		return nil
	}
}

// WithDrop enables [Migrator.Drop]. Without it Drop returns
// [ErrDropDisabled] and touches nothing. before, when not nil, runs inside
// the drop's transaction before the schema is dropped (to archive data, or
// to refuse: an error from it cancels the drop).
func WithDrop(before func(ctx context.Context, tx *sql.Tx, tenant string) error) Option {
	return func(c *config) error {
		c.allowDrop = true
		c.beforeDrop = before
		return nil
	}
}

// WithPerMigrationCreate makes Create run each tenant migration with its own
// statements and version row (two round trips per migration) instead of the
// default consolidated script (one round trip for all). Both are one
// transaction, all or nothing. It exists to measure the fast path against,
// and for drivers that do not send an argument-less Exec with the simple
// query protocol.
func WithPerMigrationCreate() Option {
	return func(c *config) error {
		c.perMigrationCreate = true
		return nil
	}
}

// RunOption adjusts one run over tenants (MigrateTenants, RollbackTenants,
// Status, Migrate).
type RunOption func(*runConfig)

type runConfig struct {
	only, except    map[string]bool
	continueOnError bool
	workers         int
	progress        func(Progress)
}

// Only limits the run to the given tenant ids. They are run even if the
// tenant list does not include them, so a typo is reported (as a failed
// result matching [tenantpath.ErrUnknownTenant] when no such schema exists)
// rather than silently ignored.
func Only(tenants ...string) RunOption {
	return func(r *runConfig) {
		if r.only == nil {
			r.only = make(map[string]bool)
		}
		for _, t := range tenants {
			r.only[t] = true
		}
	}
}

// Except leaves the given tenant ids out of the run.
func Except(tenants ...string) RunOption {
	return func(r *runConfig) {
		if r.except == nil {
			r.except = make(map[string]bool)
		}
		for _, t := range tenants {
			r.except[t] = true
		}
	}
}

// ContinueOnError keeps going after a tenant fails. Without it, no new
// tenant is started after the first failure (those already running finish),
// and the ones not started are listed in [PartialError.Skipped].
func ContinueOnError() RunOption {
	return func(r *runConfig) { r.continueOnError = true }
}

// Workers overrides the Migrator's worker count for one run (n >= 1).
func Workers(n int) RunOption {
	return func(r *runConfig) {
		if n >= 1 {
			r.workers = n
		}
	}
}

// OnProgress calls fn after each tenant finishes. Calls are serialised, so
// fn need not be safe for concurrent use, but it should be quick: workers
// wait for it.
func OnProgress(fn func(Progress)) RunOption {
	return func(r *runConfig) { r.progress = fn }
}

// Progress is passed to an [OnProgress] callback.
type Progress struct {
	Done, Failed, Total int
	Last                Result // the tenant that just finished
}
