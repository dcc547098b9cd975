package tenantpath

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/tenantpath/tenantpath/internal/wire"
)

// conn wraps one connection of the base driver. database/sql never uses a
// driver.Conn from two goroutines at once, so its fields need no lock.
type conn struct {
	inner driver.Conn
	cfg   *config

	// on is what the connection knows of its own path: the scope whose path
	// it last set (ScopeBase: the session's default, after RESET), or
	// pathUnknown, or pathUser (the caller's own SQL set it during this
	// checkout: calls for the base path leave it as the caller set it,
	// their session, their choice; it becomes unknown when the pool hands
	// the connection to someone else).
	on Scope

	tx *tx // the open transaction, if any

	// wire, when the base connection runs over one, carries switches in
	// the same write as the statement (carry.go) and brings the server's
	// reports of search_path (report.go).
	wire        *wire.Conn
	armed       armed  // the switch armed for the next request
	carried     bool   // a carried switch ran: settle when its transaction ends
	basePath    string // the search_path the server reported at connect
	reportsSeen uint64 // the server's reports already compared

	// bad is set when the connection's state can no longer be trusted
	// (a switch failed or was interrupted). The pool then discards it.
	bad bool

	// setAt and epoch say when, and in which SchemasChanged epoch, the
	// tenant path in on was set (recheck.go).
	setAt time.Time
	epoch uint64

	// native: the connection is pgx's own (tenantpgx.Configure), not
	// database/sql's: the statements are pgx's, tenantpath only arms
	// switches on its wire (native.go).
	native bool

	// handBack says that closing the base connection may hand it to another
	// user (handback.go); moved, that tenantpath changed its path since.
	handBack, moved bool

	// settingsSet lists the per-tenant settings this connection ever set
	// on its session (settings.go).
	settingsSet []string

	// retired is set once the connection has served cfg.maxTenants
	// distinct tenants (counted in tenants); the pool then closes it.
	retired bool
	tenants map[string]struct{}

	// exposed: Unwrap handed the base connection out. Whatever was done
	// with it (rows left open, a transaction begun) is out of sight, so
	// a Pool closes the connection instead of keeping it.
	exposed bool

	// owner is the pool entry of a connection that a Pool owns (nil
	// otherwise): Close gives the connection back to it (pool_conn.go).
	owner *pooledConn
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

func newConn(inner driver.Conn, cfg *config, w *wire.Conn) *conn {
	// A fresh connection is not necessarily on its base path: a session
	// pooler without a reset query hands out server connections as the
	// previous client left them. Its first call therefore always switches
	// (a call for the base path sends RESET).
	c := &conn{inner: inner, cfg: cfg, on: Scope{Kind: pathUnknown}, wire: w}
	if w != nil {
		c.basePath, c.reportsSeen = w.Reported()
	}
	return c
}

// wanted returns the scope a call asks for, with ScopeNone resolved: an
// error, or the base path under AllowNoTenant. Nothing is sent. It first
// brings what the connection knows of its path up to date with what the
// server said since the last call.
func (c *conn) wanted(ctx context.Context) (Scope, error) {
	if c.wire != nil {
		c.settle(ctx)
		if c.wire.Reports() != c.reportsSeen {
			c.checkReport(ctx)
		}
	}
	if c.bad {
		// Nothing has run, so database/sql may retry on another connection.
		return Scope{}, driver.ErrBadConn
	}
	want := ScopeOf(ctx)
	if want.Kind == ScopeNone {
		if !c.cfg.allowNoTenant {
			c.countRefusal(ctx, want, ErrNoTenant)
			return want, ErrNoTenant
		}
		want.Kind = ScopeBase
	}
	return want, nil
}

// switchTo sets the path for want in one round trip. A tenant's switch is a
// single SELECT that calls set_config only if the schema exists, so an
// unknown tenant leaves the path untouched and is reported as such.
func (c *conn) switchTo(ctx context.Context, want Scope) error {
	query, schema, settings, err := c.switchStatement(want, false, alone)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // nothing sent: the state is still what we remember
	}
	if err := c.sendSwitch(ctx, query, want, schema); err != nil {
		var failed *SwitchError
		if !errors.As(err, &failed) {
			if errors.Is(err, ErrUnknownTenant) && c.on == want {
				// The schema went away under a path the connection
				// still has: calls for it must not run there.
				c.on = Scope{Kind: pathUnknown}
			}
			return err
		}
		if c.refusedUnsent(ctx, failed.Err) {
			// Nothing reached the server: the path is as it was and the
			// connection stays usable once its earlier query is done.
			return busyError(want, failed.Err)
		}
		// The switch may or may not have reached the server: nobody can
		// say what path this connection is on, so it must never be used
		// again.
		c.discard(ctx, "the switch failed", failed.Err)
		return err
	}
	c.on, c.moved = want, true
	c.settingsApplied(settings)
	c.countSwitch(ctx, want, false)
	if want.Kind == ScopeTenant {
		c.served(want.Tenant)
		c.pathSet()
	}
	return nil
}

