package tenantpath

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync"
	"time"
)

// ErrPoolClosed is returned by a checkout that was waiting for a pool
// connection, or that started, after the pool was closed (DB.Close closes
// it). Nothing was sent.
var ErrPoolClosed = errors.New("tenantpath: pool closed")

// pool owns up to cfg.pool.size server connections (see [Pool]). Its
// fields are guarded by mu; a connection in use belongs to its caller and
// only comes back through release.
type pool struct {
	base  driver.Connector
	cfg   *config
	stats poolCounters

	mu      sync.Mutex
	closed  bool
	open    int           // connections open or being opened
	inUse   int           // connections handed out
	idle    []*pooledConn // free, in the order they were given back (least recently used first)
	held    []*pooledConn // given back by a request and kept for its next statement
	waiters waitQueue
	stop    chan struct{} // closed by close: ends the idle-time check
}

// pooledConn is one connection of the pool and what the pool knows of it.
// Its fields other than c are guarded by the pool's mu.
type pooledConn struct {
	c       *conn
	p       *pool
	created time.Time
	freed   time.Time // when it was last given back
	on      Scope     // c.on when it was given back
	warm    warmSet   // the tenants it has served, as far as the pool saw
	stmts   stmtCache // its base driver's prepared statements, by query text
	suspect bool      // another connection was found dead while it was free: ping it before use

	// request is the context of the checkout that had it last, if that
	// context can be cancelled (a request); nil otherwise.
	request context.Context
	hold    holdState
}

func newPool(base driver.Connector, cfg *config) *pool {
	p := &pool{base: base, cfg: cfg, stop: make(chan struct{})}
	p.waiters.init()
	if cfg.pool.maxIdleTime > 0 || cfg.pool.maxLifetime > 0 {
		go p.cleaner()
	}
	return p
}

// get hands the caller a connection: a free one chosen for ctx's path, a
// new one, or the next one given back while it waits.
func (p *pool) get(ctx context.Context) (driver.Conn, error) {
	want, req := affinity(ctx, p.cfg), requestOf(ctx)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pc, r, slot, err := p.acquire(ctx, want, req)
		if err != nil {
			return nil, err
		}
		if slot {
			return p.dial(ctx, want, req)
		}
		if err := p.checkout(ctx, pc, want, req, r); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			continue // the connection was dead or refused: it is closed, try again
		}
		return pc.c, nil
	}
}

// acquire takes the best free connection, or a slot to open a new one in
// (slot), or waits for either.
func (p *pool) acquire(ctx context.Context, want Scope, req context.Context) (pc *pooledConn, r rank, slot bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, 0, false, ErrPoolClosed
	}
	p.reclaimDone()
	pc, r, stale := p.pick(req, want, time.Now())
	var w *waiter
	switch {
	case (pc == nil || r > rankNoTenant) && p.open < p.cfg.pool.size:
		// Below n, a new connection is better than switching a free one
		// away from the tenant it serves.
		pc, slot = nil, true
		p.open++
	case pc != nil:
		p.take(pc)
	default:
		w = p.waiters.push(want)
	}
	p.mu.Unlock()
	p.closeAll(stale)
	if w == nil {
		return pc, r, slot, nil
	}
	pc, slot, err = p.wait(ctx, w)
	return pc, rankWaited, slot, err
}

// take moves a free or held connection to the caller. p.mu is held.
func (p *pool) take(pc *pooledConn) {
	if pc.hold.active {
		p.endHold(pc)
	} else {
		p.idle = remove(p.idle, pc)
	}
	p.inUse++
}

// remove returns list without pc, in the same order.
func remove(list []*pooledConn, pc *pooledConn) []*pooledConn {
	for i, x := range list {
		if x == pc {
			copy(list[i:], list[i+1:])
			list[len(list)-1] = nil
			return list[:len(list)-1]
		}
	}
	return list
}

// checkout checks a free connection before the caller gets it (see
// healthy). A connection that fails is closed.
func (p *pool) checkout(ctx context.Context, pc *pooledConn, want Scope, req context.Context, r rank) error {
	if err := p.healthy(ctx, pc); err != nil {
		p.discard(pc)
		return err
	}
	p.stats.checkout(r, pc.on == want && want.Kind != ScopeNone)
	p.mu.Lock()
	pc.request = req
	pc.warm.add(want)
	p.mu.Unlock()
	return nil
}

