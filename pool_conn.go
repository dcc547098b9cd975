package tenantpath

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"time"
)

// The hooks through which a connection of a [Pool] differs from a plain
// one. A plain connection has no owner and goes through none of them.

// giveBack hands a pool connection back instead of closing it.
func (c *conn) giveBack() error { return c.owner.release() }

// prepare prepares query on the base connection, through the pool
// connection's statement cache when there is one.
func (c *conn) prepare(ctx context.Context, query string) (driver.Stmt, error) {
	if c.owner == nil {
		return prepareInner(ctx, c.inner, query)
	}
	return c.owner.stmts.prepare(ctx, c, query)
}

// switched counts a switch sent on a pool connection.
func (c *conn) switched() {
	if c.owner != nil {
		c.owner.p.stats.switches.Add(1)
	}
}

// cleaner closes free connections whose idle time or lifetime is over,
// every half of the shorter limit (at least every second), until the pool
// is closed.
func (p *pool) cleaner() {
	every := time.Second
	for _, d := range []time.Duration{p.cfg.pool.maxIdleTime, p.cfg.pool.maxLifetime} {
		if d > 0 {
			every = min(every, max(d/2, time.Millisecond))
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			var stale []*pooledConn
			if !p.closed {
				stale = p.dropStale(now)
			}
			p.mu.Unlock()
			p.closeAll(stale)
		}
	}
}

// startPool gives the connector its pool when the options ask for one.
func (c *Connector) startPool() {
	if c.cfg.pool.size > 0 {
		c.pool = newPool(c.base, c.cfg)
	}
}

// usePool sets a *sql.DB over a pooled connector so that every checkout
// reaches the pool: no idle connections of database/sql's own (they would
// be handed out without asking tenantpath) and no limit of its own on open
// connections (callers beyond it would queue in database/sql, which hands a
// connection given back to a random one of them).
func usePool(db *sql.DB) {
	db.SetMaxIdleConns(0)
	db.SetMaxOpenConns(0)
}

// healthy checks a free connection through the base driver: ResetSession,
// as database/sql would on reuse (pgx pings a connection idle for over a
// second and refuses one left in a transaction; ours refuses a connection in
// doubt or retired), and a ping first when the connection is suspect.
func (p *pool) healthy(ctx context.Context, pc *pooledConn) error {
	if pc.suspect {
		pc.suspect = false
		if err := pc.c.Ping(ctx); err != nil {
			return err
		}
	}
	return pc.c.ResetSession(ctx)
}

// suspectFree marks every free connection for a ping at its next checkout,
// because another one was found dead: after a server restart or a mass
// termination, every connection idle at that moment is probably dead too,
// and a driver that pings only after a second of idleness would otherwise
// fail one caller's statement per dead connection. p.mu is held.
func (p *pool) suspectFree() {
	for _, pc := range p.idle {
		pc.suspect = true
	}
}

// baseValid reports whether the base driver still considers its
// connection usable (true when it cannot say).
func baseValid(c *conn) bool {
	v, ok := c.inner.(driver.Validator)
	return !ok || v.IsValid()
}
