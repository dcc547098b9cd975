package tenantpath_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/tenantpath/tenantpath"
)

// A base driver with only database/sql/driver's oldest interfaces: Conn
// (Prepare, Close, Begin), Stmt (Exec, Query), Tx and Rows. No context
// variants, no Execer or Queryer, no NamedValueChecker, SessionResetter,
// Validator, Pinger or column-type extensions. The driver falls back on
// them exactly as database/sql does without it. It records the statements
// it receives and answers every switch as if the schema existed.

type legacyConnector struct {
	mu    sync.Mutex
	stmts []string
}

func (c *legacyConnector) Connect(context.Context) (driver.Conn, error) {
	return &legacyConn{c: c}, nil
}
func (c *legacyConnector) Driver() driver.Driver { return legacyDriver{} }

func (c *legacyConnector) add(q string) {
	c.mu.Lock()
	c.stmts = append(c.stmts, q)
	c.mu.Unlock()
}

func (c *legacyConnector) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stmts
	c.stmts = nil
	return s
}

type legacyDriver struct{}

func (legacyDriver) Open(string) (driver.Conn, error) { return nil, errors.New("use the connector") }

type legacyConn struct{ c *legacyConnector }

func (c *legacyConn) Prepare(q string) (driver.Stmt, error) {
	c.c.add("PREPARE " + q)
	return &legacyStmt{c: c.c, q: q}, nil
}
func (c *legacyConn) Close() error { return nil }
func (c *legacyConn) Begin() (driver.Tx, error) {
	c.c.add("BEGIN")
	return legacyTx{c.c}, nil
}

type legacyTx struct{ c *legacyConnector }

func (t legacyTx) Commit() error   { t.c.add("COMMIT"); return nil }
func (t legacyTx) Rollback() error { t.c.add("ROLLBACK"); return nil }

type legacyStmt struct {
	c *legacyConnector
	q string
}

func (s *legacyStmt) Close() error  { return nil }
func (s *legacyStmt) NumInput() int { return -1 }
func (s *legacyStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.c.add(s.q)
	return driver.RowsAffected(1), nil // a switch's SELECT 1: the schema exists
}
func (s *legacyStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.c.add(s.q)
	return &legacyRows{}, nil
}

type legacyRows struct{ done bool }

func (r *legacyRows) Columns() []string { return []string{"v"} }
func (r *legacyRows) Close() error      { return nil }
func (r *legacyRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	dest[0] = int64(42)
	return nil
}

func TestLegacyBaseDriver(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []tenantpath.Option
	}{{"session", nil}, {"transaction pooling", []tenantpath.Option{tenantpath.TransactionPooling()}}} {
		t.Run(mode.name, func(t *testing.T) {
			base := &legacyConnector{}
			db, err := tenantpath.OpenDB(base, append([]tenantpath.Option{tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"})}, mode.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			ten := tenantpath.WithTenant(context.Background(), "10")

			// Exec and Query: database/sql prepares (the base driver has no
			// Execer), and so does the switch, through Prepare and Exec.
			if _, err := db.ExecContext(ten, "UPDATE notes SET seen = true"); err != nil {
				t.Fatal(err)
			}
			var v int
			if err := db.QueryRowContext(ten, "SELECT 42").Scan(&v); err != nil || v != 42 {
				t.Fatalf("QueryRow: %d, %v", v, err)
			}
			rows, err := db.QueryContext(ten, "SELECT 42")
			if err != nil {
				t.Fatal(err)
			}
			cts, err := rows.ColumnTypes() // the Rows extensions' fallbacks
			if err != nil || len(cts) != 1 || cts[0].DatabaseTypeName() != "" {
				t.Fatalf("column types: %v, %v", cts, err)
			}
			if _, ok := cts[0].Nullable(); ok {
				t.Fatal("Nullable claims to know")
			}
			for rows.Next() {
			}
			if rows.NextResultSet() {
				t.Fatal("a second result set from rows that have none")
			}
			rows.Close()
			sent := strings.Join(base.take(), "\n")
			if strings.Count(sent, "set_config('search_path'") < 1 || !strings.Contains(sent, "UPDATE notes SET seen = true") {
				t.Fatalf("sent:\n%s", sent)
			}

			// Prepared statements, executed with the context variants and
			// with the old ones.
			st, err := db.PrepareContext(ten, "SELECT 42 WHERE $1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.ExecContext(ten, true); err != nil {
				t.Fatal(err)
			}
			if _, err := st.ExecContext(ten, sql.Named("x", 1)); err == nil || !strings.Contains(err.Error(), "named parameters") {
				t.Fatalf("a named argument the base driver cannot take: %v", err)
			}
			st.Close()

			// Transactions: options the old Begin cannot express are
			// refused, and a cancelled context is honoured before the call.
			if _, err := db.BeginTx(ten, &sql.TxOptions{Isolation: sql.LevelSerializable}); err == nil {
				t.Fatal("an isolation level went to a driver that cannot set it")
			}
			tx, err := db.BeginTx(ten, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ten, "INSERT INTO notes DEFAULT VALUES"); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			cancelled, cancel := context.WithCancel(ten)
			cancel()
			base.take()
			if _, err := db.ExecContext(cancelled, "UPDATE notes SET seen = false"); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled context: %v", err)
			}
			for _, q := range base.take() {
				if strings.Contains(q, "seen = false") && !strings.HasPrefix(q, "PREPARE") {
					t.Fatalf("a cancelled call ran: %q", q)
				}
			}
		})
	}
}

// The driver's own statements also take the old, context-less calls, as
// database/sql's callers of a driver.Stmt may make them.
func TestLegacyStatementCalls(t *testing.T) {
	base := &legacyConnector{}
	c, err := tenantpath.NewConnector(base, tenantpath.AllowNoTenant())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st, err := conn.Prepare("SELECT 42")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	//lint:ignore SA1019 the old call is what is tested
	if _, err := st.Exec([]driver.Value{int64(1)}); err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 the old call is what is tested
	rows, err := st.Query(nil)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if sent := base.take(); len(sent) < 3 || sent[len(sent)-1] != "SELECT 42" {
		t.Fatalf("sent %q", sent)
	}
}
