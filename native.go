package tenantpath

import (
	"context"
	"errors"

	"github.com/tenantpath/tenantpath/internal/bridge"
	"github.com/tenantpath/tenantpath/internal/sqlscan"
	"github.com/tenantpath/tenantpath/internal/wire"
)

// Routing for connections database/sql does not manage: pgxpool's, through
// tenantpgx.Configure. pgx runs the statements; tenantpath only decides,
// from each call's context, which switch to arm on the connection's wire,
// with the same state and rules as a database/sql connection (a *conn with
// no base driver connection, marked native). Transactions are the ones the
// server reports: one begins when a request leaves the connection in a
// transaction block, for the scope of that request, and ends when the
// server says the connection is idle again.

func init() { bridge.NewRouter = newRouter }

type router struct{ cfg *config }

func newRouter(options any) (bridge.Router, error) {
	opts, ok := options.([]Option)
	if !ok {
		return nil, errors.New("tenantpath: bridge: options are not []tenantpath.Option")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.pool.size > 0 {
		return nil, errors.New("tenantpath: Pool is for database/sql; pgxpool keeps its own connections")
	}
	return &router{cfg: cfg}, nil
}

func (r *router) Conn(w *wire.Conn) bridge.Conn {
	c := newConn(nil, r.cfg, w)
	c.native = true
	return &nativeConn{c: c}
}

// nativeConn is one pgx connection's routing state.
type nativeConn struct {
	c *conn
	// The request routed last: its scope, what its SQL may do to the
	// path, whether a switch was armed for it.
	want   Scope
	effect sqlEffect
	armed  bool
	// depth counts calls in progress: pgx nests some (CopyFrom prepares
	// a description first, with its own trace). The outermost one routes
	// and lands; the ones inside run with its switch.
	depth int
}

var _ bridge.Conn = (*nativeConn)(nil)

func (n *nativeConn) Check(ctx context.Context) error {
	n.syncTx()
	if ScopeOf(ctx).Kind == ScopeNone {
		// A connection taken without a tenant is not yet a call without
		// one: pool.Ping takes one so, and so does database/sql's
		// connection opener over stdlib.OpenDBFromPool(pool), for the
		// calls waiting for a connection. Its statements, if any, are
		// refused as they are sent.
		return nil
	}
	want, err := n.c.wanted(ctx)
	if err != nil {
		return err
	}
	if n.c.tx != nil {
		return n.c.tx.refusal(want)
	}
	_, _, _, err = n.c.switchStatement(want, false, carried) // an invalid tenant fails here
	return err
}

func (n *nativeConn) Route(ctx context.Context, sql string) error {
	n.depth++
	if n.depth > 1 {
		n.effect |= sqlEffects(sql)
		return nil
	}
	n.syncTx()
	if txControlOnly(sql) {
		// pgx ends a transaction, and marks and releases its savepoints,
		// with statements of its own, sent with whatever context Commit or
		// Rollback got (often context.Background()). They read no table, so
		// they run on any path, and must: refusing a COMMIT would lose the
		// transaction's writes. What they do to the path is still tracked.
		n.want, n.effect, n.armed = n.txScope(), sqlEffects(sql), false
		return nil
	}
	want, err := n.c.wanted(ctx)
	if err != nil {
		return err
	}
	armed, err := n.c.pathFor(ctx, want, sql)
	if err != nil {
		return err
	}
	n.want, n.effect, n.armed = want, sqlEffects(sql), armed
	return nil
}

func (n *nativeConn) Done(err error) error {
	if n.depth--; n.depth > 0 {
		return err
	}
	c := n.c
	if n.armed {
		err = c.landed(context.Background(), err)
		n.armed = false
	}
	c.observe(context.Background(), n.want, n.effect)
	n.effect = 0
	return c.explain(err, n.want)
}

func (n *nativeConn) Usable() bool { return !n.c.bad && !n.c.retired }

// txScope is the scope of the transaction in progress, if any.
func (n *nativeConn) txScope() Scope {
	if n.c.tx != nil {
		return n.c.tx.scope
	}
	return Scope{}
}

// txControlOnly reports whether sql is a single statement that ends a
// transaction or sets, releases or rolls back to a savepoint: COMMIT, END,
// ROLLBACK, ABORT, SAVEPOINT, RELEASE, with their plain words only. Anything
// more (a second statement, a literal, a parenthesis) is routed as usual.
func txControlOnly(sql string) bool {
	sc := sqlscan.New(sql)
	sc.SkipNoise = true
	words, ended := 0, false
	for sc.Next() {
		t := &sc.Tok
		switch {
		case t.Kind == sqlscan.Space || t.Kind == sqlscan.Comment:
			continue
		case ended:
			return false // something after the semicolon
		case t.Kind == sqlscan.Semicolon:
			ended = true
			continue
		case t.Kind != sqlscan.Word:
			return false
		case words == 0 && !isTxControlWord(t.Text):
			return false
		}
		words++
	}
	return words > 0
}

func isTxControlWord(w string) bool {
	for _, k := range [...]string{"commit", "end", "rollback", "abort", "savepoint", "release"} {
		if equalFold(w, k) {
			return true
		}
	}
	return false
}

// syncTx follows the transaction block the server reports: pgx begins and
// ends transactions with statements of its own.
func (n *nativeConn) syncTx() {
	c := n.c
	inBlock := c.wire.TxStatus() != 'I'
	switch {
	case inBlock && c.tx == nil:
		c.tx = &tx{conn: c, scope: n.want}
	case !inBlock && c.tx != nil:
		c.tx.end()
	}
}