// refusedUnsent reports whether the base driver refused a call without
// sending anything because the connection is busy with an earlier query
// whose rows are still open: its error is not the server's and the context
// is alive, yet the base connection still reports itself valid (pgx then
// answers driver.ErrBadConn, lib/pq an error of its own; a broken
// connection reports itself invalid). Without a Validator nobody can tell.
func (c *conn) refusedUnsent(ctx context.Context, err error) bool {
	if ctx.Err() != nil || sqlState(err) != "" {
		return false
	}
	v, ok := c.inner.(driver.Validator)
	return ok && v.IsValid()
}

// busyError reports a call refused because the connection is busy. It must
// not match driver.ErrBadConn: database/sql would then close a pinned
// connection, which waits for the open rows and so for ever.
func busyError(want Scope, err error) error {
	return fmt.Errorf("%w: the call for %s was not sent (%v)", ErrConnBusy, want, err)
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

// observe records what the caller's own SQL, in a call for want, may have
// done to the path.
func (c *conn) observe(ctx context.Context, want Scope, effect sqlEffect) {
	if effect == 0 {
		return
	}
	if c.tx != nil {
		if effect&effectPath != 0 {
			c.doubted(ctx, c.tx.scope, "the caller's SQL inside a transaction")
		}
		c.tx.observe(effect)
		return
	}
	if was := c.on; c.userChangedPath(want.Kind) {
		c.doubted(ctx, was, "the caller's SQL")
	}
}

// userChangedPath records that the caller's SQL, in a call for scope kind,
// may have changed the path outside a driver transaction. Only a call for
// the base path on a connection still on its base (or its own) path leaves
// it as the caller's: there the caller's SET is meant for the caller's next
// calls. Anywhere else nothing is known any more: a false alarm after a
// tenant call must not let the next call for the base path run on that
// tenant's path. It reports whether a known path became unknown.
func (c *conn) userChangedPath(kind ScopeKind) bool {
	c.moved = true
	if kind == ScopeBase && (c.on.Kind == ScopeBase || c.on.Kind == pathUser) {
		c.on = Scope{Kind: pathUser}
		return false
	}
	known := c.on.Kind != pathUnknown
	c.on = Scope{Kind: pathUnknown}
	return known
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	// Parse analysis resolves names on the current path, so it must be the
	// caller's tenant's.
	want, err := c.wanted(ctx)
	if err != nil {
		return nil, err
	}
	var st driver.Stmt
	if c.pooled(want) && c.wire == nil {
		st, err = c.preparePooled(ctx, want, query)
	} else {
		var armed bool
		if armed, err = c.pathFor(ctx, want, query); err == nil {
			st, err = c.prepare(ctx, query)
			if armed {
				err = c.landed(ctx, err)
			}
		}
	}
	if err != nil {
		if st != nil {
			st.Close()
		}
		return nil, err
	}
	return &stmt{conn: c, inner: st, query: query, effect: sqlEffects(query)}, nil
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	want, err := c.wanted(ctx)
	if err != nil {
		return nil, err
	}
	var inner driver.Tx
	if c.cfg.txPooling && c.wire == nil {
		inner, err = c.beginPooled(ctx, want, opts)
	} else {
		// The path is applied before BEGIN, or carried in the same write
		// as BEGIN, never later: no ROLLBACK TO SAVEPOINT can undo it,
		// and a carried switch undone by the transaction's ROLLBACK is
		// noticed when it ends (settle).
		var armed bool
		if armed, err = c.pathFor(ctx, want, "BEGIN"); err == nil {
			inner, err = beginInner(ctx, c.inner, opts)
			if armed {
				err = c.landed(ctx, err)
			}
		}
	}
	if err != nil {
		if inner != nil {
			inner.Rollback()
		}
		return nil, err
	}
	c.tx = &tx{conn: c, inner: inner, scope: want}
	return c.tx, nil
}

// Begin starts a transaction with context.Background.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// Close closes the base connection, or gives a pool connection back.
func (c *conn) Close() error {
	if c.owner != nil {
		return c.giveBack()
	}
	c.resetForHandBack()
	return c.inner.Close()
}

// Ping is exempt from the need for a tenant and sends no switch.
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
// the previous user set by hand is forgotten (the next call for the base
// path resets it); a connection in doubt is refused.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.bad || c.retired {
		return driver.ErrBadConn
	}
	if c.on.Kind == pathUser {
		c.on = Scope{Kind: pathUnknown}
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
// it counts as a change of path by the caller: reset before database/sql's
// pool hands the connection to anyone else; a Pool does not hand it on.
func (c *conn) Unwrap() driver.Conn {
	c.exposed = true
	if c.tx != nil {
		c.tx.observe(effectPath)
	} else {
		c.userChangedPath(ScopeBase)
	}
	return c.inner
}
