package tenantpath

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"

	"github.com/tenantpath/tenantpath/internal/wire"
)

// statement is one Exec or Query call, on the connection or on one of its
// prepared statements. Every call takes the same path through run, as
// database/sql's own calls go through execDC and queryDC.
type statement struct {
	query  bool        // Query rather than Exec
	text   string      // the SQL (of a prepared statement: the text it was prepared from)
	prep   driver.Stmt // the base driver's prepared statement, or nil
	args   []driver.NamedValue
	effect sqlEffect
}

// run applies the call's path, sends the statement, retries it when the
// server provably refused it before running any of it, and records what its
// SQL may have done to the path.
func (c *conn) run(ctx context.Context, st *statement) (driver.Result, driver.Rows, error) {
	want, err := c.wanted(ctx)
	if err != nil {
		return nil, nil, err
	}
	if c.pooled(want) {
		if st.effect&(effectEndTx|effectBodyEndTx) != 0 {
			// The statement's own transaction carries its path; SQL
			// after a COMMIT in it would run outside, on no tenant's
			// path, on whichever server connection the pooler picks.
			return nil, nil, &PooledTxControlError{Scope: want, Query: st.text}
		}
		if c.wire == nil || !wire.Carriable(st.text) {
			return c.runPooled(ctx, want, st)
		}
	}
	res, rows, err := c.attempt(ctx, want, st)
	if err != nil && c.mayRetry(err, st) {
		c.cfg.counts.driftRetries.Add(1)
		c.cfg.log(ctx, slog.LevelInfo, "tenantpath: statement retried", want, slog.String("error", err.Error()))
		c.settle(ctx) // the failed attempt may have undone a carried switch
		res, rows, err = c.attempt(ctx, want, st)
	}
	if errors.Is(err, driver.ErrBadConn) && c.refusedUnsent(ctx, err) {
		return nil, nil, busyError(want, err)
	}
	c.observe(ctx, want, st.effect)
	c.countRefusal(ctx, want, err)
	return res, rows, c.explain(err, want)
}

// attempt puts the statement on want's path and sends it once.
func (c *conn) attempt(ctx context.Context, want Scope, st *statement) (driver.Result, driver.Rows, error) {
	armed, err := c.pathFor(ctx, want, st.text)
	if err != nil {
		return nil, nil, err
	}
	res, rows, err := c.send(ctx, st)
	if armed {
		err = c.landed(ctx, err)
	}
	return res, rows, err
}

// send hands the statement to the base driver as it is.
func (c *conn) send(ctx context.Context, st *statement) (driver.Result, driver.Rows, error) {
	switch {
	case st.prep != nil && st.query:
		rows, err := queryStmt(ctx, st.prep, st.args)
		return nil, rows, err
	case st.prep != nil:
		res, err := execStmt(ctx, st.prep, st.args)
		return res, nil, err
	case st.query:
		rows, err := c.inner.(driver.QueryerContext).QueryContext(ctx, st.text, st.args)
		return nil, rows, err
	default:
		res, err := c.inner.(driver.ExecerContext).ExecContext(ctx, st.text, st.args)
		return res, nil, err
	}
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if _, ok := c.inner.(driver.ExecerContext); !ok {
		return nil, driver.ErrSkip // database/sql prepares instead
	}
	res, _, err := c.run(ctx, &statement{text: query, args: args, effect: sqlEffects(query)})
	return res, err
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if _, ok := c.inner.(driver.QueryerContext); !ok {
		return nil, driver.ErrSkip
	}
	_, rows, err := c.run(ctx, &statement{query: true, text: query, args: args, effect: sqlEffects(query)})
	return rows, err
}

// execDirect runs an argument-free statement of tenantpath's own on the
// inner connection, outside the statement path. With no arguments both pgx
// and lib/pq use the simple protocol: one round trip, nothing prepared or
// cached.
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
