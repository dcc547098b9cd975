package tenantpath

import (
	"context"
	"database/sql/driver"
)

// Transaction-pooling mode (see TransactionPooling): the path lives only as
// long as a transaction, so every call that needs one gets one.

// pooledCall reports whether a call outside a transaction must be wrapped in
// one of its own to carry its path.
func (c *conn) pooledCall(ctx context.Context) bool {
	return c.cfg.txPooling && c.tx == nil && scopeFrom(ctx).kind != scopeNone
}

// beginPooled begins a transaction and sets the context's path (and role)
// for that transaction alone.
func (c *conn) beginPooled(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.bad {
		return nil, driver.ErrBadConn
	}
	want := scopeFrom(ctx)
	if want.kind == scopeNone && c.cfg.requireTenant {
		return nil, ErrNoTenant
	}
	query, schema, err := c.cfg.switchQuery(want, true)
	if err != nil {
		return nil, err
	}
	inner, err := beginInner(ctx, c.inner, opts)
	if err != nil || query == "" {
		return inner, err
	}
	if err := c.sendSwitch(ctx, query, want, schema); err != nil {
		c.rollbackPooled(inner)
		return nil, err
	}
	return inner, nil
}

// rollbackPooled ends a wrapping transaction that failed. A rollback that
// fails leaves the connection in doubt.
func (c *conn) rollbackPooled(t driver.Tx) {
	if err := t.Rollback(); err != nil {
		c.bad = true
	}
}

func (c *conn) execPooled(ctx context.Context, run func(context.Context) (driver.Result, error)) (driver.Result, error) {
	t, err := c.beginPooled(ctx, driver.TxOptions{})
	if err != nil {
		return nil, err
	}
	res, err := run(ctx)
	if err != nil {
		c.rollbackPooled(t)
		return nil, err
	}
	if err := t.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// queryPooled keeps the wrapping transaction open until the rows are closed.
func (c *conn) queryPooled(ctx context.Context, run func(context.Context) (driver.Rows, error)) (driver.Rows, error) {
	t, err := c.beginPooled(ctx, driver.TxOptions{})
	if err != nil {
		return nil, err
	}
	rows, err := run(ctx)
	if err != nil {
		c.rollbackPooled(t)
		return nil, err
	}
	return &txRows{Rows: rows, conn: c, tx: t}, nil
}

func (c *conn) preparePooled(ctx context.Context, query string) (driver.Stmt, error) {
	t, err := c.beginPooled(ctx, driver.TxOptions{})
	if err != nil {
		return nil, err
	}
	st, err := prepareInner(ctx, c.inner, query)
	if err != nil {
		c.rollbackPooled(t)
		return nil, err
	}
	if err := t.Commit(); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
