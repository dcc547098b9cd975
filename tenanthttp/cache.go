package tenanthttp

import (
	"context"
	"sync"
	"time"
)

// Cache is a [Checker] that answers from the tenant list of a
// [TenantSource], loaded at most once per TTL, and kept current between
// loads in two ways:
//
//   - a tenant missing from the list makes the Cache load it again first,
//     if the last load began at least the [MissRefresh] interval ago (by
//     default [DefaultMissRefresh]), so a tenant created since is found by
//     the first request for it within that interval, while ids that do not
//     exist cannot make the source run more often;
//   - a source that is also a [TenantWatcher] (the migrator) reports each
//     tenant created, renamed or dropped, and the Cache applies it at once:
//     a tenant created in this process is routable on the next request.
//
// A tenant dropped elsewhere is answered from the list until the TTL has
// passed (a hit never reloads); meanwhile the driver refuses its
// statements with [tenantpath.ErrUnknownTenant]. [Cache.Invalidate] makes
// the next request load the list again, for changes made where neither
// mechanism reaches.
//
// When a load is needed, the first request to need it loads; requests
// arriving meanwhile wait for that load instead of starting their own. A
// failed load is not cached: its caller gets the error (500) and the next
// request that needs a load tries again.
//
// A Cache is safe for concurrent use.
type Cache struct {
	src       TenantSource
	ttl       time.Duration
	missEvery time.Duration    // see MissRefresh; 0: misses never reload
	now       func() time.Time // time.Now; tests replace it
	stopWatch func()           // nil when src does not watch
	closeOnce sync.Once

	mu       sync.Mutex
	tenants  map[string]struct{}
	loadedAt time.Time     // when the kept list arrived; the TTL counts from here
	lastLoad time.Time     // when the last load began; MissRefresh counts from here
	fresh    bool          // tenants holds a load that has not been invalidated
	loading  chan struct{} // closed when the load in flight ends; nil if none
	gen      uint64        // incremented by Invalidate
	waiting  int           // callers waiting for the load in flight
	changes  []change      // watched changes since the load in flight began
	closed   bool          // Close was called: watched changes are ignored
}

var _ Checker = (*Cache)(nil)

// change is one tenant created (exists) or dropped, as a watch reports it.
type change struct {
	tenant string
	exists bool
}

func (ch change) applyTo(set map[string]struct{}) {
	if ch.exists {
		set[ch.tenant] = struct{}{}
	} else {
		delete(set, ch.tenant)
	}
}

// Exists reports whether tenant is in the list, loading the list first if
// it is older than the TTL or was invalidated, or if tenant is missing and
// a miss may reload it (see [MissRefresh]). It returns ctx's error if ctx
// ends while it waits for another caller's load.
func (c *Cache) Exists(ctx context.Context, tenant string) (bool, error) {
	for {
		c.mu.Lock()
		now := c.now()
		if c.fresh && now.Sub(c.loadedAt) < c.ttl {
			if _, ok := c.tenants[tenant]; ok || !c.reloadOnMiss(now) {
				c.mu.Unlock()
				return ok, nil
			}
		}
		if done := c.loading; done != nil {
			if err := c.wait(ctx, done); err != nil {
				return false, err
			}
			continue // look again: the load may have failed
		}
		return c.load(ctx, tenant)
	}
}

// reloadOnMiss reports whether a tenant missing from a fresh list should
// wait for the load in flight, or start one. Called with c.mu held.
func (c *Cache) reloadOnMiss(now time.Time) bool {
	return c.missEvery > 0 && (c.loading != nil || now.Sub(c.lastLoad) >= c.missEvery)
}

// wait waits for the load in flight to end. Called with c.mu held; returns
// with it released.
func (c *Cache) wait(ctx context.Context, done <-chan struct{}) error {
	c.waiting++
	c.mu.Unlock()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.mu.Lock()
	c.waiting--
	c.mu.Unlock()
	return err
}

// load loads the list and answers whether tenant is in it. Called with c.mu
// held and no load in flight; returns with it released. Whatever happens to
// the source's call (an error, a panic), the load ends and its waiters go
// on.
func (c *Cache) load(ctx context.Context, tenant string) (found bool, err error) {
	done := make(chan struct{})
	c.loading, c.changes, c.lastLoad = done, nil, c.now()
	gen := c.gen
	c.mu.Unlock()

	var ids []string
	loaded := false
	defer func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.loading = nil
		close(done)
		changes := c.changes
		c.changes = nil
		if !loaded {
			return // keep what was there
		}
		set := make(map[string]struct{}, len(ids))
		for _, id := range ids {
			set[id] = struct{}{}
		}
		// The list may predate changes watched during the load; they are
		// newer, so they win.
		for _, ch := range changes {
			ch.applyTo(set)
		}
		// A load that began before an Invalidate answers its own caller
		// but is not trusted afterwards: it may predate the change.
		c.tenants, c.loadedAt, c.fresh = set, c.now(), gen == c.gen
		_, found = set[tenant]
	}()
	ids, err = c.src.List(ctx)
	loaded = err == nil
	return false, err
}

// changed applies a change reported by the source's watch.
func (c *Cache) changed(tenant string, exists bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	ch := change{tenant: tenant, exists: exists}
	if c.tenants != nil {
		ch.applyTo(c.tenants)
	}
	if c.loading != nil {
		c.changes = append(c.changes, ch)
	}
}

// Invalidate makes the next Exists load the list again; a load in flight
// when it is called is not kept either. Call it after the change it must
// see has committed.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.fresh = false
	c.gen++
	c.mu.Unlock()
}

// Close stops watching the source, if it was being watched; the Cache goes
// on answering from its loads. Close may be called more than once.
func (c *Cache) Close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		// Outside c.mu: stop may wait for a callback that needs it.
		if c.stopWatch != nil {
			c.stopWatch()
		}
	})
}

// waiters returns how many callers wait for the load in flight.
func (c *Cache) waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting
}
