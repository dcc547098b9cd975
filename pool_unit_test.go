package tenantpath

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Unit tests of the pool over an in-memory base driver: no server.

func TestPoolOptionsRefused(t *testing.T) {
	f := &fakeBase{}
	for _, c := range []struct {
		name string
		opts []Option
		want string
	}{
		{"size 0", []Option{Pool(0)}, "at least one connection"},
		{"negative size", []Option{Pool(-3)}, "at least one connection"},
		{"transaction pooling", []Option{Pool(4), TransactionPooling()}, "do not combine"},
		{"lifetime without pool", []Option{PoolMaxLifetime(time.Minute)}, "PoolMaxLifetime needs Pool"},
		{"idle time without pool", []Option{PoolMaxIdleTime(time.Minute)}, "PoolMaxIdleTime needs Pool"},
		{"hold without pool", []Option{PoolRequestHold(time.Millisecond)}, "PoolRequestHold needs Pool"},
		{"negative lifetime", []Option{Pool(1), PoolMaxLifetime(-1)}, "negative"},
		{"negative idle time", []Option{Pool(1), PoolMaxIdleTime(-1)}, "negative"},
		{"negative hold", []Option{Pool(1), PoolRequestHold(-1)}, "negative"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewConnector(f, c.opts...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
	if f.opened.Load() != 0 {
		t.Fatal("a refused configuration opened a connection")
	}
}

// A free connection on the caller's path beats a newer one, and below n a
// new connection beats switching one that serves another tenant.
func TestPoolPrefersConnectionOnPath(t *testing.T) {
	c, f := newFakePool(t, Pool(2))
	a := checkout(t, c, tenantCtx("a"))
	a.Close()
	b := checkout(t, c, tenantCtx("b"))
	if b == a {
		t.Fatal("tenant b was handed tenant a's free connection although the pool could open another")
	}
	b.Close()
	for range 5 {
		for _, id := range []string{"a", "b"} {
			cn := checkout(t, c, tenantCtx(id))
			if cn.on != (Scope{Kind: ScopeTenant, Tenant: id}) {
				t.Fatalf("tenant %s got a connection on %v", id, cn.on)
			}
			cn.Close()
		}
	}
	st := stats(t, c)
	if st.Switches != 2 || f.opened.Load() != 2 || st.OnPath != 10 {
		t.Fatalf("want 2 switches on 2 connections and 10 checkouts on path, got %+v (opened %d)", st, f.opened.Load())
	}
	// Full pool, no free connection on c's path: the least recently used
	// one (a's, given back first) is switched.
	a2 := checkout(t, c, tenantCtx("a"))
	b2 := checkout(t, c, tenantCtx("b"))
	a2.Close()
	b2.Close()
	cn := checkout(t, c, tenantCtx("c"))
	if cn != a2 {
		t.Fatal("tenant c did not get the least recently used connection")
	}
	cn.Close()
}

// A connection given back goes to a waiter for its path even if another
// caller has waited longer, but the longest waiter is passed over at most
// n times: here n is 1, so the next connection is its.
func TestPoolWaitersAffinityThenFairness(t *testing.T) {
	c, _ := newFakePool(t, Pool(1), PoolRequestHold(0))
	first := checkout(t, c, tenantCtx("a"))
	x := waiting(t, c, tenantCtx("x"))
	a1 := waiting(t, c, tenantCtx("a"))
	a2 := waiting(t, c, tenantCtx("a"))
	first.Close()
	got := <-a1
	if got == nil || got != first {
		t.Fatal("the connection on a's path did not go to the waiter for a")
	}
	select {
	case <-x:
		t.Fatal("the longest waiter was served although a waiter for the connection's path was queued")
	default:
	}
	got.Close() // a2 still waits for a, but x has been passed over once: its turn
	gx := <-x
	if gx == nil {
		t.Fatal("the longest waiter got no connection")
	}
	select {
	case <-a2:
		t.Fatal("affinity passed over the longest waiter more than n times")
	default:
	}
	gx.Close()
	if g := <-a2; g == nil {
		t.Fatal("the last waiter got no connection")
	} else {
		g.Close()
	}
}

// With nobody waiting for its path, a connection given back goes to a
// waiter whose tenant it has served before rather than to the longest
// waiter.
func TestPoolWaitersPreferWarmConnection(t *testing.T) {
	c, _ := newFakePool(t, Pool(1), PoolRequestHold(0))
	cn := checkout(t, c, tenantCtx("w"))
	if _, err := cn.ExecContext(tenantCtx("a"), "SELECT 1", nil); err != nil {
		t.Fatal(err)
	}
	x := waiting(t, c, tenantCtx("x"))
	w := waiting(t, c, tenantCtx("w"))
	cn.Close()
	g := <-w
	if g == nil {
		t.Fatal("the waiter for a tenant the connection had served got nothing")
	}
	g.Close()
	if g := <-x; g == nil {
		t.Fatal("the longest waiter got nothing")
	} else {
		g.Close()
	}
}

// No starvation under a stream of callers for one tenant: a caller for
// another tenant, queued behind them, is served within n hand-offs.
func TestPoolNoStarvation(t *testing.T) {
	const n = 3
	c, _ := newFakePool(t, Pool(n), PoolRequestHold(0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var holders sync.WaitGroup
	for range 4 * n { // hot callers, forever for tenant "hot"
		holders.Add(1)
		go func() {
			defer holders.Done()
			for ctx.Err() == nil {
				dc, err := c.Connect(WithTenant(ctx, "hot"))
				if err != nil {
					return
				}
				cn := dc.(*conn)
				cn.ExecContext(tenantCtx("hot"), "SELECT 1", nil)
				time.Sleep(50 * time.Microsecond)
				cn.Close()
			}
		}()
	}
	waitUntil(t, "hot callers queue", func() bool { return stats(t, c).Waiting > 0 })
	for i := range 20 {
		start := stats(t, c).Checkouts
		cold, err := c.Connect(WithTenant(context.Background(), "cold"))
		if err != nil {
			t.Fatal(err)
		}
		cold.Close()
		// Checkouts counts when a caller gets its connection: the cold
		// one's came after at most the hot callers already queued
		// (4n) plus n passes over it, plus the n connections free. The
		// count also takes in the hot checkouts between reading it and
		// queueing the cold caller, which a loaded machine (the race
		// detector, the rest of the suite) stretches: twice the bound.
		// A starving pool serves the hot callers without end.
		if served := stats(t, c).Checkouts - start; served > 2*uint64(4*n+n+n+1) {
			t.Fatalf("round %d: the cold caller was served after %d other checkouts", i, served)
		}
	}
	cancel()
	holders.Wait()
}

func TestPoolWaitCanceledLosesNothing(t *testing.T) {
	c, f := newFakePool(t, Pool(2), PoolRequestHold(0))
	a := checkout(t, c, tenantCtx("a"))
	b := checkout(t, c, tenantCtx("b"))
	ctx, cancel := context.WithTimeout(tenantCtx("c"), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Connect(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the deadline was noticed after %v", d)
	}
	if st := stats(t, c); st.Waiting != 0 || st.Canceled != 1 {
		t.Fatalf("after the deadline: %+v", st)
	}
	a.Close()
	b.Close()
	// Many waiters cancelled at random while connections come and go:
	// afterwards every connection is accounted for.
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				ctx, cancel := context.WithTimeout(tenantCtx(string(rune('a'+rng.IntN(4)))), time.Duration(rng.IntN(300))*time.Microsecond)
				if dc, err := c.Connect(ctx); err == nil {
					dc.(*conn).ExecContext(ctx, "SELECT 1", nil)
					time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond) // others queue meanwhile
					dc.Close()
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	st := stats(t, c)
	if st.Waiting != 0 || st.InUse != 0 || st.Idle != st.Open || int64(st.Open) != f.open() || st.Open > 2 {
		t.Fatalf("connections lost or leaked: %+v, base connections open %d", st, f.open())
	}
	if st.Canceled < 2 {
		t.Fatalf("only %d waits were cancelled: the scenario did not happen", st.Canceled)
	}
}

// Close waits for nothing: a waiting caller gets ErrPoolClosed, a
// connection in use is closed when it is given back, the idle-time check
// stops, and every base connection ends closed.
func TestPoolCloseWaitsForNothing(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	f := &fakeBase{}
	c, err := NewConnector(f, Pool(2), PoolMaxIdleTime(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	free := checkout(t, c, tenantCtx("a"))
	busy := checkout(t, c, tenantCtx("b"))
	free.Close()
	busy2 := checkout(t, c, tenantCtx("a"))
	w := waiting(t, c, tenantCtx("c"))
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	if g := <-w; g != nil {
		t.Fatal("a caller waiting at Close got a connection")
	}
	if _, err := c.Connect(tenantCtx("a")); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Connect after Close: %v", err)
	}
	if f.open() != 2 {
		t.Fatalf("%d base connections open while 2 are in use", f.open())
	}
	busy.Close()
	busy2.Close()
	if f.open() != 0 {
		t.Fatalf("%d base connections left open", f.open())
	}
	waitUntil(t, "the pool's goroutines end", func() bool { return runtime.NumGoroutine() <= goroutines })
}

// A connection that dies while free is refused by the base driver's
// ResetSession when it is taken, closed, and replaced; one that reports
// itself invalid when given back is closed at once.
func TestPoolHealthChecks(t *testing.T) {
	c, f := newFakePool(t, Pool(1))
	a := checkout(t, c, tenantCtx("a"))
	a.Close()
	f.conns[0].dead.Store(true)
	b := checkout(t, c, tenantCtx("a"))
	if b.inner == f.conns[0] {
		t.Fatal("a dead connection was handed out")
	}
	if f.conns[0].resets.Load() != 1 || !f.conns[0].closed.Load() {
		t.Fatal("the dead connection was not checked and closed")
	}
	f.conns[1].dead.Store(true)
	b.Close()
	if !f.conns[1].closed.Load() || stats(t, c).Open != 0 {
		t.Fatalf("an invalid connection was kept: %+v", stats(t, c))
	}
	cn := checkout(t, c, tenantCtx("a"))
	cn.Close()
	if st := stats(t, c); st.Opened != 3 || st.Closed != 2 {
		t.Fatalf("%+v", st)
	}
}

// After a server restart every free connection is dead, and a base
// driver that only pings after a second of idleness lets them through its
// check. Once one is found dead, the others are pinged before use: one
// caller's statement fails, not one per connection.
func TestPoolPingsFreeConnectionsAfterADeadOne(t *testing.T) {
	c, f := newFakePool(t, Pool(3), PoolRequestHold(0))
	f.blindReset = true
	var held []*conn
	for _, id := range []string{"a", "b", "c"} {
		held = append(held, checkout(t, c, tenantCtx(id)))
	}
	for _, cn := range held {
		cn.Close()
	}
	for _, bc := range f.conns {
		bc.dead.Store(true) // the server restarted
	}
	first, err := c.Connect(tenantCtx("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.(*conn).ExecContext(tenantCtx("a"), "SELECT 1", nil); err == nil {
		t.Fatal("a dead connection answered")
	}
	first.Close()
	// Each of these fails the test if its statement fails: the dead
	// connection on b's path, then the one on c's, are pinged and closed.
	for _, id := range []string{"b", "c"} {
		checkout(t, c, tenantCtx(id)).Close()
	}
	for i, bc := range f.conns[:3] {
		if !bc.closed.Load() {
			t.Fatalf("dead connection %d is still open", i)
		}
	}
	if st := stats(t, c); st.Closed != 3 {
		t.Fatalf("%+v", st)
	}
}

func TestPoolLifetimeAndIdleTime(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		c, f := newFakePool(t, Pool(2), PoolMaxIdleTime(20*time.Millisecond))
		checkout(t, c, tenantCtx("a")).Close()
		waitUntil(t, "the idle connection is closed", func() bool { return f.open() == 0 })
		if st := stats(t, c); st.Open != 0 || st.Idle != 0 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("lifetime", func(t *testing.T) {
		c, f := newFakePool(t, Pool(2), PoolMaxLifetime(30*time.Millisecond))
		a := checkout(t, c, tenantCtx("a"))
		time.Sleep(40 * time.Millisecond)
		a.Close() // too old: closed, not kept
		if f.open() != 0 {
			t.Fatal("a connection past its lifetime was kept")
		}
		checkout(t, c, tenantCtx("a")).Close()
		waitUntil(t, "the free connection past its lifetime is closed", func() bool { return f.open() == 0 })
	})
}

// A request (a cancellable context) gets its last connection back: kept
// for it while others wait, until its next statement takes it, its
// context ends, or the hold time is over.
func TestPoolRequestHold(t *testing.T) {
	c, _ := newFakePool(t, Pool(1), PoolRequestHold(time.Hour))
	req, done := context.WithCancel(tenantCtx("r"))
	cn := checkout(t, c, req)
	other := waiting(t, c, tenantCtx("o"))
	for range 3 {
		cn.Close()
		if st := stats(t, c); st.Held != 1 {
			t.Fatalf("not held for the request: %+v", st)
		}
		again := checkout(t, c, req)
		if again != cn {
			t.Fatal("the request did not get its connection back")
		}
	}
	cn.Close()
	select {
	case <-other:
		t.Fatal("a held connection went to another caller while the request was alive")
	case <-time.After(20 * time.Millisecond):
	}
	done() // the request ends: its connection goes to the waiter at once
	select {
	case g := <-other:
		if g == nil {
			t.Fatal("the waiter got nothing")
		}
		g.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the request's end did not free its connection")
	}
	if st := stats(t, c); st.SameRequest != 3 || st.Holds != 4 {
		t.Fatalf("%+v", st)
	}

	t.Run("expires", func(t *testing.T) {
		c, _ := newFakePool(t, Pool(1), PoolRequestHold(30*time.Millisecond))
		req, done := context.WithCancel(tenantCtx("r"))
		defer done()
		cn := checkout(t, c, req)
		other := waiting(t, c, tenantCtx("o"))
		start := time.Now()
		cn.Close()
		g := <-other
		if g == nil {
			t.Fatal("the waiter got nothing")
		}
		if d := time.Since(start); d < 25*time.Millisecond {
			t.Fatalf("the hold ended after %v, before its time", d)
		}
		g.Close()
	})
}

// Prepared statements are prepared once per connection, however often
// database/sql closes them and prepares them again; a statement whose plan
// the server refused is prepared afresh next time; the cache is bounded.
func TestPoolStatementCache(t *testing.T) {
	c, f := newFakePool(t, Pool(1))
	for i := range 10 {
		cn := checkout(t, c, tenantCtx("a"))
		st, err := cn.PrepareContext(tenantCtx(string(rune('a'+i%3))), "SELECT $1")
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		cn.Close()
	}
	if f.prepares.Load() != 1 {
		t.Fatalf("prepared %d times, want once", f.prepares.Load())
	}
	cn := checkout(t, c, tenantCtx("a"))
	st, err := cn.PrepareContext(tenantCtx("a"), "SELECT $1")
	if err != nil {
		t.Fatal(err)
	}
	shared := st.(*stmt).inner.(*sharedStmt)
	shared.inner.(*fakeBaseStmt).planBroken = true
	if _, err := st.(*stmt).ExecContext(tenantCtx("a"), nil); err == nil {
		t.Fatal("the broken plan did not fail")
	}
	st.Close()
	if cn.owner.stmts.m["SELECT $1"] == shared {
		t.Fatal("a statement refused for its plan stayed cached")
	}
	if shared.inner.(*fakeBaseStmt).closed {
		t.Fatal("an evicted statement was closed before the connection was given back")
	}
	st, err = cn.PrepareContext(tenantCtx("a"), "SELECT $1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.(*stmt).ExecContext(tenantCtx("a"), nil); err != nil {
		t.Fatalf("the statement prepared afresh: %v", err)
	}
	st.Close()
	for i := range stmtCacheSize + 10 {
		st, err := cn.PrepareContext(tenantCtx("a"), "SELECT "+string(rune('A'+i)))
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	if n := len(cn.owner.stmts.m); n != stmtCacheSize {
		t.Fatalf("%d statements cached, bound %d", n, stmtCacheSize)
	}
	cn.Close()
	if !shared.inner.(*fakeBaseStmt).closed {
		t.Fatal("an evicted statement was not closed when the connection was given back")
	}
	if s := stats(t, c); s.StmtHits != 10 || s.StmtPrepare != uint64(f.prepares.Load()) {
		t.Fatalf("%+v, %d prepares", s, f.prepares.Load())
	}
}

// Statistics cost no allocation on the statement path: a checkout on the
// caller's path and its statement allocate nothing the pool adds.
func TestPoolCheckoutAllocations(t *testing.T) {
	c, _ := newFakePool(t, Pool(1))
	ctx := tenantCtx("a")
	checkout(t, c, ctx).Close()
	allocs := testing.AllocsPerRun(200, func() {
		dc, err := c.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dc.(*conn).ExecContext(ctx, "SELECT 1", nil)
		dc.Close()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per checkout and statement on the caller's path", allocs)
	}
}
