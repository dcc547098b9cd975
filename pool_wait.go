package tenantpath

import (
	"context"
	"time"
)

// warmScan bounds how many waiters, longest first, a connection given back
// looks through for one whose tenant it has served before.
const warmScan = 64

// grant is what a waiting caller is handed: a connection, or a free slot
// to open one in, or the error that ends its wait.
type grant struct {
	pc   *pooledConn
	dial bool
	err  error
}

// waiter is a caller waiting for a connection.
type waiter struct {
	want   Scope
	hash   uint64 // tenantHash(want.Tenant), for tenant scopes
	ch     chan grant
	start  time.Time
	passed int  // how often a connection went to someone who came later
	queued bool // still in the queue

	prev, next   *waiter // all waiters, longest first
	sprev, snext *waiter // waiters for the same scope, longest first
}

// waitQueue holds the waiting callers in arrival order, and per scope.
type waitQueue struct {
	head, tail *waiter
	n          int
	byScope    map[Scope]*waiterList
}

type waiterList struct{ head, tail *waiter }

func (q *waitQueue) init() { q.byScope = make(map[Scope]*waiterList) }

// keyed reports whether waiters for scope are indexed by it: only real
// paths can be matched with a connection's.
func keyed(s Scope) bool {
	return s.Kind == ScopeTenant || s.Kind == ScopeShared || s.Kind == ScopeBase
}

func (q *waitQueue) push(want Scope) *waiter {
	w := &waiter{want: want, ch: make(chan grant, 1), start: time.Now(), queued: true}
	if want.Kind == ScopeTenant {
		w.hash = tenantHash(want.Tenant)
	}
	w.prev = q.tail
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	q.n++
	if keyed(want) {
		l := q.byScope[want]
		if l == nil {
			l = &waiterList{}
			q.byScope[want] = l
		}
		w.sprev = l.tail
		if l.tail != nil {
			l.tail.snext = w
		} else {
			l.head = w
		}
		l.tail = w
	}
	return w
}

func (q *waitQueue) remove(w *waiter) {
	if !w.queued {
		return
	}
	w.queued = false
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	q.n--
	if keyed(w.want) {
		l := q.byScope[w.want]
		if w.sprev != nil {
			w.sprev.snext = w.snext
		} else {
			l.head = w.snext
		}
		if w.snext != nil {
			w.snext.sprev = w.sprev
		} else {
			l.tail = w.sprev
		}
		if l.head == nil {
			delete(q.byScope, w.want)
		}
	}
	w.prev, w.next, w.sprev, w.snext = nil, nil, nil, nil
}

func (q *waitQueue) front() *waiter { return q.head }

// grant hands g to w and takes it out of the queue.
func (q *waitQueue) grant(w *waiter, g grant) {
	q.remove(w)
	w.ch <- g // buffered: never blocks
}

// choose picks the waiter a connection given back should go to: one
// waiting for the path it is on, else one whose tenant it has served
// before, else the longest waiter. Each time the longest waiter is passed
// over it counts; after limit times it is served first, so affinity can
// delay a caller by at most limit hand-offs. Nil when nobody waits.
func (q *waitQueue) choose(pc *pooledConn, limit int) *waiter {
	head := q.head
	if head == nil || head.passed >= limit {
		return head
	}
	var pick *waiter
	if l := q.byScope[pc.on]; l != nil && keyed(pc.on) {
		pick = l.head
	} else {
		i := 0
		for w := head; w != nil && i < warmScan; w, i = w.next, i+1 {
			if w.want.Kind == ScopeTenant && pc.warm.has(w.hash) {
				pick = w
				break
			}
		}
	}
	if pick == nil {
		return head
	}
	if pick != head {
		head.passed++
	}
	return pick
}

// wait waits for w's grant or the end of ctx. A grant that crosses the
// cancellation is given back, so nothing is lost.
func (p *pool) wait(ctx context.Context, w *waiter) (pc *pooledConn, dial bool, err error) {
	select {
	case g := <-w.ch:
		p.stats.waited(time.Since(w.start), false)
		return g.pc, g.dial, g.err
	case <-ctx.Done():
	}
	p.mu.Lock()
	if w.queued {
		p.waiters.remove(w)
		p.mu.Unlock()
		p.stats.waited(time.Since(w.start), true)
		return nil, false, ctx.Err()
	}
	p.mu.Unlock()
	g := <-w.ch // granted just as ctx ended
	p.mu.Lock()
	switch {
	case g.pc != nil:
		p.inUse--
	case g.dial:
		p.open--
		p.passSlot()
	}
	p.mu.Unlock()
	if g.pc != nil {
		p.handOffUnlocked(g.pc)
	}
	p.stats.waited(time.Since(w.start), true)
	return nil, false, ctx.Err()
}
