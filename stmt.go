package tenantpath

import (
	"context"
	"database/sql/driver"
	"errors"
)

// stmt is a prepared statement. Each execution applies the path of its own
// context first: the server re-parses a prepared statement when the
// search_path differs from the one it was planned under, so it then reads
// the new tenant's tables.
type stmt struct {
	conn   *conn
	inner  driver.Stmt
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
	c := s.conn
	if c.pooledCall(ctx) {
		return c.execPooled(ctx, func(ctx context.Context) (driver.Result, error) {
			return execStmt(ctx, s.inner, args)
		})
	}
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	res, err := execStmt(ctx, s.inner, args)
	if err != nil && c.mayRetry(err) {
		res, err = execStmt(ctx, s.inner, args)
	}
	c.observe(ctx, s.effect)
	return res, c.explain(err)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	c := s.conn
	if c.pooledCall(ctx) {
		return c.queryPooled(ctx, func(ctx context.Context) (driver.Rows, error) {
			return queryStmt(ctx, s.inner, args)
		})
	}
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	rows, err := queryStmt(ctx, s.inner, args)
	if err != nil && c.mayRetry(err) {
		rows, err = queryStmt(ctx, s.inner, args)
	}
	c.observe(ctx, s.effect)
	return rows, c.explain(err)
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

func execStmt(ctx context.Context, st driver.Stmt, args []driver.NamedValue) (driver.Result, error) {
	if sc, ok := st.(driver.StmtExecContext); ok {
		return sc.ExecContext(ctx, args)
	}
	values, err := plainValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return st.Exec(values) //nolint:staticcheck // the base driver has nothing newer
}

func queryStmt(ctx context.Context, st driver.Stmt, args []driver.NamedValue) (driver.Rows, error) {
	if sc, ok := st.(driver.StmtQueryContext); ok {
		return sc.QueryContext(ctx, args)
	}
	values, err := plainValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return st.Query(values) //nolint:staticcheck // the base driver has nothing newer
}

func namedValues(args []driver.Value) []driver.NamedValue {
	named := make([]driver.NamedValue, len(args))
	for i, v := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return named
}

// plainValues is database/sql's own fallback for drivers without the
// context interfaces: it cannot pass names.
func plainValues(named []driver.NamedValue) ([]driver.Value, error) {
	values := make([]driver.Value, len(named))
	for i, nv := range named {
		if nv.Name != "" {
			return nil, errors.New("tenantpath: the base driver does not support named parameters")
		}
		values[i] = nv.Value
	}
	return values, nil
}
