package tenanthttp

import (
	"context"
	"errors"
	"time"
)

// A Checker reports whether a tenant exists. *[Cache] is one; so is the
// migrator's *migrator.Migrator, whose Exists asks the server each time.
// Implementations must be safe for concurrent use.
type Checker interface {
	Exists(ctx context.Context, tenant string) (bool, error)
}

// A TenantSource lists every tenant id. The migrator's *migrator.Migrator
// is one; a [Lister] function is one too. Implementations must be safe for
// concurrent use.
type TenantSource interface {
	List(ctx context.Context) ([]string, error)
}

// A TenantWatcher tells of changes to the tenants as they happen. A
// [TenantSource] that also has this method (the migrator does) lets a
// [Cache] know of them at once instead of at its next load.
//
// Watch registers fn and returns a function that unregisters it. fn is
// called once the change has committed: with exists true for a tenant
// created, false for one dropped, and both for a rename (the old id false,
// the new one true). fn may be called from any goroutine, and returns
// quickly.
type TenantWatcher interface {
	Watch(fn func(tenant string, exists bool)) (stop func())
}

// Lister returns every tenant id, such as the migrator's
// (*migrator.Migrator).List or a query of the application's organisations
// table.
type Lister func(ctx context.Context) ([]string, error)

// List calls l, which makes a Lister a [TenantSource].
func (l Lister) List(ctx context.Context) ([]string, error) { return l(ctx) }

// DefaultMissRefresh is how long after a load a [Cache] reloads its list
// for a tenant it does not know, unless [MissRefresh] says otherwise.
const DefaultMissRefresh = time.Second

// CacheOption configures a [Cache] built by [NewCache] or [NewCacheFrom].
type CacheOption func(*Cache) error

// MissRefresh sets when a tenant missing from a cached list makes the
// [Cache] load the list again before answering: when the last load began
// at least minInterval ago. A tenant created since the last load (by
// another process, or by this one through a source that cannot watch) is
// then found by the first request for it, within minInterval. Requests for
// ids that do not exist make the source run at most once per minInterval,
// however many arrive: a load in flight is shared by every request that
// needs it.
//
// minInterval 0 turns this off: a miss is answered from the cache until
// the TTL has passed. Without this option the interval is
// [DefaultMissRefresh].
func MissRefresh(minInterval time.Duration) CacheOption {
	return func(c *Cache) error {
		if minInterval < 0 {
			return errors.New("tenanthttp: MissRefresh: negative interval")
		}
		c.missEvery = minInterval
		return nil
	}
}

// NewCache returns a Cache over list whose loads hold for ttl. A nil list
// or a ttl <= 0 is an error.
func NewCache(list Lister, ttl time.Duration, opts ...CacheOption) (*Cache, error) {
	if list == nil {
		return nil, errors.New("tenanthttp: NewCache: nil Lister")
	}
	return newCache(list, ttl, opts)
}

// NewCacheFrom returns a Cache over src whose loads hold for ttl. If src is
// also a [TenantWatcher], the Cache watches it from now on, applying each
// change at once; [Cache.Close] stops watching. A nil src or a ttl <= 0 is
// an error.
func NewCacheFrom(src TenantSource, ttl time.Duration, opts ...CacheOption) (*Cache, error) {
	if l, isLister := src.(Lister); src == nil || isLister && l == nil {
		return nil, errors.New("tenanthttp: NewCacheFrom: nil TenantSource")
	}
	c, err := newCache(src, ttl, opts)
	if err != nil {
		return nil, err
	}
	if w, ok := src.(TenantWatcher); ok {
		c.stopWatch = w.Watch(c.changed)
	}
	return c, nil
}

func newCache(src TenantSource, ttl time.Duration, opts []CacheOption) (*Cache, error) {
	if ttl <= 0 {
		return nil, errors.New("tenanthttp: NewCache: the TTL must be positive")
	}
	c := &Cache{src: src, ttl: ttl, missEvery: DefaultMissRefresh, now: time.Now}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("tenanthttp: NewCache: nil CacheOption")
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}
