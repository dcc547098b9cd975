package migrator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
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

	registryMu    sync.Mutex
	registryReady bool
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
// the simple query protocol (pgx's stdlib and lib/pq both do); it need not be
// wrapped by tenantpath, and may be shared with the application: the
// Migrator sets search_path only on connections it pins, and resets it before
// giving them back. fsys may be nil when all migrations are Go functions.
//
// New reads and checks every migration file: a name in neither format, a
// goose file without an Up section or a duplicate version is an error
// matching [ErrInvalidMigration], and nothing is sent to the server.
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
	m := &Migrator{db: db, naming: naming, cfg: cfg}
	var err error
	if m.shared, err = loadSet(SharedSet, fsys, cfg.sharedDir, !cfg.sharedDirSet, cfg.goMigrations[SharedSet]); err != nil {
		return nil, err
	}
	if m.tenant, err = loadSet(TenantSet, fsys, cfg.tenantDir, !cfg.tenantDirSet, cfg.goMigrations[TenantSet]); err != nil {
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

func loadSet(kind Set, fsys fs.FS, dir string, missingOK bool, gos []GoMigration) (*set, error) {
	ms, err := readSet(fsys, dir, missingOK)
	if err != nil {
		return nil, err
	}
	for _, g := range gos {
		mig := &migration{up: g.Up, down: g.Down}
		mig.Version, mig.Name, mig.Source = g.Version, g.Name, "go:"+g.Name
		mig.HasDown = g.Down != nil
		ms = append(ms, mig)
	}
	return newSet(kind, ms)
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
	tenant string // "" for shared
	schema string
	path   string // quoted search_path, e.g. `"org_10", "public"`
	set    *set
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

// table returns the quoted, schema-qualified version table of schema.
func (m *Migrator) table(schema string) string {
	return tenantpath.QuoteIdentifier(schema) + "." + tenantpath.QuoteIdentifier(m.cfg.versionTable)
}

func (m *Migrator) registry() string {
	return tenantpath.QuoteIdentifier(m.naming.SharedSchemas()[0]) + "." + tenantpath.QuoteIdentifier(m.cfg.registryTable)
}

// lockKey is the text hashed (hashtextextended) into a schema's 64-bit
// advisory lock key. The prefix keeps our keys apart from the
// application's own locks; two schemas share a key only on a 64-bit hash
// collision.
func lockKey(schema string) string { return "tenantpath.migrator:" + schema }

func (m *Migrator) createVersionTableSQL(schema string) string {
	return "CREATE TABLE IF NOT EXISTS " + m.table(schema) + ` (
	version    bigint PRIMARY KEY,
	name       text NOT NULL,
	checksum   text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	duration   interval NOT NULL
)`
}

// ensureRegistry creates the registry table once per Migrator (under the
// shared schema's advisory lock, so concurrent creators do not collide).
func (m *Migrator) ensureRegistry(ctx context.Context) error {
	if m.cfg.source != nil {
		return nil
	}
	m.registryMu.Lock()
	defer m.registryMu.Unlock()
	if m.registryReady {
		return nil
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := m.ensureRegistryIn(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	m.registryReady = true
	return nil
}

// ensureRegistryIn creates the registry table, if missing, inside tx.
func (m *Migrator) ensureRegistryIn(ctx context.Context, tx *sql.Tx) error {
	shared := m.naming.SharedSchemas()[0]
	q := fmt.Sprintf(`SELECT pg_advisory_xact_lock(hashtextextended(%s, 0));
CREATE SCHEMA IF NOT EXISTS %s;
CREATE TABLE IF NOT EXISTS %s (
	tenant     text PRIMARY KEY,
	schema     text NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now()
)`, tenantpath.QuoteLiteral(lockKey(shared)), tenantpath.QuoteIdentifier(shared), m.registry())
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("migrator: creating registry table: %w", err)
	}
	return nil
}

func (m *Migrator) setRegistryReady() {
	m.registryMu.Lock()
	m.registryReady = true
	m.registryMu.Unlock()
}

func (m *Migrator) isRegistryReady() bool {
	m.registryMu.Lock()
	defer m.registryMu.Unlock()
	return m.registryReady
}

// List returns the tenants, sorted: from the [WithTenantSource] callback,
// or else from the registry (empty while the registry table does not exist;
// reading never creates it).
func (m *Migrator) List(ctx context.Context) ([]string, error) {
	var ids []string
	if m.cfg.source != nil {
		var err error
		if ids, err = m.cfg.source(ctx); err != nil {
			return nil, fmt.Errorf("migrator: tenant source: %w", err)
		}
		ids = append([]string(nil), ids...)
	} else {
		rows, err := m.db.QueryContext(ctx, "SELECT tenant FROM "+m.registry())
		if sqlState(err) == "42P01" { // undefined_table: no tenant created yet
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("migrator: reading the tenant registry: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	sort.Strings(ids)
	return ids, nil
}
