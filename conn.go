package tenantpath

import (
	"context"
	"database/sql/driver"
	"errors"
)

// pathState is what a connection knows about its own search_path.
type pathState uint8

const (
	// pathUnknown: nobody can say (a fresh connection, too); the next call
	// switches whatever it wants.
	pathUnknown pathState = iota
	// pathBase: the session's default path, after RESET.
	pathBase
	// pathShared: the shared schemas alone.
	pathShared
	// pathTenant: conn.tenant's schema, then the shared schemas.
	pathTenant
	// pathUser: the caller's own SQL changed the path during this checkout
	// of the connection. Calls without a tenant leave it as the caller set
	// it (their session, their choice); tenant calls switch as usual; when
	// the pool hands the connection to someone else it becomes unknown.
	pathUser
)

// conn wraps one connection of the base driver. database/sql never uses a
// driver.Conn from two goroutines at once, so its fields need no lock.
type conn struct {
	inner driver.Conn
	cfg   *config

	state  pathState
	tenant string // the tenant whose path is set, when state == pathTenant

	tx *tx // the open transaction, if any

	// bad is set when the connection's state can no longer be trusted
	// (a switch failed or was interrupted). The pool then discards it.
	bad bool

	// retired is set once the connection has served cfg.maxTenants
	// distinct tenants (counted in tenants); the pool then closes it.
	retired bool
	tenants map[string]struct{}
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

func newConn(inner driver.Conn, cfg *config) *conn {
	// A fresh connection is not necessarily on its base path: a session
	// pooler without a reset query hands out server connections as the
	// previous client left them. Its first call therefore always switches
	// (a call without a tenant sends RESET).
	return &conn{inner: inner, cfg: cfg, state: pathUnknown}
}

// ensure makes the connection's search_path what ctx asks for, before a
// statement runs. On the same-tenant path it only compares two strings.
func (c *conn) ensure(ctx context.Context) error {
	if c.bad {
		// Nothing has run, so database/sql may retry on another connection.
		return driver.ErrBadConn
	}
	want := scopeFrom(ctx)
	if want.kind == scopeNone && c.cfg.requireTenant {
		return ErrNoTenant
	}
	if c.tx != nil {
		return c.tx.admit(ctx, want)
	}
	if c.cfg.txPooling {
		// Tenant calls got a transaction of their own (pooledCall); a call
		// without a tenant runs as it is: session state means nothing here.
		return nil
	}
	switch want.kind {
	case scopeTenant:
		if c.state == pathTenant && c.tenant == want.tenant {
			return nil
		}
	case scopeShared:
		if c.state == pathShared {
			return nil
		}
	default:
		if c.state == pathBase || c.state == pathUser {
			return nil
		}
	}
	return c.switchTo(ctx, want)
}

// switchTo sets the path for want in one round trip. A tenant's switch is a
// single SELECT that calls set_config only if the schema exists, so an
// unknown tenant leaves the path untouched and is reported as such.
func (c *conn) switchTo(ctx context.Context, want scope) error {
	query, schema, err := c.cfg.switchQuery(want, false)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // nothing sent: the state is still what we remember
	}
	if err := c.sendSwitch(ctx, query, want, schema); err != nil {
		var failed *SwitchError
		if errors.As(err, &failed) {
			// The switch may or may not have reached the server: nobody
			// can say what path this connection is on, so it must never
			// be used again.
			c.bad = true
			c.state = pathUnknown
		}
		return err
	}
	switch want.kind {
	case scopeTenant:
		c.state, c.tenant = pathTenant, want.tenant
		c.served(want.tenant)
	case scopeShared:
		c.state = pathShared
	default:
		c.state = pathBase
	}
	return nil
}

// served counts the distinct tenants a connection has switched to, for
// MaxTenantsPerConn. It runs only on a switch.
func (c *conn) served(tenant string) {
	if c.cfg.maxTenants == 0 || c.retired {
		return
	}
	if c.tenants == nil {
		c.tenants = make(map[string]struct{})
	}
	c.tenants[tenant] = struct{}{}
	if len(c.tenants) >= c.cfg.maxTenants {
		c.retired = true // the current call still runs; the pool then closes it
		c.tenants = nil
	}
}

// execDirect runs an argument-free statement on the inner connection. With
// no arguments both pgx and lib/pq use the simple protocol: one round trip,
// nothing prepared or cached.
func (c *conn) execDirect(ctx context.Context, query string) (driver.Result, error) {
	if ec, ok := c.inner.(driver.ExecerContext); ok {
		res, err := ec.ExecContext(ctx, query, nil)
		if !errors.Is(err, driver.ErrSkip) {
			return res, err
		}
	}
	st, err := prepareInner(ctx, c.inner, query)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return execStmt(ctx, st, nil)
}

