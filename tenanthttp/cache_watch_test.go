package tenanthttp

import (
	"context"
	"sync"
	"testing"
	"time"
)

// watchedList is a TenantSource with a Watch method, like the migrator: the
// test reports changes with emit.
type watchedList struct {
	*fakeList
	mu      sync.Mutex
	fns     map[int]func(string, bool)
	next    int
	stopped int
	last    func(string, bool) // the last fn registered, kept after stop
}

func newWatchedList(tenants ...string) *watchedList {
	return &watchedList{fakeList: &fakeList{tenants: tenants}, fns: map[int]func(string, bool){}}
}

func (w *watchedList) List(ctx context.Context) ([]string, error) { return w.list(ctx) }

func (w *watchedList) Watch(fn func(string, bool)) func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := w.next
	w.next++
	w.fns[id], w.last = fn, fn
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.fns, id)
		w.stopped++
	}
}

func (w *watchedList) emit(tenant string, exists bool) {
	w.mu.Lock()
	fns := make([]func(string, bool), 0, len(w.fns))
	for _, fn := range w.fns {
		fns = append(fns, fn)
	}
	w.mu.Unlock()
	for _, fn := range fns {
		fn(tenant, exists)
	}
}

func (w *watchedList) watchers() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.fns)
}

var (
	_ TenantSource  = (*watchedList)(nil)
	_ TenantWatcher = (*watchedList)(nil)
	_ TenantSource  = Lister(nil)
)

// With a watching source, creates, renames and drops are seen at once,
// without a reload (the list itself is left stale to prove it).
func TestCacheWatch(t *testing.T) {
	src := newWatchedList("acme")
	c, err := NewCacheFrom(src, time.Hour, MissRefresh(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if src.watchers() != 1 {
		t.Fatalf("%d watchers, want 1", src.watchers())
	}
	mustExist(t, c, "acme", true)

	src.emit("globex", true) // created
	mustExist(t, c, "globex", true)
	src.emit("acme", false) // renamed to initech
	src.emit("initech", true)
	mustExist(t, c, "acme", false)
	mustExist(t, c, "initech", true)
	src.emit("globex", false) // dropped
	mustExist(t, c, "globex", false)
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("source listed %d times, want 1", n)
	}

	c.Close()
	c.Close()
	if src.watchers() != 0 || src.stopped != 1 {
		t.Fatalf("after Close: %d watchers, stopped %d times; want 0 and 1", src.watchers(), src.stopped)
	}
	src.last("umbrella", true) // a change delivered late, after stop
	mustExist(t, c, "umbrella", false)
}

// blockingWatchedList is a blocking source that also watches.
type blockingWatchedList struct {
	*blockingList
	*watchedList
}

func (b blockingWatchedList) List(ctx context.Context) ([]string, error) {
	return b.blockingList.list(ctx)
}

// A change reported while a load is in flight is newer than what the load
// may return: it is applied on top of it.
func TestCacheWatchDuringLoad(t *testing.T) {
	src := blockingWatchedList{newBlockingList(), newWatchedList()}
	c, err := NewCacheFrom(src, time.Hour, MissRefresh(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first := make(chan bool, 1)
	go func() {
		ok, _ := c.Exists(context.Background(), "globex")
		first <- ok
	}()
	<-src.started
	src.emit("globex", true) // created while the list was being read
	src.emit("acme", false)  // dropped likewise
	src.release <- []string{"acme"}
	if !<-first {
		t.Fatal("the load's caller missed a tenant created during the load")
	}
	mustExist(t, c, "globex", true)
	mustExist(t, c, "acme", false)
	if n := src.blockingList.calls.Load(); n != 1 {
		t.Fatalf("source listed %d times, want 1", n)
	}
}

// A source without Watch is simply listed.
func TestCacheFromPlainSource(t *testing.T) {
	l := &fakeList{tenants: []string{"acme"}}
	c, err := NewCacheFrom(Lister(l.list), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mustExist(t, c, "acme", true)
	c.Close() // nothing to stop
	mustExist(t, c, "acme", true)
}