// dial opens a new connection in a slot the caller has reserved (p.open
// counts it already) with the caller's context, as database/sql would.
func (p *pool) dial(ctx context.Context, want Scope, req context.Context) (driver.Conn, error) {
	inner, err := p.base.Connect(ctx)
	if err != nil {
		p.mu.Lock()
		p.open--
		p.passSlot()
		p.mu.Unlock()
		return nil, err
	}
	pc := &pooledConn{c: connOver(p.base, inner, p.cfg), p: p, created: time.Now(), request: req}
	pc.c.owner = pc
	pc.warm.add(want)
	p.stats.opened.Add(1)
	p.stats.checkout(rankNew, false)
	p.mu.Lock()
	closed := p.closed
	if !closed {
		p.inUse++
	} else {
		p.open--
	}
	p.mu.Unlock()
	if closed {
		pc.closeInner()
		return nil, ErrPoolClosed
	}
	return pc.c, nil
}

// release takes back a connection database/sql has closed (with its idle
// pool off, database/sql closes every connection it is done with). A
// connection that is in doubt, retired, expired, still in a transaction or
// handed out by Unwrap is closed for real; any other is held for its
// request, handed to a waiter or kept free.
func (pc *pooledConn) release() error {
	p := pc.p
	c := pc.c
	now := time.Now()
	dead := !baseValid(c)
	keep := !dead && c.tx == nil && !c.exposed && c.IsValid() && !p.expired(pc, now)
	if keep {
		pc.stmts.released() // it may talk to the server: before anyone else has the connection
	}
	p.mu.Lock()
	p.inUse--
	if p.closed || !keep {
		p.open--
		p.passSlot()
		if dead {
			p.suspectFree()
		}
		p.mu.Unlock()
		p.stats.closed.Add(1)
		return pc.closeInner()
	}
	pc.on, pc.freed = c.on, now
	pc.warm.add(c.on)
	if p.waiters.n > 0 && pc.request != nil && p.cfg.pool.hold > 0 && pc.request.Err() == nil {
		p.holdFor(pc)
	} else {
		p.handOff(pc)
	}
	p.mu.Unlock()
	return nil
}

// handOff gives a free connection to the waiter that should have it, or
// keeps it free. Once the pool is closed it keeps nothing: it returns true
// and the caller must close pc after unlocking. p.mu is held.
func (p *pool) handOff(pc *pooledConn) (closeIt bool) {
	if p.closed {
		p.open--
		return true
	}
	if w := p.waiters.choose(pc, p.cfg.pool.size); w != nil {
		p.inUse++
		p.waiters.grant(w, grant{pc: pc})
		return false
	}
	p.idle = append(p.idle, pc)
	return false
}

// handOffUnlocked is handOff for callers that do not hold p.mu.
func (p *pool) handOffUnlocked(pc *pooledConn) {
	p.mu.Lock()
	closeIt := p.handOff(pc)
	p.mu.Unlock()
	if closeIt {
		p.closeAll([]*pooledConn{pc})
	}
}

// passSlot gives a free slot (a connection closed or never opened) to the
// longest waiter, which then opens a connection itself. p.mu is held.
func (p *pool) passSlot() {
	if p.closed {
		return
	}
	if w := p.waiters.front(); w != nil {
		p.open++
		p.waiters.grant(w, grant{dial: true})
	}
}

// discard closes a connection that was taken out of the pool but failed
// its checkout: the server may have gone away under the others too.
func (p *pool) discard(pc *pooledConn) {
	p.mu.Lock()
	p.inUse--
	p.open--
	p.passSlot()
	p.suspectFree()
	p.mu.Unlock()
	p.stats.closed.Add(1)
	pc.closeInner()
}

// expired reports whether pc has outlived PoolMaxLifetime.
func (p *pool) expired(pc *pooledConn, now time.Time) bool {
	return p.cfg.pool.maxLifetime > 0 && now.Sub(pc.created) >= p.cfg.pool.maxLifetime
}

// closeInner closes the base connection and the statements cached on it.
func (pc *pooledConn) closeInner() error {
	pc.stmts.closeAll()
	return pc.c.inner.Close()
}

// closeAll closes connections already taken out of the pool's lists (and
// counted out of p.open).
func (p *pool) closeAll(pcs []*pooledConn) {
	for _, pc := range pcs {
		p.stats.closed.Add(1)
		pc.closeInner()
	}
}

// close closes the pool: free and held connections now, connections in use
// when they are given back; waiting callers get ErrPoolClosed. It waits for
// nothing.
func (p *pool) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.stop)
	free := append(p.idle, p.held...)
	for _, pc := range p.held {
		pc.hold.stop()
	}
	p.idle, p.held = nil, nil
	p.open -= len(free)
	for w := p.waiters.front(); w != nil; w = p.waiters.front() {
		p.waiters.grant(w, grant{err: ErrPoolClosed})
	}
	p.mu.Unlock()
	var errs []error
	for _, pc := range free {
		p.stats.closed.Add(1)
		errs = append(errs, pc.closeInner())
	}
	return errors.Join(errs...)
}
