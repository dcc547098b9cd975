package tenantpath

import (
	"context"
	"database/sql/driver"
)

// Transaction-pooling mode (see TransactionPooling): the path lives only as
// long as a transaction, so every call that needs one gets one.

// pooled reports whether a call for want, outside a transaction, must be
// wrapped in one of its own to carry its path. Calls for the base path run
// as they are.
func (c *conn) pooled(want Scope) bool {
	return c.cfg.txPooling && c.tx == nil && (want.Kind == ScopeTenant || want.Kind == ScopeShared)
}

// beginPooled begins a transaction and sets want's path (and role) for that
// transaction alone.
func (c *conn) beginPooled(ctx context.Context, want Scope, opts driver.TxOptions) (driver.Tx, error) {
	query, schema, _, err := c.switchStatement(want, true, alone)
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
		c.discard(context.Background(), "rolling back a transaction of its own failed", err)
	}
}

// runPooled runs a statement in a transaction of its own, when its switch
// cannot be carried in the same write (an implicit transaction does the
// same in one round trip).
func (c *conn) runPooled(ctx context.Context, want Scope, st *statement) (driver.Result, driver.Rows, error) {
	t, err := c.beginPooled(ctx, want, driver.TxOptions{})
	if err != nil {
		return nil, nil, err
	}
	res, rows, err := c.send(ctx, st)
	if err != nil {
		c.rollbackPooled(t)
		return nil, nil, err
	}
	if rows != nil {
		// The wrapping transaction stays open until the rows are closed.
		return nil, &txRows{Rows: rows, conn: c, tx: t}, nil
	}
	if err := t.Commit(); err != nil {
		return nil, nil, err
	}
	return res, nil, nil
}

func (c *conn) preparePooled(ctx context.Context, want Scope, query string) (driver.Stmt, error) {
	t, err := c.beginPooled(ctx, want, driver.TxOptions{})
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
