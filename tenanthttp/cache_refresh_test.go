package tenanthttp

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// A tenant missing from the cached list makes the cache reload it, at most
// once per MissRefresh interval, however many unknown ids arrive.
func TestCacheMissRefresh(t *testing.T) {
	l := &fakeList{tenants: []string{"acme"}}
	c, clock := newTestCache(t, l.list, time.Hour) // DefaultMissRefresh
	mustExist(t, c, "acme", true)

	l.set(nil, "acme", "globex") // created since the load
	mustExist(t, c, "globex", false)
	if n := l.calls.Load(); n != 1 {
		t.Fatalf("lister called %d times; a miss right after a load must not reload", n)
	}
	clock.advance(DefaultMissRefresh)
	mustExist(t, c, "globex", true)
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("lister called %d times, want 2: the miss reloads once the interval has passed", n)
	}

	// Random ids cannot hammer the source: one reload per interval.
	for i := 0; i < 100; i++ {
		mustExist(t, c, fmt.Sprintf("nope%d", i), false)
		clock.advance(DefaultMissRefresh / 100)
	}
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("lister called %d times by 100 misses within one interval, want 2", n)
	}
	mustExist(t, c, "nope", false)
	if n := l.calls.Load(); n != 3 {
		t.Fatalf("lister called %d times, want 3: the interval had passed", n)
	}

	// A hit never reloads.
	clock.advance(time.Minute)
	mustExist(t, c, "acme", true)
	if n := l.calls.Load(); n != 3 {
		t.Fatalf("lister called %d times on a hit, want 3", n)
	}
}

func TestCacheMissRefreshInterval(t *testing.T) {
	l := &fakeList{tenants: []string{"acme"}}
	c, clock := newTestCache(t, l.list, time.Hour, MissRefresh(10*time.Second))
	mustExist(t, c, "acme", true)
	l.set(nil, "acme", "globex")
	clock.advance(9 * time.Second)
	mustExist(t, c, "globex", false)
	clock.advance(time.Second)
	mustExist(t, c, "globex", true)
}

func TestCacheMissRefreshOff(t *testing.T) {
	l := &fakeList{tenants: []string{"acme"}}
	c, clock := newTestCache(t, l.list, time.Hour, MissRefresh(0))
	mustExist(t, c, "acme", true)
	l.set(nil, "acme", "globex")
	clock.advance(59 * time.Minute)
	mustExist(t, c, "globex", false)
	if n := l.calls.Load(); n != 1 {
		t.Fatalf("lister called %d times with MissRefresh(0), want 1", n)
	}
}

// A failed miss reload answers its caller with the error, keeps the list it
// had, and counts against the interval.
func TestCacheMissRefreshFailure(t *testing.T) {
	boom := errors.New("database down")
	l := &fakeList{tenants: []string{"acme"}}
	c, clock := newTestCache(t, l.list, time.Hour)
	mustExist(t, c, "acme", true)
	clock.advance(DefaultMissRefresh)
	l.set(boom)
	if _, err := c.Exists(context.Background(), "globex"); !errors.Is(err, boom) {
		t.Fatalf("Exists error %v, want %v", err, boom)
	}
	mustExist(t, c, "acme", true)
	mustExist(t, c, "initech", false)
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("lister called %d times, want 2", n)
	}
}

// Concurrent misses share one reload.
func TestCacheMissRefreshSingleFlight(t *testing.T) {
	b := newBlockingList()
	c, clock := newTestCache(t, b.list, time.Hour)
	go func() { b.release <- []string{"acme"} }()
	mustExist(t, c, "acme", true)
	clock.advance(DefaultMissRefresh)

	const callers = 20
	var wg sync.WaitGroup
	results := make(chan bool, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := c.Exists(context.Background(), "globex")
			if err != nil {
				t.Error(err)
			}
			results <- ok
		}()
	}
	<-b.started // the first load
	<-b.started // the miss reload
	for c.waiters() < callers-1 {
		runtime.Gosched()
	}
	b.release <- []string{"acme", "globex"}
	wg.Wait()
	close(results)
	for ok := range results {
		if !ok {
			t.Fatal("a caller got false for a tenant the reload listed")
		}
	}
	if n := b.calls.Load(); n != 2 {
		t.Fatalf("lister called %d times, want 2 (one load, one shared reload)", n)
	}
}
