// Package tptest holds the helpers shared by the tests of the tenantpath
// package and of the reliability suite: the real base drivers to run
// against, a per-test world of tenant schemas, a connector that records what
// reaches the base driver, and the concurrency workload that checks every
// read sees only the tenant it asked for.
//
// It is imported by tests only; no code that ships may import it. The
// server behind it is the one [pgtest.Main] starts for the test binary.
package tptest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

// Driver opens a connector of one real PostgreSQL driver.
type Driver struct {
	// Name is the driver's short name, "pgx" or "pq", used in subtest
	// names and log lines.
	Name string
	// Connector returns a connector for dsn. With txPooler set, the
	// connection is configured to survive PgBouncer's transaction pooling:
	// pgx uses QueryExecModeExec (the unnamed statement, parameters and
	// execution in one round trip, nothing cached per server connection),
	// lib/pq sends binary parameters (Parse, Bind and Execute in one round
	// trip instead of a prepare round trip first).
	Connector func(t testing.TB, dsn string, txPooler bool) driver.Connector
}

// PGX is jackc/pgx through its database/sql adapter.
var PGX = Driver{"pgx", func(t testing.TB, dsn string, txPooler bool) driver.Connector {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if txPooler {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	return stdlib.GetConnector(*cfg)
}}

// PGXWire is pgx through tenantpgx.GetConnector: the switch travels in the
// same network write as the statement.
var PGXWire = Driver{"pgx-wire", func(t testing.TB, dsn string, txPooler bool) driver.Connector {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if txPooler {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	return tenantpgx.GetConnector(*cfg)
}}

// PQ is lib/pq.
var PQ = Driver{"pq", func(t testing.TB, dsn string, txPooler bool) driver.Connector {
	if txPooler {
		dsn = WithParam(t, dsn, "binary_parameters", "yes")
	}
	c, err := pq.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}}

// Drivers lists every base driver the tests run against.
var Drivers = []Driver{PGX, PGXWire, PQ}

// ForEachDriver runs fn once per base driver, as a subtest named after it.
func ForEachDriver(t *testing.T, fn func(t *testing.T, d Driver)) {
	t.Helper()
	ForDrivers(t, Drivers, fn)
}

// ForDrivers runs fn once per driver in ds, as a subtest named after it.
func ForDrivers(t *testing.T, ds []Driver, fn func(t *testing.T, d Driver)) {
	t.Helper()
	for _, d := range ds {
		t.Run(d.Name, func(t *testing.T) { fn(t, d) })
	}
}

// WithParam returns dsn (a URL) with one query parameter set.
func WithParam(t testing.TB, dsn, key, value string) string {
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

// Env is one test's world: a unique prefix, a shared schema of its own and
// tenants whose `notes` table holds one row naming the tenant.
type Env struct {
	t testing.TB
	// Admin is a plain pgx pool on the server, outside tenantpath.
	Admin *sql.DB
	// Naming maps tenant ids to this test's schemas: Prefix+id, with the
	// shared schema Prefix+"shared" after the tenant's.
	Naming tenantpath.Naming
	// Prefix is this test's unique schema prefix.
	Prefix string
}

// NewEnv creates a world on the test binary's server with the given
// tenants.
func NewEnv(t testing.TB, tenants ...string) *Env {
	t.Helper()
	return NewEnvOn(t, pgtest.DSN(t), tenants...)
}

// NewEnvOn is NewEnv on the server at dsn.
func NewEnvOn(t testing.TB, dsn string, tenants ...string) *Env {
	t.Helper()
	prefix := pgtest.UniquePrefix(t)
	e := &Env{
		t:      t,
		Admin:  AdminDB(t, dsn),
		Naming: tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "shared"}},
		Prefix: prefix,
	}
	// The shared schema has a `notes` table too: an unknown tenant must
	// never read it.
	e.Exec(fmt.Sprintf(`CREATE SCHEMA %[1]s; CREATE TABLE %[1]s.notes (tenant text); INSERT INTO %[1]s.notes VALUES ('shared')`,
		tenantpath.QuoteIdentifier(prefix+"shared")))
	for _, id := range tenants {
		e.AddTenant(id)
	}
	return e
}

// Exec runs query on the admin pool and fails the test if it fails.
func (e *Env) Exec(query string, args ...any) {
	e.t.Helper()
	if _, err := e.Admin.Exec(query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

// Schema returns the schema of tenant id under the env's naming.
func (e *Env) Schema(id string) string {
	e.t.Helper()
	s, err := e.Naming.Schema(id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// AddTenant creates a tenant schema whose notes table holds the tenant id.
func (e *Env) AddTenant(id string) {
	e.t.Helper()
	q := tenantpath.QuoteIdentifier(e.Schema(id))
	e.Exec(fmt.Sprintf(`CREATE SCHEMA %[1]s; CREATE TABLE %[1]s.notes (tenant text); INSERT INTO %[1]s.notes VALUES (%[2]s)`,
		q, tenantpath.QuoteLiteral(id)))
}

// Open returns a tenantpath *sql.DB over d, connected to the test binary's
// server, with the env's naming and then opts. The pool is closed when the
// env's test ends.
func (e *Env) Open(d Driver, opts ...tenantpath.Option) *sql.DB {
	e.t.Helper()
	return e.OpenOn(e.t, d, pgtest.DSN(e.t), false, opts...)
}

// OpenOn returns a tenantpath *sql.DB over d, connected to dsn (configured
// for a transaction pooler if txPooler), with the env's naming and then
// opts. The pool is closed when t ends.
func (e *Env) OpenOn(t testing.TB, d Driver, dsn string, txPooler bool, opts ...tenantpath.Option) *sql.DB {
	t.Helper()
	return OpenWrapped(t, d.Connector(t, dsn, txPooler), append([]tenantpath.Option{tenantpath.WithNaming(e.Naming)}, opts...)...)
}

// OpenWrapped returns a tenantpath *sql.DB over base with opts. The pool is
// closed when t ends.
func OpenWrapped(t testing.TB, base driver.Connector, opts ...tenantpath.Option) *sql.DB {
	t.Helper()
	db, err := tenantpath.OpenDB(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// AdminDB returns a plain pgx pool on dsn, closed when t ends.
func AdminDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Querier is what reads run on: *sql.DB, *sql.Conn, *sql.Tx.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// TenantsSeen lists the distinct tenants in the notes table on the path,
// comma-separated.
const TenantsSeen = "SELECT string_agg(DISTINCT tenant, ',') FROM notes"

// ReadTenant returns the tenants whose rows `notes` shows for ctx: one id
// when the path is right, however many rows that tenant has.
func ReadTenant(ctx context.Context, q Querier) (string, error) {
	var got sql.NullString
	err := q.QueryRowContext(ctx, TenantsSeen).Scan(&got)
	return got.String, err
}

// MustRead fails the test unless the notes read for ctx are exactly
// want's.
func MustRead(t testing.TB, ctx context.Context, q Querier, want string) {
	t.Helper()
	got, err := ReadTenant(ctx, q)
	if err != nil {
		t.Fatalf("reading notes for %q: %v", want, err)
	}
	if got != want {
		t.Fatalf("read notes of %q, want %q", got, want)
	}
}

// TenantIDs returns n tenant ids: "100", "101", ...
func TenantIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(100 + i)
	}
	return ids
}

// WireWrites opens a tenantpgx connector on dsn whose connections count
// the writes they make to the network: with the carrier, a call that
// switches and its statement are one write, one round trip.
func WireWrites(t testing.TB, dsn string, configure func(*pgx.ConnConfig)) (driver.Connector, *atomic.Int64) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(cfg)
	}
	writes := new(atomic.Int64)
	dial := cfg.DialFunc
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, writes: writes}, nil
	}
	return tenantpgx.GetConnector(*cfg), writes
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if os.Getenv("WIREDEBUG") != "" {
		fmt.Fprintf(os.Stderr, "read %q\n", p[:min(n, 300)])
	}
	return n, err
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	if os.Getenv("WIREDEBUG") != "" {
		fmt.Fprintf(os.Stderr, "write %q\n", p[:min(len(p), 200)])
	}
	return c.Conn.Write(p)
}

// TenantRoles gives each of the tenants ids a role that may use only its
// own schema and the shared one, for tenantpath.WithTenantRoles, and drops
// the roles when t ends (roles belong to the cluster, not to the schemas).
// It returns the role function.
func (e *Env) TenantRoles(t testing.TB, ids ...string) func(schema string) string {
	t.Helper()
	role := func(schema string) string { return schema + "_rw" }
	shared := tenantpath.QuoteIdentifier(e.Prefix + "shared")
	for _, id := range ids {
		schema := e.Schema(id)
		r, s := tenantpath.QuoteIdentifier(role(schema)), tenantpath.QuoteIdentifier(schema)
		e.Exec(fmt.Sprintf(`CREATE ROLE %[1]s NOLOGIN;
			GRANT USAGE ON SCHEMA %[2]s, %[3]s TO %[1]s;
			GRANT ALL ON ALL TABLES IN SCHEMA %[2]s TO %[1]s;
			GRANT SELECT ON ALL TABLES IN SCHEMA %[3]s TO %[1]s`, r, s, shared))
		t.Cleanup(func() { e.Admin.Exec(fmt.Sprintf("DROP OWNED BY %[1]s; DROP ROLE %[1]s", r)) })
	}
	return role
}
