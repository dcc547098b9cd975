package tenantpgx

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/bridge"
	"github.com/tenantpath/tenantpath/internal/wire"
)

// Configure makes every call on a pool built from cfg run under the
// search_path of the tenant in the call's context, with the rules, naming,
// options and errors of tenantpath's driver: pool.Query, QueryRow, Exec,
// Begin and BeginTx, SendBatch, CopyFrom and Prepare, and the same calls on
// a connection from pool.Acquire or in a pgx.Tx. Each switch travels in the
// same network write as the statement it precedes.
//
// It installs, chained with whatever cfg already has: the carrier on the
// connection's network stream (see [Install]), a PrepareConn hook that
// refuses a call before anything is sent when it can (an invalid tenant,
// another tenant inside a transaction: [tenantpath.InvalidTenantError],
// [tenantpath.ErrTenantMismatch]), and a tracer that routes each statement
// (your own tracer in cfg.ConnConfig.Tracer still sees every call). Call it
// once, before pgxpool.NewWithConfig.
//
// A connection can be taken without a tenant (pool.Ping does so), but a
// statement without one is refused as pgx sends it, with an error wrapping
// [tenantpath.ErrNoTenant], and pgx closes the connection after the failed
// write. Only a lone COMMIT, END, ROLLBACK, ABORT, SAVEPOINT or RELEASE
// runs under any context: pgx ends transactions and savepoints with
// whatever context Commit or Rollback gets.
//
// A tenant whose schema does not exist fails the statement with
// PostgreSQL's own error (a *pgconn.PgError, SQLSTATE 3F000: pgx has no
// hook through which to replace it); [UnknownTenant] recognises it. Inside a
// pgx transaction, or on a connection from Acquire used with another
// context than the one it was acquired with, a call for another tenant is
// found out only as pgx sends it: the send fails with an error wrapping
// [tenantpath.ErrTenantMismatch] and pgx closes the connection, which ends
// the transaction without the call having run.
//
// Calls that bypass pgx's tracers (conn.PgConn() used directly) are not
// routed.
func Configure(cfg *pgxpool.Config, opts ...tenantpath.Option) error {
	r, err := bridge.NewRouter(opts)
	if err != nil {
		return err
	}
	Install(&cfg.ConnConfig.Config)
	t := &tracer{router: r, next: cfg.ConnConfig.Tracer}
	cfg.ConnConfig.Tracer = t
	//lint:ignore SA1019 a BeforeAcquire of the user's must still run: pgxpool ignores it once PrepareConn is set
	cfg.PrepareConn = t.prepareConn(cfg.PrepareConn, cfg.BeforeAcquire)
	return nil
}

// UnknownTenant reports whether err is PostgreSQL's refusal of a switch to
// a tenant whose schema (or role) does not exist, as a pgx-native call
// reports it (see [Configure]).
func UnknownTenant(err error) bool {
	if errors.Is(err, tenantpath.ErrUnknownTenant) {
		return true
	}
	var coded interface{ SQLState() string }
	if !errors.As(err, &coded) {
		return false
	}
	switch coded.SQLState() {
	case "3F000", "42704":
		return true
	}
	return false
}

// errNoCarrier: a connection of a configured pool without the carrier,
// which only another hook replacing AfterNetConnect can cause.
var errNoCarrier = errors.New("tenantpgx: the connection has no carrier: is AfterNetConnect replaced after Configure?")

// stateKey names the routing state in pgconn's per-connection CustomData.
const stateKey = "tenantpath"

// tracer routes each call, then hands it to the user's tracer.
type tracer struct {
	router bridge.Router
	next   pgx.QueryTracer
}

var (
	_ pgx.QueryTracer    = (*tracer)(nil)
	_ pgx.BatchTracer    = (*tracer)(nil)
	_ pgx.CopyFromTracer = (*tracer)(nil)
	_ pgx.PrepareTracer  = (*tracer)(nil)
	_ pgx.ConnectTracer  = (*tracer)(nil)
)

// state returns the routing state of conn, made on first use.
func (t *tracer) state(conn *pgx.Conn) bridge.Conn {
	data := conn.PgConn().CustomData()
	if st, ok := data[stateKey].(bridge.Conn); ok {
		return st
	}
	w, ok := conn.PgConn().Conn().(*wire.Conn)
	if !ok {
		return nil
	}
	st := t.router.Conn(w)
	data[stateKey] = st
	return st
}

