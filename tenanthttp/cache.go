package tenanthttp

import (
	"context"
	"errors"
	"sync"
	"time"
)

// A Checker reports whether a tenant exists. *[Cache] is one; so is the
// migrator's *migrator.Migrator, whose Exists asks the server each time.
// Implementations must be safe for concurrent use.
type Checker interface {
	Exists(ctx context.Context, tenant string) (bool, error)
}

// Lister returns every tenant id, such as the migrator's
// (*migrator.Migrator).List or a query of the application's organisations
// table.
type Lister func(ctx context.Context) ([]string, error)

// Cache is a [Checker] that answers from the tenant list of a [Lister],
// loaded at most once per TTL. Unknown names are answered from the cache
// too, so requests for tenants that do not exist cannot make the lister run
// more often than once per TTL. A tenant created after the last load is
// therefore unknown (404) until the TTL has passed or [Cache.Invalidate] is
// called: call it after creating a tenant.
//
// When the TTL has passed, the first request to need the list loads it;
// requests arriving meanwhile wait for that load instead of starting their
// own. A failed load is not cached: its caller gets the error (500) and the
// next request tries again.
//
// A Cache is safe for concurrent use.
type Cache struct {
	list Lister
	ttl  time.Duration
	now  func() time.Time // time.Now; tests replace it

	mu       sync.Mutex
	tenants  map[string]struct{}
	loadedAt time.Time
	fresh    bool          // tenants holds a load that has not been invalidated
	loading  chan struct{} // closed when the load in flight ends; nil if none
	gen      uint64        // incremented by Invalidate
	waiting  int           // callers waiting for the load in flight
}

var _ Checker = (*Cache)(nil)

// NewCache returns a Cache over list whose loads hold for ttl. A nil list
// or a ttl <= 0 is an error.
func NewCache(list Lister, ttl time.Duration) (*Cache, error) {
	if list == nil {
		return nil, errors.New("tenanthttp: NewCache: nil Lister")
	}
	if ttl <= 0 {
		return nil, errors.New("tenanthttp: NewCache: the TTL must be positive")
	}
	return &Cache{list: list, ttl: ttl, now: time.Now}, nil
}

// Exists reports whether tenant is in the list, loading the list first if
// it is older than the TTL or was invalidated. It returns ctx's error if ctx
// ends while it waits for another caller's load.
func (c *Cache) Exists(ctx context.Context, tenant string) (bool, error) {
	for {
		c.mu.Lock()
		if c.fresh && c.now().Sub(c.loadedAt) < c.ttl {
			_, ok := c.tenants[tenant]
			c.mu.Unlock()
			return ok, nil
		}
		if wait := c.loading; wait != nil {
			c.waiting++
			c.mu.Unlock()
			var err error
			select {
			case <-wait: // look again: the load may have failed
			case <-ctx.Done():
				err = ctx.Err()
			}
			c.mu.Lock()
			c.waiting--
			c.mu.Unlock()
			if err != nil {
				return false, err
			}
			continue
		}
		done := make(chan struct{})
		c.loading = done
		gen := c.gen
		c.mu.Unlock()

		ids, err := c.list(ctx)

		c.mu.Lock()
		c.loading = nil
		close(done)
		if err != nil {
			c.mu.Unlock()
			return false, err
		}
		set := make(map[string]struct{}, len(ids))
		for _, id := range ids {
			set[id] = struct{}{}
		}
		// A load that began before an Invalidate answers its own caller
		// but is not kept: it may predate the change.
		c.tenants, c.loadedAt, c.fresh = set, c.now(), gen == c.gen
		_, ok := set[tenant]
		c.mu.Unlock()
		return ok, nil
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

// waiters returns how many callers wait for the load in flight.
func (c *Cache) waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting
}
