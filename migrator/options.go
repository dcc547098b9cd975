package migrator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
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
	logger                     *slog.Logger
}

// Default folder and table names.
const (
	DefaultSharedDir     = "migrations"
	DefaultTenantDir     = "tenant_migrations"
	DefaultVersionTable  = "tenantpath_migrations"
	DefaultRegistryTable = "tenantpath_tenants"
)

// WithSharedDir sets the folder of the shared migrations inside the fs.FS
// (default "migrations"). A folder named here must exist, or [New] fails
// with a [MissingDirError]; "" means no shared migrations from files.
// Without this option (or [WithTenantDir]) a missing default folder means
// no migrations of that set, unless neither default folder exists: then
// the fs.FS is most likely rooted at the wrong folder, and New fails with a
// MissingDirError naming both.
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
// application's organisations table. fn is called with a context derived
// from the caller's that carries [tenantpath.WithBasePath], so a query it
// sends through a pool opened through tenantpath runs as it would on a
// plain pool, whatever scope the caller's context named. With it the Migrator keeps no registry
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
// plain pool or one opened through tenantpath: the Migrator calls its
// source with a context carrying [tenantpath.WithBasePath], so the query
// runs on the connection's base search_path either way (qualify the table,
// e.g. app.organisations, if that path does not find it).
func TenantsFromQuery(db *sql.DB, query string) func(ctx context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		return queryStrings(ctx, db, 1, query)
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
// to refuse: an error from it cancels the drop). Its ctx carries
// [tenantpath.WithBasePath], as for a [TxFunc]; qualify the tenant's tables
// with its schema.
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

// WithLogger makes the Migrator report to logger: at Info each run's start
// (what, how many tenants, how many workers) and end (counts and
// duration), each schema's result (tenant, schema, versions from and to,
// migrations applied, duration and, in a run over many tenants, its
// progress: done, failed_so_far and total) and each tenant created,
// renamed or dropped; at Error each schema that failed, with the cause; at
// Debug each schema's start. Every record about a schema carries its tenant and
// schema. Pass the application's logger (the one tenanthttp and the driver
// log to) to read them all in one place. Without this option the Migrator
// logs nothing. A nil logger is an error.
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) error {
		if logger == nil {
			return errors.New("migrator: nil logger")
		}
		c.logger = logger
		return nil
	}
}
