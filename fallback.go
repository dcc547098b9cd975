package tenantpath

import (
	"context"
	"database/sql/driver"
	"errors"
)

// The base driver's legacy interfaces. database/sql falls back to them (in
// its ctxutil.go) when a driver lacks the context variants, and so does
// tenantpath, in the same way: the context is checked before the call,
// options the legacy call cannot express are refused, and named arguments
// are refused.

func prepareInner(ctx context.Context, inner driver.Conn, query string) (driver.Stmt, error) {
	if pc, ok := inner.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, query)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return inner.Prepare(query)
}

func beginInner(ctx context.Context, inner driver.Conn, opts driver.TxOptions) (driver.Tx, error) {
	if bt, ok := inner.(driver.ConnBeginTx); ok {
		return bt.BeginTx(ctx, opts)
	}
	if opts.Isolation != driver.IsolationLevel(0) || opts.ReadOnly {
		return nil, errors.New("tenantpath: the base driver does not support transaction options")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return inner.Begin() //lint:ignore SA1019 the base driver has nothing newer
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
	return st.Exec(values) //lint:ignore SA1019 the base driver has nothing newer
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
	return st.Query(values) //lint:ignore SA1019 the base driver has nothing newer
}

// namedValues turns the arguments of a legacy call into the context form.
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
