package tenanthttp

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is the Cache's clock in tests: time moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeList is a Lister whose tenants and failures the test controls, and
// which counts its calls.
type fakeList struct {
	mu      sync.Mutex
	tenants []string
	err     error
	calls   atomic.Int64
}

func (l *fakeList) list(ctx context.Context) ([]string, error) {
	l.calls.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.tenants...), l.err
}

func (l *fakeList) set(err error, tenants ...string) {
	l.mu.Lock()
	l.tenants, l.err = tenants, err
	l.mu.Unlock()
}

func newTestCache(t *testing.T, list Lister, ttl time.Duration, opts ...CacheOption) (*Cache, *fakeClock) {
	t.Helper()
	c, err := NewCache(list, ttl, opts...)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.now = clock.now
	return c, clock
}

func mustExist(t *testing.T, c *Cache, tenant string, want bool) {
	t.Helper()
	got, err := c.Exists(context.Background(), tenant)
	if err != nil {
		t.Fatalf("Exists(%q): %v", tenant, err)
	}
	if got != want {
		t.Fatalf("Exists(%q) = %v, want %v", tenant, got, want)
	}
}

func TestCacheTTL(t *testing.T) {
	l := &fakeList{tenants: []string{"acme"}}
	c, clock := newTestCache(t, l.list, time.Minute, MissRefresh(0))

	mustExist(t, c, "acme", true)
	mustExist(t, c, "globex", false)
	mustExist(t, c, "initech", false)
	if n := l.calls.Load(); n != 1 {
		t.Fatalf("lister called %d times within the TTL, want 1 (unknown names must not reload)", n)
	}

	l.set(nil, "acme", "globex")
	clock.advance(59 * time.Second)
	mustExist(t, c, "globex", false) // still the cached list
	if n := l.calls.Load(); n != 1 {
		t.Fatalf("lister called %d times before the TTL passed, want 1", n)
	}

	clock.advance(time.Second)
	mustExist(t, c, "globex", true)
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("lister called %d times after the TTL passed, want 2", n)
	}

	l.set(nil, "globex")
	clock.advance(time.Minute)
	mustExist(t, c, "acme", false) // removed tenants go too
}

func TestCacheInvalidate(t *testing.T) {
	l := &fakeList{tenants: []string{"acme"}}
	c, _ := newTestCache(t, l.list, time.Hour, MissRefresh(0))
	mustExist(t, c, "globex", false)
	l.set(nil, "acme", "globex")
	mustExist(t, c, "globex", false)
	c.Invalidate()
	mustExist(t, c, "globex", true)
	mustExist(t, c, "acme", true)
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("lister called %d times, want 2", n)
	}
}

func TestCacheErrorNotCached(t *testing.T) {
	boom := errors.New("database down")
	l := &fakeList{err: boom}
	c, _ := newTestCache(t, l.list, time.Minute)
	if _, err := c.Exists(context.Background(), "acme"); !errors.Is(err, boom) {
		t.Fatalf("Exists error %v, want %v", err, boom)
	}
	l.set(nil, "acme")
	mustExist(t, c, "acme", true)
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("lister called %d times, want 2 (a failed load must not be cached)", n)
	}
}

// blockingList is a Lister that waits for the test to release it.
type blockingList struct {
	started chan struct{} // receives one value per call
	release chan []string
	calls   atomic.Int64
}

func newBlockingList() *blockingList {
	return &blockingList{started: make(chan struct{}, 100), release: make(chan []string)}
}

func (b *blockingList) list(ctx context.Context) ([]string, error) {
	b.calls.Add(1)
	b.started <- struct{}{}
	select {
	case ids := <-b.release:
		return ids, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestCacheConcurrentCallersShareOneLoad(t *testing.T) {
	b := newBlockingList()
	c, _ := newTestCache(t, b.list, time.Minute)

	const callers = 20
	var wg sync.WaitGroup
	results := make(chan bool, callers)
	wg.Add(1)
	go func() {
		defer wg.Done()
		ok, _ := c.Exists(context.Background(), "acme")
		results <- ok
	}()
	<-b.started // the first caller is loading
	for i := 1; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _ := c.Exists(context.Background(), "acme")
			results <- ok
		}()
	}
	// Wait until every other caller is waiting for the load, as far as a
	// test can tell without sleeping: they block on the load's channel, so
	// let the load finish only after they had every chance to start.
	for c.waiters() < callers-1 {
		runtime.Gosched()
	}
	b.release <- []string{"acme"}
	wg.Wait()
	close(results)
	for ok := range results {
		if !ok {
			t.Fatal("a caller got false for a listed tenant")
		}
	}
	if n := b.calls.Load(); n != 1 {
		t.Fatalf("lister called %d times by %d concurrent callers, want 1", n, callers)
	}
}

func TestCacheWaiterCancelled(t *testing.T) {
	b := newBlockingList()
	c, _ := newTestCache(t, b.list, time.Minute)
	go c.Exists(context.Background(), "acme")
	<-b.started

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Exists(ctx, "acme")
		done <- err
	}()
	for c.waiters() < 1 {
		runtime.Gosched()
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter got %v, want context.Canceled", err)
	}
	b.release <- []string{"acme"}
}

func TestCacheInvalidateDuringLoad(t *testing.T) {
	b := newBlockingList()
	c, _ := newTestCache(t, b.list, time.Minute)
	first := make(chan bool, 1)
	go func() {
		ok, _ := c.Exists(context.Background(), "globex")
		first <- ok
	}()
	<-b.started
	// The tenant is created and the cache invalidated while a load that
	// began before the creation is still running.
	c.Invalidate()
	b.release <- []string{"acme"}
	if <-first {
		t.Fatal("the in-flight load answered true for a tenant it did not list")
	}
	// That load must not be kept: the next call loads again.
	go func() { b.release <- []string{"acme", "globex"} }()
	mustExist(t, c, "globex", true)
	if n := b.calls.Load(); n != 2 {
		t.Fatalf("lister called %d times, want 2", n)
	}
}

func TestNewCacheErrors(t *testing.T) {
	if _, err := NewCache(nil, time.Minute); err == nil {
		t.Error("NewCache(nil, ...) succeeded")
	}
	if _, err := NewCacheFrom(nil, time.Minute); err == nil {
		t.Error("NewCacheFrom(nil, ...) succeeded")
	}
	if _, err := NewCacheFrom(Lister(nil), time.Minute); err == nil {
		t.Error("NewCacheFrom(Lister(nil), ...) succeeded")
	}
	l := &fakeList{}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := NewCache(l.list, ttl); err == nil {
			t.Errorf("NewCache(list, %v) succeeded", ttl)
		}
	}
	if _, err := NewCache(l.list, time.Minute, MissRefresh(-time.Second)); err == nil {
		t.Error("NewCache with a negative MissRefresh succeeded")
	}
	if _, err := NewCache(l.list, time.Minute, nil); err == nil {
		t.Error("NewCache with a nil CacheOption succeeded")
	}
}
