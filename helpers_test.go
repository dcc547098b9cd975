package tenantpath_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

// baseDriver opens a connector of one real PostgreSQL driver.
type baseDriver struct {
	name      string
	connector func(t testing.TB, dsn string) driver.Connector
}

var baseDrivers = []baseDriver{
	{"pgx", func(t testing.TB, dsn string) driver.Connector {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		return stdlib.GetConnector(*cfg)
	}},
	{"pq", func(t testing.TB, dsn string) driver.Connector {
		c, err := pq.NewConnector(dsn)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}},
}

// forEachDriver runs fn once per base driver, as a subtest.
func forEachDriver(t *testing.T, fn func(t *testing.T, bd baseDriver)) {
	t.Helper()
	for _, bd := range baseDrivers {
		t.Run(bd.name, func(t *testing.T) { fn(t, bd) })
	}
}

// env is one test's world: a unique prefix, a shared schema of its own and
// tenants whose `notes` table holds one row naming the tenant.
type env struct {
	t      testing.TB
	admin  *sql.DB
	naming tenantpath.Naming
	prefix string
}

func newEnv(t testing.TB, tenants ...string) *env {
	t.Helper()
	prefix := pgtest.UniquePrefix(t)
	e := &env{
		t:      t,
		admin:  adminDB(t),
		naming: tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "shared"}},
		prefix: prefix,
	}
	// The shared schema has a `notes` table too: an unknown tenant must
	// never read it.
	e.exec(fmt.Sprintf(`CREATE SCHEMA %[1]s; CREATE TABLE %[1]s.notes (tenant text); INSERT INTO %[1]s.notes VALUES ('shared')`,
		tenantpath.QuoteIdentifier(prefix+"shared")))
	for _, id := range tenants {
		e.addTenant(id)
	}
	return e
}

func (e *env) exec(query string) {
	e.t.Helper()
	if _, err := e.admin.Exec(query); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

// addTenant creates a tenant schema whose notes table holds the tenant id.
func (e *env) addTenant(id string) {
	e.t.Helper()
	schema, err := e.naming.Schema(id)
	if err != nil {
		e.t.Fatal(err)
	}
	q := tenantpath.QuoteIdentifier(schema)
	e.exec(fmt.Sprintf(`CREATE SCHEMA %[1]s; CREATE TABLE %[1]s.notes (tenant text); INSERT INTO %[1]s.notes VALUES (%[2]s)`,
		q, tenantpath.QuoteLiteral(id)))
}

// open returns a tenantpath *sql.DB over bd with the env's naming.
func (e *env) open(bd baseDriver, opts ...tenantpath.Option) *sql.DB {
	e.t.Helper()
	return openWrapped(e.t, bd.connector(e.t, pgtest.DSN(e.t)), append([]tenantpath.Option{tenantpath.WithNaming(e.naming)}, opts...)...)
}

func openWrapped(t testing.TB, base driver.Connector, opts ...tenantpath.Option) *sql.DB {
	t.Helper()
	db, err := tenantpath.OpenDB(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func adminDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readTenant returns what `SELECT tenant FROM notes` reads for ctx.
func readTenant(ctx context.Context, q querier) (string, error) {
	var got string
	err := q.QueryRowContext(ctx, "SELECT tenant FROM notes").Scan(&got)
	return got, err
}

func mustRead(t testing.TB, ctx context.Context, q querier, want string) {
	t.Helper()
	got, err := readTenant(ctx, q)
	if err != nil {
		t.Fatalf("reading notes for %q: %v", want, err)
	}
	if got != want {
		t.Fatalf("read notes of %q, want %q", got, want)
	}
}

func searchPath(t testing.TB, ctx context.Context, q querier) string {
	t.Helper()
	var p string
	if err := q.QueryRowContext(ctx, "SHOW search_path").Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// recorder is a connector that logs every statement its connections
// receive, so tests can see exactly what reached the server.
type recorder struct {
	driver.Connector
	mu    sync.Mutex
	stmts []string
}

func (r *recorder) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := r.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, r: r}, nil
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.stmts = append(r.stmts, s)
	r.mu.Unlock()
}

// take returns and clears the log.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stmts
	r.stmts = nil
	return s
}

// count returns how many logged statements contain substr.
func count(stmts []string, substr string) int {
	n := 0
	for _, s := range stmts {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

type recordingConn struct {
	driver.Conn
	r *recorder
}

func (c *recordingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.r.add(q)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *recordingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.r.add(q)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *recordingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.r.add("PREPARE " + q)
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (c *recordingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.r.add("BEGIN")
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *recordingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *recordingConn) ResetSession(ctx context.Context) error {
	if sr, ok := c.Conn.(driver.SessionResetter); ok {
		return sr.ResetSession(ctx)
	}
	return nil
}

func (c *recordingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}
