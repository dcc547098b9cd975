package tenantpath

import (
	"context"
	"time"
)

// holdState is a connection kept for the next statement of the request
// that gave it back (see [PoolRequestHold]). Guarded by the pool's mu.
type holdState struct {
	active  bool
	until   time.Time
	timer   *time.Timer // made once per connection, then reset
	stopCtx func() bool // stops the context.AfterFunc watching the request
}

// stop ends the watchers of a hold; it does not wait for a watcher that is
// already running (it finds the hold over and does nothing).
func (h *holdState) stop() {
	h.active = false
	if h.timer != nil {
		h.timer.Stop()
	}
	if h.stopCtx != nil {
		h.stopCtx()
		h.stopCtx = nil
	}
}

// holdFor keeps pc for its request's next statement until the request's
// context is done or the hold time is over, whichever comes first. p.mu is
// held.
func (p *pool) holdFor(pc *pooledConn) {
	d := p.cfg.pool.hold
	pc.hold.active = true
	pc.hold.until = time.Now().Add(d)
	if pc.hold.timer == nil {
		pc.hold.timer = time.AfterFunc(d, func() { p.holdExpired(pc) })
	} else {
		pc.hold.timer.Reset(d)
	}
	req := pc.request
	pc.hold.stopCtx = context.AfterFunc(req, func() { p.requestDone(pc, req) })
	p.held = append(p.held, pc)
	p.stats.holds.Add(1)
}

// endHold takes pc out of the held list. p.mu is held.
func (p *pool) endHold(pc *pooledConn) {
	pc.hold.stop()
	p.held = remove(p.held, pc)
}

// holdExpired runs when a hold's time is over: the connection goes to the
// waiters. A timer that fires late for an earlier hold finds a later
// deadline and leaves the new hold alone.
func (p *pool) holdExpired(pc *pooledConn) {
	p.mu.Lock()
	if !pc.hold.active || time.Now().Before(pc.hold.until) {
		p.mu.Unlock()
		return
	}
	p.endHold(pc)
	p.mu.Unlock()
	p.handOffUnlocked(pc)
}

// requestDone runs when the context of the request a connection is held
// for is done: the request is over, so the connection goes to the waiters.
func (p *pool) requestDone(pc *pooledConn, req context.Context) {
	p.mu.Lock()
	if !pc.hold.active || pc.request != req {
		p.mu.Unlock()
		return
	}
	pc.request = nil
	p.endHold(pc)
	p.mu.Unlock()
	p.handOffUnlocked(pc)
}

// reclaimDone ends the holds of requests whose context is done and hands
// those connections on. The watcher started by holdFor does the same, but
// in a goroutine of its own that a busy machine may run late; a checkout
// that finds the request over does not wait for it. p.mu is held and the
// pool is open.
func (p *pool) reclaimDone() {
	for i := 0; i < len(p.held); {
		pc := p.held[i]
		if pc.request.Err() == nil {
			i++
			continue
		}
		pc.request = nil
		p.endHold(pc) // removes p.held[i]
		p.handOff(pc)
	}
}
