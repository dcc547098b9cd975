package tenantpath

import (
	"context"
	"database/sql/driver"
)

// stmt is a prepared statement. Each execution applies the path of its own
// context first: the server re-parses a prepared statement when the
// search_path differs from the one it was planned under, so it then reads
// the new tenant's tables.
type stmt struct {
	conn   *conn
	inner  driver.Stmt
	query  string    // the text it was prepared from
	effect sqlEffect // what the statement may do to the path
}

var (
	_ driver.Stmt              = (*stmt)(nil)
	_ driver.StmtExecContext   = (*stmt)(nil)
	_ driver.StmtQueryContext  = (*stmt)(nil)
	_ driver.NamedValueChecker = (*stmt)(nil)
)

func (s *stmt) Close() error  { return s.inner.Close() }
func (s *stmt) NumInput() int { return s.inner.NumInput() }

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, _, err := s.conn.run(ctx, &statement{text: s.query, prep: s.inner, args: args, effect: s.effect})
	return res, err
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	_, rows, err := s.conn.run(ctx, &statement{query: true, text: s.query, prep: s.inner, args: args, effect: s.effect})
	return rows, err
}

// Exec runs the statement with context.Background.
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), namedValues(args))
}

// Query runs the statement with context.Background.
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), namedValues(args))
}

// CheckNamedValue asks the base statement, then the base connection, as
// database/sql would ask them without the wrapper.
func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := s.inner.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return s.conn.CheckNamedValue(nv)
}
