package reliability_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

// baseDriver opens a connector of one real PostgreSQL driver.
type baseDriver struct {
	name string
	// connector returns a connector for dsn. With txPooler set, the
	// connection is configured to survive PgBouncer's transaction pooling:
	// pgx uses QueryExecModeExec (the unnamed statement, parameters and
	// execution in one round trip, nothing cached per server connection),
	// lib/pq sends binary parameters (Parse, Bind and Execute in one round
	// trip instead of a prepare round trip first).
	connector func(t testing.TB, dsn string, txPooler bool) driver.Connector
}

var pgxDriver = baseDriver{"pgx", func(t testing.TB, dsn string, txPooler bool) driver.Connector {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if txPooler {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	return stdlib.GetConnector(*cfg)
}}

var pqDriver = baseDriver{"pq", func(t testing.TB, dsn string, txPooler bool) driver.Connector {
	if txPooler {
		dsn = withParam(t, dsn, "binary_parameters", "yes")
	}
	c, err := pq.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}}

var baseDrivers = []baseDriver{pgxDriver, pqDriver}

// forEachDriver runs fn once per base driver, as a subtest.
func forEachDriver(t *testing.T, fn func(t *testing.T, bd baseDriver)) {
	t.Helper()
	for _, bd := range baseDrivers {
		t.Run(bd.name, func(t *testing.T) { fn(t, bd) })
	}
}

// withParam returns dsn (a URL) with one query parameter set.
func withParam(t testing.TB, dsn, key, value string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
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
	return newEnvOn(t, pgtest.DSN(t), tenants...)
}

// newEnvOn is newEnv on the server at dsn.
func newEnvOn(t testing.TB, dsn string, tenants ...string) *env {
	t.Helper()
	prefix := pgtest.UniquePrefix(t)
	e := &env{
		t:      t,
		admin:  adminDB(t, dsn),
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

func (e *env) exec(query string, args ...any) {
	e.t.Helper()
	if _, err := e.admin.Exec(query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

func (e *env) schema(id string) string {
	e.t.Helper()
	s, err := e.naming.Schema(id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// addTenant creates a tenant schema whose notes table holds the tenant id.
func (e *env) addTenant(id string) {
	e.t.Helper()
	q := tenantpath.QuoteIdentifier(e.schema(id))
	e.exec(fmt.Sprintf(`CREATE SCHEMA %[1]s; CREATE TABLE %[1]s.notes (tenant text); INSERT INTO %[1]s.notes VALUES (%[2]s)`,
		q, tenantpath.QuoteLiteral(id)))
}

// open returns a tenantpath *sql.DB over bd, connected to dsn, with the
// env's naming.
// The pool is closed when t ends.
func (e *env) open(t testing.TB, bd baseDriver, dsn string, txPooler bool, opts ...tenantpath.Option) *sql.DB {
	t.Helper()
	return openWrapped(t, bd.connector(t, dsn, txPooler), append([]tenantpath.Option{tenantpath.WithNaming(e.naming)}, opts...)...)
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

func adminDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tenantsSeen lists the distinct tenants in the notes table on the path.
const tenantsSeen = "SELECT string_agg(DISTINCT tenant, ',') FROM notes"

// readTenant returns the tenants whose rows `notes` shows for ctx.
func readTenant(ctx context.Context, q querier) (string, error) {
	var got sql.NullString
	err := q.QueryRowContext(ctx, tenantsSeen).Scan(&got)
	return got.String, err
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

// counter counts one scenario's operations, reads checked, leaks and
// errors, and logs them in one line.
type counter struct {
	ops, reads, leaks, errs atomic.Int64
}

func (c *counter) summary(name string) string {
	return fmt.Sprintf("%s: %d ops, %d reads checked, %d errors, %d leaks",
		name, c.ops.Load(), c.reads.Load(), c.errs.Load(), c.leaks.Load())
}

// recorder is a connector that logs every statement its connections
// receive, so tests can see exactly what reached the base driver, and
// tracks which connections are still open.
type recorder struct {
	driver.Connector
	mu      sync.Mutex
	stmts   []string
	conns   []*recordingConn
	connect atomic.Int64

	// beforeSwitch, when set, runs with the statement's context just
	// before a path switch is forwarded to the base driver.
	beforeSwitch func(ctx context.Context)
}

func (r *recorder) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := r.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	r.connect.Add(1)
	rc := &recordingConn{Conn: c, r: r}
	r.mu.Lock()
	r.conns = append(r.conns, rc)
	r.mu.Unlock()
	return rc, nil
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

// openAfterFailedSwitch counts connections on which a switch of the path
// failed and which are still open.
func (r *recorder) openAfterFailedSwitch() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.conns {
		if c.switchFailed.Load() && !c.closed.Load() {
			n++
		}
	}
	return n
}

// failedSwitches counts the connections on which a switch failed.
func (r *recorder) failedSwitches() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.conns {
		if c.switchFailed.Load() {
			n++
		}
	}
	return n
}

// isSwitch reports whether q is one of the driver's path switches.
func isSwitch(q string) bool {
	return strings.Contains(q, "set_config('search_path'") || strings.Contains(q, "RESET search_path")
}

type recordingConn struct {
	driver.Conn
	r            *recorder
	switchFailed atomic.Bool
	closed       atomic.Bool
}

func (c *recordingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.r.add(q)
	if c.r.beforeSwitch != nil && isSwitch(q) {
		c.r.beforeSwitch(ctx)
	}
	res, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
	if err != nil && isSwitch(q) {
		c.switchFailed.Store(true)
	}
	return res, err
}

func (c *recordingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.r.add(q)
	if c.r.beforeSwitch != nil && isSwitch(q) {
		c.r.beforeSwitch(ctx)
	}
	rows, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
	if err != nil && isSwitch(q) {
		c.switchFailed.Store(true)
	}
	return rows, err
}

func (c *recordingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.r.add("PREPARE " + q)
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (c *recordingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.r.add("BEGIN")
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return recordingTx{Tx: tx, r: c.r}, nil
}

// recordingTx logs the end of a transaction begun through a recordingConn.
type recordingTx struct {
	driver.Tx
	r *recorder
}

func (t recordingTx) Commit() error   { t.r.add("COMMIT"); return t.Tx.Commit() }
func (t recordingTx) Rollback() error { t.r.add("ROLLBACK"); return t.Tx.Rollback() }

func (c *recordingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
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

func (c *recordingConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

// Unwrap returns the base driver's connection, for code that needs it.
func (c *recordingConn) Unwrap() driver.Conn { return c.Conn }
