package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
)

// fakeConnector opens in-memory connections that answer every statement at
// once without allocating, so that benchmarks over it measure database/sql
// and the wrapper alone. Every query returns one row of one int64 column;
// every Exec affects one row (which the wrapper reads as "the tenant's
// schema exists").
type fakeConnector struct{}

func (fakeConnector) Connect(context.Context) (driver.Conn, error) { return &fakeConn{}, nil }
func (fakeConnector) Driver() driver.Driver                        { return fakeDriver{} }

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return &fakeConn{}, nil }

// fakeConn reuses one rows value: database/sql closes a connection's rows
// before it runs the next statement on it.
type fakeConn struct {
	rows fakeRows
	stmt fakeStmt
}

var (
	_ driver.Conn               = (*fakeConn)(nil)
	_ driver.ConnBeginTx        = (*fakeConn)(nil)
	_ driver.ConnPrepareContext = (*fakeConn)(nil)
	_ driver.ExecerContext      = (*fakeConn)(nil)
	_ driver.QueryerContext     = (*fakeConn)(nil)
	_ driver.Pinger             = (*fakeConn)(nil)
	_ driver.SessionResetter    = (*fakeConn)(nil)
	_ driver.Validator          = (*fakeConn)(nil)
)

func (c *fakeConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *fakeConn) PrepareContext(context.Context, string) (driver.Stmt, error) {
	c.stmt.conn = c
	return &c.stmt, nil
}

func (c *fakeConn) Close() error              { return nil }
func (c *fakeConn) Begin() (driver.Tx, error) { return fakeTx{}, nil }
func (c *fakeConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	return fakeTx{}, nil
}

func (c *fakeConn) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	return driver.RowsAffected(1), nil
}

func (c *fakeConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	c.rows.done = false
	return &c.rows, nil
}

func (c *fakeConn) Ping(context.Context) error         { return nil }
func (c *fakeConn) ResetSession(context.Context) error { return nil }
func (c *fakeConn) IsValid() bool                      { return true }

type fakeStmt struct{ conn *fakeConn }

var (
	_ driver.StmtExecContext  = (*fakeStmt)(nil)
	_ driver.StmtQueryContext = (*fakeStmt)(nil)
)

func (s *fakeStmt) Close() error  { return nil }
func (s *fakeStmt) NumInput() int { return -1 }
func (s *fakeStmt) Exec([]driver.Value) (driver.Result, error) {
	return driver.RowsAffected(1), nil
}
func (s *fakeStmt) Query([]driver.Value) (driver.Rows, error) {
	return s.conn.QueryContext(context.Background(), "", nil)
}
func (s *fakeStmt) ExecContext(context.Context, []driver.NamedValue) (driver.Result, error) {
	return driver.RowsAffected(1), nil
}
func (s *fakeStmt) QueryContext(ctx context.Context, _ []driver.NamedValue) (driver.Rows, error) {
	return s.conn.QueryContext(ctx, "", nil)
}

type fakeTx struct{}

func (fakeTx) Commit() error   { return nil }
func (fakeTx) Rollback() error { return nil }

var fakeColumns = []string{"v"}

type fakeRows struct{ done bool }

func (r *fakeRows) Columns() []string { return fakeColumns }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	dest[0] = int64(42)
	return nil
}

// openFake returns a one-connection *sql.DB over the fake driver, wrapped
// by tenantpath when wrap is set.
func openFake(wrap func(driver.Connector) (*sql.DB, error)) (*sql.DB, error) {
	var db *sql.DB
	if wrap == nil {
		db = sql.OpenDB(fakeConnector{})
	} else {
		var err error
		if db, err = wrap(fakeConnector{}); err != nil {
			return nil, err
		}
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db, nil
}
