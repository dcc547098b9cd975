package tenantpath

import (
	"errors"
	"fmt"
	"time"
)

// poolConfig holds the settings of [Pool] and its companion options. The
// zero value means tenantpath keeps no pool: database/sql's own pool holds
// the connections, as without tenantpath.
type poolConfig struct {
	size        int           // Pool(n); 0: no pool of tenantpath's
	maxLifetime time.Duration // PoolMaxLifetime; 0: no limit
	maxIdleTime time.Duration // PoolMaxIdleTime; 0: no limit
	hold        time.Duration // PoolRequestHold
	holdSet     bool          // PoolRequestHold was given (0 then turns holding off)
	tuned       []string      // the companion options given, for the check that Pool is set
}

// defaultRequestHold is how long, by default, a connection released by a
// request waits for that request's next statement while other callers
// queue: statements of one request usually follow each other within
// microseconds, and a request that does something else in between gives
// its connection up after this long.
const defaultRequestHold = 2 * time.Millisecond

// Pool makes tenantpath own the server connections: up to n of them, handed
// to each call with a preference for one already on the call's path, so
// that a shared *sql.DB serving many tenants stops switching on most
// statements. [OpenDB] turns database/sql's own idle pool off
// (SetMaxIdleConns(0)) and lifts its limit on open connections
// (SetMaxOpenConns(0)), so that every checkout reaches tenantpath; the
// limit of n server connections is tenantpath's, and callers beyond it wait
// in tenantpath's queue. docs/pool.md says how connections are chosen and
// what changing those two settings afterwards does.
//
// How a connection is chosen for a call:
//
//   - the connection the call's request used last, if it is free (a
//     request is a context that can be cancelled, as net/http's request
//     contexts are: statements passed the same context value stay on one
//     connection; see [PoolRequestHold]);
//   - else a free connection already on the call's path (no switch);
//   - else a free connection on no tenant's path;
//   - else a new connection, while fewer than n are open;
//   - else a free connection that has served the call's tenant before (its
//     server process still caches that tenant's catalog entries), the
//     least recently used first;
//   - else the least recently used free connection;
//   - else the call waits. A connection given back goes to a caller waiting
//     for its path, else to one whose tenant it has served before, else to
//     the caller that has waited longest; the longest waiter is passed over
//     at most n times, so no caller waits unboundedly behind others'
//     affinity. Waiting ends with the call's context.
//
// Every connection taken from the pool is checked through the base driver
// (ResetSession, so pgx still pings one that has been idle for a second;
// IsValid when it is given back), and prepared statements (db.Prepare) are
// kept per connection, so they are not prepared again every time
// database/sql hands them another connection. [PoolStatsOf] reports what the
// pool did.
//
// Pool cannot be combined with [TransactionPooling]: behind a
// transaction-mode pooler a client connection is not a server session, so
// there is no path to be affine to. With a driver registered through [Wrap]
// and opened with sql.Open, call db.SetMaxIdleConns(0) and
// db.SetMaxOpenConns(0) yourself. n must be at least 1.
func Pool(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("tenantpath: Pool(%d): the pool needs at least one connection", n)
		}
		c.pool.size = n
		return nil
	}
}

// PoolMaxLifetime closes a pool connection once it is older than d, when it
// is next given back or found idle. Zero, the default, never closes a
// connection for its age. A PostgreSQL server process keeps the catalog
// entries of every schema it has served until it ends, so a lifetime also
// bounds that memory (as [MaxTenantsPerConn] does by tenant count). It
// needs [Pool].
func PoolMaxLifetime(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("tenantpath: PoolMaxLifetime: negative duration")
		}
		c.pool.maxLifetime = d
		c.pool.tuned = append(c.pool.tuned, "PoolMaxLifetime")
		return nil
	}
}

// PoolMaxIdleTime closes a pool connection that has been idle for longer
// than d; a background check runs every d/2 (at least every second) until
// the pool is closed. Zero, the default, keeps idle connections open. It
// needs [Pool].
func PoolMaxIdleTime(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("tenantpath: PoolMaxIdleTime: negative duration")
		}
		c.pool.maxIdleTime = d
		c.pool.tuned = append(c.pool.tuned, "PoolMaxIdleTime")
		return nil
	}
}

// PoolRequestHold sets how long a connection given back by a request is
// kept for that request's next statement while other callers are waiting
// (default 2ms). A request is a context that can be cancelled (net/http's
// request contexts are, and so is anything derived from them): statements
// run with the same context value reuse the connection it used last, so a
// request of several statements on a shared *sql.DB switches at most about
// once. The hold ends at once when the request's next statement takes the
// connection or its context is done, and after d otherwise; calls with a
// context that cannot be cancelled are never held for. Zero turns holding
// off: a request then still gets its last connection back when that is
// free, but not while others queue for it. It needs [Pool].
func PoolRequestHold(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("tenantpath: PoolRequestHold: negative duration")
		}
		c.pool.hold, c.pool.holdSet = d, true
		c.pool.tuned = append(c.pool.tuned, "PoolRequestHold")
		return nil
	}
}

// check refuses combinations that cannot work, once every option is in.
func (pc *poolConfig) check(c *config) error {
	if pc.size == 0 {
		if len(pc.tuned) > 0 {
			return fmt.Errorf("tenantpath: %s needs Pool(n)", pc.tuned[0])
		}
		return nil
	}
	if c.txPooling {
		return errors.New("tenantpath: Pool and TransactionPooling do not combine: behind a transaction-mode pooler " +
			"a client connection is not a server session, so there is no path to keep connections on")
	}
	if !pc.holdSet {
		pc.hold = defaultRequestHold
	}
	return nil
}
