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
	var query, schema string
	switch want.kind {
	case scopeTenant:
		var err error
		if schema, err = c.cfg.naming.Schema(want.tenant); err != nil {
			return nil, err
		}
		if query, err = c.cfg.tenantSwitch(schema, true); err != nil {
			return nil, err
		}
	case scopeShared:
		query = c.cfg.sharedLocalQuery
	default:
		if c.cfg.requireTenant {
			return nil, ErrNoTenant
		}
	}
	inner, err := beginInner(ctx, c.inner, opts)
	if err != nil || query == "" {
		return inner, err
	}
	res, err := c.execDirect(ctx, query)
	if err == nil && want.kind == scopeTenant {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			c.rollbackPooled(inner)
			return nil, &UnknownTenantError{Tenant: want.tenant, Schema: schema}
		}
	}
	if err != nil {
		c.rollbackPooled(inner)
		return nil, &SwitchError{Scope: want.String(), Err: err}
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