// observe records what the caller's own SQL may have done to the path.
func (c *conn) observe(ctx context.Context, effect sqlEffect) {
	if effect == 0 {
		return
	}
	if c.tx != nil {
		c.tx.observe(effect)
		return
	}
	c.userChangedPath(scopeFrom(ctx).kind)
}

// userChangedPath records that the caller's SQL, in a call for scope kind,
// may have changed the path outside a driver transaction. Only a call
// without a tenant on a connection still on its base (or its own) path
// leaves it as the caller's: there the caller's SET is meant for the
// caller's next calls. Anywhere else nothing is known any more: a false
// alarm after a tenant call must not let the next call without a tenant run
// on that tenant's path.
func (c *conn) userChangedPath(kind scopeKind) {
	if kind == scopeNone && (c.state == pathBase || c.state == pathUser) {
		c.state = pathUser
		return
	}
	c.state = pathUnknown
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := c.inner.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip // database/sql prepares instead
	}
	if c.pooledCall(ctx) {
		return c.execPooled(ctx, func(ctx context.Context) (driver.Result, error) {
			return ec.ExecContext(ctx, query, args)
		})
	}
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	res, err := ec.ExecContext(ctx, query, args)
	if err != nil && c.mayRetry(err) {
		res, err = ec.ExecContext(ctx, query, args)
	}
	c.observe(ctx, sqlEffects(query))
	return res, c.explain(err)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.inner.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	if c.pooledCall(ctx) {
		return c.queryPooled(ctx, func(ctx context.Context) (driver.Rows, error) {
			return qc.QueryContext(ctx, query, args)
		})
	}
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	rows, err := qc.QueryContext(ctx, query, args)
	if err != nil && c.mayRetry(err) {
		rows, err = qc.QueryContext(ctx, query, args)
	}
	c.observe(ctx, sqlEffects(query))
	return rows, c.explain(err)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	// Parse analysis resolves names on the current path, so it must be the
	// caller's tenant's.
	var st driver.Stmt
	var err error
	if c.pooledCall(ctx) {
		st, err = c.preparePooled(ctx, query)
	} else if err = c.ensure(ctx); err == nil {
		st, err = prepareInner(ctx, c.inner, query)
	}
	if err != nil {
		return nil, err
	}
	return &stmt{conn: c, inner: st, effect: sqlEffects(query)}, nil
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.cfg.txPooling {
		inner, err := c.beginPooled(ctx, opts)
		if err != nil {
			return nil, err
		}
		c.tx = &tx{conn: c, inner: inner, scope: scopeFrom(ctx)}
		return c.tx, nil
	}
	// The path is applied before BEGIN, never inside: no ROLLBACK or
	// ROLLBACK TO SAVEPOINT can then undo it behind our back.
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	inner, err := beginInner(ctx, c.inner, opts)
	if err != nil {
		return nil, err
	}
	c.tx = &tx{conn: c, inner: inner, scope: scopeFrom(ctx)}
	return c.tx, nil
}

// Begin starts a transaction with context.Background.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) Close() error { return c.inner.Close() }

// Ping is exempt from RequireTenant and sends no switch.
func (c *conn) Ping(ctx context.Context) error {
	if c.bad {
		return driver.ErrBadConn
	}
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession runs when the pool hands the connection to a new user. A path
// the previous user set by hand is forgotten (the next call without a
// tenant resets it); a connection in doubt is refused.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.bad || c.retired {
		return driver.ErrBadConn
	}
	if c.state == pathUser {
		c.state = pathUnknown
	}
	if sr, ok := c.inner.(driver.SessionResetter); ok {
		return sr.ResetSession(ctx)
	}
	return nil
}

// IsValid reports false for a connection whose path is in doubt, or that
// MaxTenantsPerConn retired, so database/sql closes it instead of returning
// it to the pool.
func (c *conn) IsValid() bool {
	if c.bad || c.retired {
		return false
	}
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// CheckNamedValue forwards to the base driver, so types only it accepts
// (pgx takes Go slices and its own types) still work. Without a checker in
// the base driver, database/sql's default conversion applies.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := c.inner.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// Unwrap returns the base driver's connection, for sql.Conn.Raw users who
// need it (e.g. *stdlib.Conn). What they do with it is out of our sight, so
// it counts as a change of path by the caller: reset before the pool hands
// the connection to anyone else.
func (c *conn) Unwrap() driver.Conn {
	if c.tx != nil {
		c.tx.observe(effectPath)
	} else {
		c.userChangedPath(scopeNone)
	}
	return c.inner
}

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
	return inner.Begin() //nolint:staticcheck // the base driver has nothing newer
}
