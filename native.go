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
	// depth counts calls in progress: pgx nests some (Exec and CopyFrom
	// prepare a description first, with a trace of their own). The
	// outermost one routes and lands; the ones inside run with its
	// switch. call tells them apart: the outermost call's context carries
	// it down to the calls pgx makes inside it.
	depth    int
	call     uint64
	innerErr error // the last error of a call inside the one in progress
	// What the last call left for the transaction block it may have
	// begun: its SQL's effects, and the scope of a transaction-local
	// switch that ran with it (TransactionPooling).
	lastEffect sqlEffect
	localFor   Scope
	// named holds the SQL of statements prepared by name whose text
	// matters to routing (it may change the path, or the name reads as
	// a transaction-control statement): pgx runs them by name.
	named map[string]string
}

// callKey is the context key of the outermost call in progress.
type callKey struct{}

// callMark identifies one outermost call on one connection.
type callMark struct {
	n    *nativeConn
	call uint64
}

// errUnfinished ends a call whose end pgx never reported: CopyFrom returns
// without its trace when it cannot describe the table.
var errUnfinished = errors.New("tenantpath: pgx ended a call without reporting its end")

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

func (n *nativeConn) Route(ctx context.Context, sql string) (context.Context, error) {
	if n.depth > 0 {
		if ctx.Value(callKey{}) == (callMark{n, n.call}) {
			n.depth++ // a call pgx makes inside the one in progress
			n.effect |= sqlEffects(sql)
			return ctx, nil
		}
		n.finishUnfinished()
	}
	n.depth = 1
	n.call++
	ctx = context.WithValue(ctx, callKey{}, callMark{n, n.call})
	n.c.wire.Refuse(nil) // a refusal an unfinished call left behind
	n.syncTx()
	n.localFor = Scope{}
	if txControlOnly(sql) {
		// pgx ends a transaction, and marks and releases its savepoints,
		// with statements of its own, sent with whatever context Commit or
		// Rollback got (often context.Background()). They read no table, so
		// they run on any path, and must: refusing a COMMIT would lose the
		// transaction's writes. What they do to the path is still tracked.
		n.want, n.effect, n.armed = n.txScope(), sqlEffects(sql), false
		return ctx, nil
	}
	want, err := n.c.wanted(ctx)
	if err != nil {
		return ctx, err
	}
	armed, err := n.c.pathFor(ctx, want, sql)
	if err != nil {
		return ctx, err
	}
	n.want, n.effect, n.armed = want, sqlEffects(sql), armed
	return ctx, nil
}

func (n *nativeConn) Done(err error) error {
	if n.depth == 0 {
		return err // the end of a call already finished as unfinished
	}
	if n.depth--; n.depth > 0 {
		if err != nil {
			n.innerErr = err
		}
		return err
	}
	n.innerErr = nil
	c := n.c
	if n.armed {
		a := c.armed
		err = c.landed(context.Background(), err)
		n.armed = false
		if a.local && err == nil {
			n.localFor = a.want // it holds for the block the call began, if any
		}
	}
	c.observe(context.Background(), n.want, n.effect)
	n.lastEffect, n.effect = n.effect, 0
	return c.explain(err, n.want)
}

// Prepared records a statement pgx prepares by name: a later call that
// names it is routed by its text.
func (n *nativeConn) Prepared(name, sql string) {
	if name == "" {
		return
	}
	if sqlEffects(sql) != 0 || txControlOnly(name) {
		if n.named == nil {
			n.named = make(map[string]string)
		}
		n.named[name] = sql
		return
	}
	delete(n.named, name) // prepared again, as something harmless
}

// Text returns the SQL a call runs: pgx runs a statement prepared on the
// connection when the call's SQL is its name.
func (n *nativeConn) Text(sqlOrName string) string {
	if sql, ok := n.named[sqlOrName]; ok {
		return sql
	}
	return sqlOrName
}

func (n *nativeConn) Usable() bool {
	n.finishUnfinished() // nothing is in progress on a connection handed out
	return !n.c.bad && !n.c.retired
}

// finishUnfinished ends a call whose end pgx never reported (CopyFrom
// returns without its trace when it cannot describe the table) as failed,
// with the error of the call pgx made inside it if there was one: what it
// armed is disarmed, or landed with that error, and the path is what the
// server did.
func (n *nativeConn) finishUnfinished() {
	if n.depth == 0 {
		return
	}
	err := n.innerErr
	if err == nil {
		err = errUnfinished
	}
	n.depth = 1
	n.Done(err)
}

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
		// The last call began a block. Its path holds for the block if
		// the connection was on it, or a transaction-local switch for it
		// ran with that call, and that call's own SQL did not touch the
		// path (BEGIN; SET LOCAL search_path …); otherwise the block's
		// first call sets it again.
		known := (c.on == n.want || n.localFor == n.want) && n.lastEffect&effectPath == 0
		c.tx = &tx{conn: c, scope: n.want, pathInDoubt: !known, touched: !known}
	case !inBlock && c.tx != nil:
		c.tx.end()
	}
}
