package tenantpath

import (
	"database/sql"
	"sync/atomic"
	"time"
)

// PoolStats is what a [Pool] has done since it was opened, and holds now.
// Counters only grow; compare two readings to see a period.
type PoolStats struct {
	Size int // n of Pool(n)

	// Now.
	Open    int // server connections open, or being opened
	InUse   int // handed to callers
	Idle    int // free
	Held    int // kept for the next statement of the request that gave them back
	Waiting int // callers waiting for a connection

	// Since the pool was opened.
	Checkouts   uint64        // connections handed to callers
	SameRequest uint64        // … that were the one the caller's request used last
	OnPath      uint64        // … that were already on the caller's path (SameRequest ones included), so no switch was needed
	Waits       uint64        // checkouts that had to wait
	WaitTime    time.Duration // time spent waiting, in total
	Canceled    uint64        // waits that ended with the caller's context
	Holds       uint64        // connections kept for a request's next statement
	Switches    uint64        // search_path switches sent on the pool's connections
	Opened      uint64        // server connections opened
	Closed      uint64        // server connections closed (dead, in doubt, retired, expired, or the pool closed)
	StmtHits    uint64        // prepares answered from a connection's statement cache
	StmtPrepare uint64        // prepares sent to the server
}

// poolCounters are the pool's running counts: atomics, so that counting
// costs no lock and no allocation.
type poolCounters struct {
	checkouts, sameRequest, onPath       atomic.Uint64
	waits, canceled, holds, switches     atomic.Uint64
	opened, closed, stmtHits, stmtMisses atomic.Uint64
	waitNanos                            atomic.Int64
}

func (s *poolCounters) checkout(r rank, onPath bool) {
	s.checkouts.Add(1)
	if r == rankRequest {
		s.sameRequest.Add(1)
	}
	if onPath {
		s.onPath.Add(1)
	}
}

func (s *poolCounters) waited(d time.Duration, canceled bool) {
	s.waits.Add(1)
	s.waitNanos.Add(int64(d))
	if canceled {
		s.canceled.Add(1)
	}
}

// stats reads the counters and, under the lock, the gauges.
func (p *pool) statsNow() PoolStats {
	p.mu.Lock()
	st := PoolStats{
		Size: p.cfg.pool.size, Open: p.open, InUse: p.inUse,
		Idle: len(p.idle), Held: len(p.held), Waiting: p.waiters.n,
	}
	p.mu.Unlock()
	c := &p.stats
	st.Checkouts, st.SameRequest, st.OnPath = c.checkouts.Load(), c.sameRequest.Load(), c.onPath.Load()
	st.Waits, st.WaitTime, st.Canceled = c.waits.Load(), time.Duration(c.waitNanos.Load()), c.canceled.Load()
	st.Holds, st.Switches = c.holds.Load(), c.switches.Load()
	st.Opened, st.Closed = c.opened.Load(), c.closed.Load()
	st.StmtHits, st.StmtPrepare = c.stmtHits.Load(), c.stmtMisses.Load()
	return st
}

// PoolStats reports what the connector's [Pool] has done and holds now;
// ok is false when the connector was built without Pool.
func (c *Connector) PoolStats() (st PoolStats, ok bool) {
	if c.pool == nil {
		return PoolStats{}, false
	}
	return c.pool.statsNow(), true
}

// PoolStatsOf reports the [PoolStats] of a *sql.DB opened with [OpenDB]
// (or with sql.OpenDB over a [Connector] from [NewConnector]) and [Pool];
// ok is false for any other *sql.DB, including one opened with sql.Open
// over a driver from [Wrap] (use that Connector's PoolStats instead).
func PoolStatsOf(db *sql.DB) (st PoolStats, ok bool) {
	d, isOurs := db.Driver().(*Driver)
	if !isOurs || d.conn == nil {
		return PoolStats{}, false
	}
	return d.conn.PoolStats()
}
