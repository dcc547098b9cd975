package tenantpath

import (
	"context"
	"reflect"
	"time"
)

// rank orders the ways a checkout can be served, best first (see [Pool]).
type rank uint8

const (
	rankRequest  rank = iota // the connection the caller's request used last
	rankOnPath               // a free connection already on the caller's path
	rankNoTenant             // a free connection on no tenant's path
	rankNew                  // a new connection
	rankWarm                 // a free connection that has served the caller's tenant before
	rankLRU                  // the least recently used free connection
	rankWaited               // the connection a waiting caller was handed
)

// affinity is the path a checkout for ctx prefers: the scope ctx carries,
// or the base path for a call without one under AllowNoTenant. ScopeNone
// means no preference (Ping, or a call that will fail with ErrNoTenant).
func affinity(ctx context.Context, cfg *config) Scope {
	want := ScopeOf(ctx)
	if want.Kind == ScopeNone && cfg.allowNoTenant {
		want.Kind = ScopeBase
	}
	return want
}

// requestOf returns ctx if it can stand for a request: it can be cancelled
// (so the pool can tell when the request is over) and it is a pointer (so
// the pool can tell it is the same request by its identity, as the
// standard library's contexts are). A context of another kind, even of a
// comparable type, may hold a value that panics when compared, with the
// pool's lock held: it is no request. Otherwise nil.
func requestOf(ctx context.Context) context.Context {
	if ctx.Done() == nil || reflect.TypeOf(ctx).Kind() != reflect.Pointer {
		return nil
	}
	return ctx
}

// pick finds the best connection for a checkout among those kept for the
// caller's request and the free ones, after taking out of the free list
// those whose idle time or lifetime is over (returned as stale, to be
// closed). Among equally good free connections, the most recently used one
// serves a caller for its own path or for no tenant (the others then age
// out under PoolMaxIdleTime), the least recently used one any other. p.mu
// is held.
func (p *pool) pick(req context.Context, want Scope, now time.Time) (best *pooledConn, r rank, stale []*pooledConn) {
	if req != nil {
		for _, pc := range p.held {
			if pc.request == req {
				return pc, rankRequest, nil
			}
		}
	}
	stale = p.dropStale(now)
	r = rankWaited
	for _, pc := range p.idle {
		pr := rankOf(pc, req, want)
		if pr < r || (pr == r && pr <= rankNoTenant) {
			best, r = pc, pr
		}
	}
	return best, r, stale
}

// dropStale takes the free connections whose idle time or lifetime is over
// out of the pool and returns them, to be closed once p.mu is released;
// their slots go to waiters. p.mu is held.
func (p *pool) dropStale(now time.Time) (stale []*pooledConn) {
	kept := p.idle[:0]
	for _, pc := range p.idle {
		if p.staleIdle(pc, now) {
			stale = append(stale, pc)
		} else {
			kept = append(kept, pc)
		}
	}
	clear(p.idle[len(kept):])
	p.idle = kept
	p.open -= len(stale)
	for range stale {
		p.passSlot()
	}
	return stale
}

// rankOf says how well a free connection serves a checkout.
func rankOf(pc *pooledConn, req context.Context, want Scope) rank {
	switch {
	case req != nil && pc.request == req:
		return rankRequest
	case want.Kind == ScopeNone:
		return rankNoTenant // any connection will do
	case pc.on == want:
		return rankOnPath
	case pc.on.Kind != ScopeTenant:
		return rankNoTenant
	case want.Kind == ScopeTenant && pc.warm.has(tenantHash(want.Tenant)):
		return rankWarm
	}
	return rankLRU
}

// staleIdle reports whether a free connection must be closed rather than
// handed out: idle longer than PoolMaxIdleTime, or older than
// PoolMaxLifetime.
func (p *pool) staleIdle(pc *pooledConn, now time.Time) bool {
	idle := p.cfg.pool.maxIdleTime
	return (idle > 0 && now.Sub(pc.freed) >= idle) || p.expired(pc, now)
}

// warmSet remembers, approximately, the tenants a connection has served:
// one bit per tenant hash. A false "yes" only makes the pool prefer a
// connection that is no better than another; it never routes anything.
// 65,536 bits (8 KiB per connection) keep false hits near 5% for a
// connection that has served 3,000 tenants; a smaller set filled up in the
// 10,000-tenant benchmark and stopped telling connections apart.
type warmSet [1024]uint64

func (s *warmSet) add(scope Scope) {
	if scope.Kind == ScopeTenant {
		h := tenantHash(scope.Tenant)
		s[h/64%1024] |= 1 << (h % 64)
	}
}

func (s *warmSet) has(h uint64) bool { return s[h/64%1024]&(1<<(h%64)) != 0 }

// tenantHash is FNV-1a (64 bits) of the tenant id, computed in place so
// that it allocates nothing.
func tenantHash(tenant string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(tenant); i++ {
		h ^= uint64(tenant[i])
		h *= prime
	}
	return h
}