// route arms the switch for the call about to be sent, or makes its send
// fail when it must not run; sql is the call's SQL, or the names of
// statements prepared on the connection. It returns the context the call
// goes on with.
func (t *tracer) route(ctx context.Context, conn *pgx.Conn, sql ...string) context.Context {
	st := t.state(conn)
	var err error
	if st == nil {
		err = errNoCarrier
	} else {
		for i, q := range sql {
			sql[i] = st.Text(q)
		}
		ctx, err = st.Route(ctx, strings.Join(sql, ";\n"))
	}
	if err != nil && !conn.IsClosed() { // a closed connection sends nothing more
		if w, ok := conn.PgConn().Conn().(*wire.Conn); ok {
			w.Refuse(err)
		}
	}
	return ctx
}

func (t *tracer) done(conn *pgx.Conn, err error) {
	if w, ok := conn.PgConn().Conn().(*wire.Conn); ok {
		w.Refuse(nil) // a refusal pgx never wrote must not fall on the next call
	}
	if st := t.state(conn); st != nil {
		st.Done(err)
	}
}

func (t *tracer) prepareConn(prev func(context.Context, *pgx.Conn) (bool, error), before func(context.Context, *pgx.Conn) bool) func(context.Context, *pgx.Conn) (bool, error) {
	return func(ctx context.Context, conn *pgx.Conn) (bool, error) {
		switch {
		case prev != nil:
			if ok, err := prev(ctx, conn); !ok || err != nil {
				return ok, err
			}
		case before != nil:
			if !before(ctx, conn) {
				return false, nil
			}
		}
		st := t.state(conn)
		switch {
		case st == nil:
			return false, errNoCarrier
		case !st.Usable():
			return false, nil // in doubt or retired: pgxpool destroys it and takes another
		}
		return true, st.Check(ctx) // an error fails the call; the connection stays
	}
}

func (t *tracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	ctx = t.route(ctx, conn, data.SQL)
	if t.next != nil {
		ctx = t.next.TraceQueryStart(ctx, conn, data)
	}
	return ctx
}

func (t *tracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	t.done(conn, data.Err)
	if t.next != nil {
		t.next.TraceQueryEnd(ctx, conn, data)
	}
}

func (t *tracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	var sql []string
	if data.Batch != nil {
		for _, q := range data.Batch.QueuedQueries {
			sql = append(sql, q.SQL)
		}
	}
	ctx = t.route(ctx, conn, sql...)
	if bt, ok := t.next.(pgx.BatchTracer); ok {
		ctx = bt.TraceBatchStart(ctx, conn, data)
	}
	return ctx
}

func (t *tracer) TraceBatchQuery(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchQueryData) {
	if bt, ok := t.next.(pgx.BatchTracer); ok {
		bt.TraceBatchQuery(ctx, conn, data)
	}
}

func (t *tracer) TraceBatchEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchEndData) {
	t.done(conn, data.Err)
	if bt, ok := t.next.(pgx.BatchTracer); ok {
		bt.TraceBatchEnd(ctx, conn, data)
	}
}

func (t *tracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	ctx = t.route(ctx, conn, "COPY "+data.TableName.Sanitize()+" FROM STDIN")
	if ct, ok := t.next.(pgx.CopyFromTracer); ok {
		ctx = ct.TraceCopyFromStart(ctx, conn, data)
	}
	return ctx
}

func (t *tracer) TraceCopyFromEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromEndData) {
	t.done(conn, data.Err)
	if ct, ok := t.next.(pgx.CopyFromTracer); ok {
		ct.TraceCopyFromEnd(ctx, conn, data)
	}
}

func (t *tracer) TracePrepareStart(ctx context.Context, conn *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	if st := t.state(conn); st != nil {
		st.Prepared(data.Name, data.SQL)
	}
	ctx = t.route(ctx, conn, data.SQL)
	if pt, ok := t.next.(pgx.PrepareTracer); ok {
		ctx = pt.TracePrepareStart(ctx, conn, data)
	}
	return ctx
}

func (t *tracer) TracePrepareEnd(ctx context.Context, conn *pgx.Conn, data pgx.TracePrepareEndData) {
	t.done(conn, data.Err)
	if pt, ok := t.next.(pgx.PrepareTracer); ok {
		pt.TracePrepareEnd(ctx, conn, data)
	}
}

func (t *tracer) TraceConnectStart(ctx context.Context, data pgx.TraceConnectStartData) context.Context {
	if ct, ok := t.next.(pgx.ConnectTracer); ok {
		ctx = ct.TraceConnectStart(ctx, data)
	}
	return ctx
}

func (t *tracer) TraceConnectEnd(ctx context.Context, data pgx.TraceConnectEndData) {
	if ct, ok := t.next.(pgx.ConnectTracer); ok {
		ct.TraceConnectEnd(ctx, data)
	}
}
