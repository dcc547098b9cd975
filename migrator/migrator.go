package migrator

import (
	"database/sql"
	"errors"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/tenantpath/tenantpath"
)

// Migrator runs the shared and tenant migrations of one application and
// manages its tenant schemas. Build it with [New]. A Migrator is safe for
// concurrent use; two Migrators (two deploys) on one database are safe too,
// because every schema run holds that schema's advisory lock.
type Migrator struct {
	db     *sql.DB
	naming tenantpath.Naming
	cfg    config
	shared *set
	tenant *set
	log    *slog.Logger // never nil: a discarding logger without WithLogger

	registryMu    sync.Mutex
	registryReady bool

	watch watchers
}

// Result is the outcome of one schema's run: the shared schema, or a tenant.
type Result struct {
	Tenant   string // "" for the shared schema
	Schema   string
	From, To int64 // version before and after the run
	Applied  []MigrationResult
	Duration time.Duration
	Err      error // nil on success
}

// MigrationResult is one migration applied (or rolled back) in one schema.
type MigrationResult struct {
	Version  int64
	Name     string
	Down     bool
	Duration time.Duration
}

// New returns a Migrator that works on db, reads migrations from fsys, and
// maps tenants to schemas with naming (the same [tenantpath.Naming] the
// driver uses, so both agree where a tenant lives).
//
// db may use any PostgreSQL driver that sends an Exec without arguments with
// the simple query protocol (pgx's stdlib and lib/pq both do). It may be a
// plain pool or one opened through tenantpath, in any mode but one: through
// a pooler in transaction mode (PgBouncer pool_mode=transaction) the
// Migrator cannot work, with or without [tenantpath.TransactionPooling],
// because it holds session-level advisory locks and search_path on the
// connections it pins; give it a pool that reaches PostgreSQL directly or
// through a session-mode pooler. It may be shared with the application: the
// Migrator sets search_path only on connections it pins, and resets it
// before giving them back. fsys may be nil when all migrations are Go
// functions.
//
// New reads and checks every migration file: a name in neither format, a
// goose file without an Up section, a file that begins or ends a
// transaction itself or a duplicate version is an error matching
// [ErrInvalidMigration]; a migration folder that does not exist is a
// [MissingDirError] (see [WithSharedDir] for which folders must). Nothing is
// sent to the server.
func New(db *sql.DB, fsys fs.FS, naming tenantpath.Naming, opts ...Option) (*Migrator, error) {
	if db == nil {
		return nil, errors.New("migrator: nil *sql.DB")
	}
	if err := naming.Check(); err != nil {
		return nil, err
	}
	cfg := config{
		sharedDir:     DefaultSharedDir,
		tenantDir:     DefaultTenantDir,
		versionTable:  DefaultVersionTable,
		registryTable: DefaultRegistryTable,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	m := &Migrator{db: db, naming: naming, cfg: cfg, log: cfg.logger}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if m.shared, m.tenant, err = loadSets(fsys, cfg); err != nil {
		return nil, err
	}
	if len(naming.SharedSchemas()) == 0 {
		if len(m.shared.list) > 0 {
			return nil, errors.New("migrator: shared migrations need a shared schema, and the naming has none")
		}
		if cfg.source == nil {
			return nil, errors.New("migrator: the tenant registry needs a shared schema; with no shared schemas use WithTenantSource")
		}
	}
	return m, nil
}

// loadSets reads both sets. A folder named by an option must exist; a
// default folder may be missing, but not both (see WithSharedDir).
func loadSets(fsys fs.FS, cfg config) (shared, tenant *set, err error) {
	type folder struct {
		kind     Set
		dir      string
		explicit bool
		found    bool
		ms       []*migration
	}
	folders := []*folder{
		{kind: SharedSet, dir: cfg.sharedDir, explicit: cfg.sharedDirSet},
		{kind: TenantSet, dir: cfg.tenantDir, explicit: cfg.tenantDirSet},
	}
	var missing []string
	for _, f := range folders {
		if fsys == nil || f.dir == "" {
			f.found = true // nothing to look for
			continue
		}
		if f.ms, f.found, err = readSet(fsys, f.dir); err != nil {
			return nil, nil, err
		}
		if !f.found && f.explicit {
			return nil, nil, &MissingDirError{Dirs: []string{f.dir}}
		}
		if !f.found {
			missing = append(missing, f.dir)
		}
	}
	if len(missing) == len(folders) {
		return nil, nil, &MissingDirError{Dirs: missing}
	}
	sets := make([]*set, len(folders))
	for i, f := range folders {
		for _, g := range cfg.goMigrations[f.kind] {
			f.ms = append(f.ms, goMigration(g))
		}
		if sets[i], err = newSet(f.kind, f.ms); err != nil {
			return nil, nil, err
		}
	}
	return sets[0], sets[1], nil
}

func goMigration(g GoMigration) *migration {
	mig := &migration{up: g.Up, down: g.Down}
	mig.Version, mig.Name, mig.Source = g.Version, g.Name, "go:"+g.Name
	mig.HasDown = g.Down != nil
	return mig
}

// Migrations returns the migrations of a set in version order.
func (m *Migrator) Migrations(s Set) []Migration {
	st := m.setOf(s)
	out := make([]Migration, len(st.list))
	for i, mig := range st.list {
		out[i] = mig.Migration
	}
	return out
}

// Naming returns the naming the Migrator was built with.
func (m *Migrator) Naming() tenantpath.Naming { return m.naming }

func (m *Migrator) setOf(s Set) *set {
	if s == SharedSet {
		return m.shared
	}
	return m.tenant
}

// target is one schema to run a set in.
type target struct {
	tenant string // "" for shared and reserved schemas
	schema string
	path   string // quoted search_path, e.g. `"org_10", "public", "pg_temp"`
	set    *set
	// reserved marks a schema of the migrator's own (a spare, an import
	// being loaded): named with tenantpath.ReservedPrefix, never
	// registered, never created by a run.
	reserved bool
	// limit, when not 0, is the newest version to apply (an import builds
	// its tenant at the archive's version; negative: none).
	limit int64
}

// name is how messages call the target: the tenant's id, or the schema of
// a reserved or shared target.
func (t target) name() string {
	if t.tenant != "" {
		return t.tenant
	}
	return t.schema
}

func (m *Migrator) sharedTarget() target {
	shared := m.naming.SharedSchemas()
	return target{schema: shared[0], path: m.naming.SharedPath(), set: m.shared}
}

func (m *Migrator) tenantTarget(tenant string) (target, error) {
	schema, err := m.naming.Schema(tenant)
	if err != nil {
		return target{}, err
	}
	path, _ := m.naming.SearchPath(tenant)
	return target{tenant: tenant, schema: schema, path: path, set: m.tenant}, nil
}
