package migrator_test

import (
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/migrator"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is one test's isolated world: its own schema prefix, a shared schema
// under that prefix (so the registry and shared version table are private
// to the test), and a pool.
type env struct {
	t      testing.TB
	db     *sql.DB
	naming tenantpath.Naming
	prefix string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	prefix := pgtest.UniquePrefix(t)
	db := openDB(t, "pgx")
	return &env{
		t:      t,
		db:     db,
		prefix: prefix,
		naming: tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "shared", "public"}},
	}
}

func openDB(t testing.TB, driverName string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driverName, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	t.Cleanup(func() { db.Close() })
	return db
}

func (e *env) migrator(fsys fs.FS, opts ...migrator.Option) *migrator.Migrator {
	e.t.Helper()
	return e.migratorOn(e.db, fsys, opts...)
}

func (e *env) migratorOn(db *sql.DB, fsys fs.FS, opts ...migrator.Option) *migrator.Migrator {
	e.t.Helper()
	m, err := migrator.New(db, fsys, e.naming, opts...)
	if err != nil {
		e.t.Fatalf("migrator.New: %v", err)
	}
	return m
}

func (e *env) schema(tenant string) string { return e.prefix + tenant }

func (e *env) shared() string { return e.prefix + "shared" }

// versions returns the versions recorded in a schema's version table.
func (e *env) versions(schema string) []int64 {
	e.t.Helper()
	rows, err := e.db.Query(fmt.Sprintf("SELECT version FROM %s.tenantpath_migrations ORDER BY version",
		tenantpath.QuoteIdentifier(schema)))
	if err != nil {
		e.t.Fatalf("reading versions of %s: %v", schema, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func (e *env) hasColumn(schema, table, column string) bool {
	e.t.Helper()
	var ok bool
	err := e.db.QueryRow(`SELECT EXISTS (SELECT FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2 AND column_name = $3)`, schema, table, column).Scan(&ok)
	if err != nil {
		e.t.Fatal(err)
	}
	return ok
}

func (e *env) schemaExists(schema string) bool {
	e.t.Helper()
	var ok bool
	if err := e.db.QueryRow(`SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&ok); err != nil {
		e.t.Fatal(err)
	}
	return ok
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Exec(q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

// strings runs q and returns its one text column.
func (e *env) strings(q string, args ...any) []string {
	e.t.Helper()
	rows, err := e.db.Query(q, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// basicFS is a modest migration set: goose-style shared migrations and
// golang-migrate-style tenant migrations.
func basicFS() fstest.MapFS {
	return fstest.MapFS{
		"migrations/0001_orgs.sql": {Data: []byte(`-- +goose Up
CREATE TABLE organisations (id text PRIMARY KEY, name text NOT NULL);
-- +goose Down
DROP TABLE organisations;
`)},
		"tenant_migrations/0001_users.up.sql":   {Data: []byte("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);\n")},
		"tenant_migrations/0001_users.down.sql": {Data: []byte("DROP TABLE users;\n")},
		"tenant_migrations/0002_posts.up.sql": {Data: []byte(`CREATE TABLE posts (
	id bigserial PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id),
	body text NOT NULL DEFAULT ';' -- a semicolon in a string
);
CREATE INDEX posts_user ON posts (user_id);`)},
		"tenant_migrations/0002_posts.down.sql": {Data: []byte("DROP TABLE posts;\n")},
	}
}

// withFile returns a copy of fsys with one file added or replaced.
func withFile(fsys fstest.MapFS, name, data string) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range fsys {
		out[k] = v
	}
	out[name] = &fstest.MapFile{Data: []byte(data)}
	return out
}

// newCountingDB opens a plain pgx pool whose statements are recorded (see
// tptest.Recorder): Exec, Query, Begin, Commit, Rollback, each a round trip.
func newCountingDB(t testing.TB) (*sql.DB, *tptest.Recorder) {
	t.Helper()
	return newDelayedDB(t, 0)
}

// newDelayedDB is newCountingDB with delay added to every statement, to
// measure what round trips cost when the server is not on the same host.
func newDelayedDB(t testing.TB, delay time.Duration) (*sql.DB, *tptest.Recorder) {
	t.Helper()
	cfg, err := pgx.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	c := &tptest.Recorder{Connector: stdlib.GetConnector(*cfg), Delay: delay}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	t.Cleanup(func() { db.Close() })
	return db, c
}

func fstestOf(files map[string]string) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range files {
		out[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return out
}

func sortedIDs(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

// locksHeld counts the migrator's advisory locks held on this test's
// schemas (the key is hashtextextended('tenantpath.migrator:' || schema, 0),
// which pg_locks shows split into classid, the high half, and objid).
// waitLocksReleased fails the test unless the tenants' advisory locks are
// all released within a few seconds: a backend whose connection was
// discarded (after a cancellation, say) gives its locks back as it exits,
// which may be a moment after its client closed it.
func (e *env) waitLocksReleased() {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.locksHeld() != 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d advisory locks left", e.locksHeld())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) locksHeld() int {
	e.t.Helper()
	return e.count(`
SELECT count(*)
  FROM pg_locks l
  JOIN pg_namespace n ON starts_with(n.nspname, $1)
 CROSS JOIN LATERAL (SELECT hashtextextended('tenantpath.migrator:' || n.nspname, 0) AS k) h
 WHERE l.locktype = 'advisory'
   AND l.classid::bigint = (h.k >> 32) & 4294967295
   AND l.objid::bigint = h.k & 4294967295`, e.prefix)
}
