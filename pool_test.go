package tenantpath_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// The pool against a real PostgreSQL, on both drivers.

func poolStats(t testing.TB, db *sql.DB) tenantpath.PoolStats {
	t.Helper()
	st, ok := tenantpath.PoolStatsOf(db)
	if !ok {
		t.Fatal("PoolStatsOf: not a pooled *sql.DB")
	}
	return st
}

// backends counts the server processes of application app.
func backends(t testing.TB, admin *sql.DB, app string) int {
	t.Helper()
	var n int
	if err := admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// openApp opens a pooled *sql.DB whose connections carry application_name
// app, so the test can find its backends.
func openApp(t *testing.T, e *tptest.Env, bd tptest.Driver, app string, opts ...tenantpath.Option) *sql.DB {
	t.Helper()
	return e.OpenOn(t, bd, tptest.WithParam(t, pgtest.DSN(t), "application_name", app), false, opts...)
}

// The concurrency workload through a pool of 4: every read sees its own
// tenant, the pool never holds more than 4 server connections, and most
// checkouts need no switch.
func TestPoolIsolationUnderLoad(t *testing.T) {
	ids := tptest.TenantIDs(12)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		app := e.Prefix + "load_" + bd.Name
		db := openApp(t, e, bd, app, tenantpath.Pool(4))
		w := tptest.NewWorkload(t, db, ids, false)
		var most atomic.Int64
		stop := make(chan struct{})
		var watch sync.WaitGroup
		watch.Add(1)
		go func() {
			defer watch.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if n := int64(backends(t, e.Admin, app)); n > most.Load() {
					most.Store(n)
				}
			}
		}()
		w.Run(context.Background(), 24, 120, time.Now().Add(60*time.Second))
		close(stop)
		watch.Wait()
		w.Reads.Add(int64(tptest.VerifyEveryConn(t, db, ids, 4)))
		st := poolStats(t, db)
		t.Logf("%s; pool: %+v; at most %d backends seen", w.Summary("Pool(4), "+bd.Name), st, most.Load())
		if w.Leaks.Load() != 0 || w.Errs.Load() != 0 {
			t.Fatalf("%d leaks, %d errors", w.Leaks.Load(), w.Errs.Load())
		}
		if st.Opened > 4 || most.Load() > 4 {
			t.Fatalf("the pool opened %d connections (%d at once) for Pool(4)", st.Opened, most.Load())
		}
		if st.Waits == 0 || st.OnPath == 0 {
			t.Fatalf("24 workers on 4 connections never waited or never found their path: %+v", st)
		}
		if st.InUse != 0 || st.Waiting != 0 {
			t.Fatalf("after the run: %+v", st)
		}
	})
}

// Two tenants taking turns on a pool of 2 switch twice in all, where
// database/sql's own pool hands each call the connection given back last.
func TestPoolAffinityAvoidsSwitches(t *testing.T) {
	ids := tptest.TenantIDs(2)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		count := func(opts ...tenantpath.Option) int {
			rec := &tptest.Recorder{Connector: bd.Connector(t, pgtest.DSN(t), false)}
			db := tptest.OpenWrapped(t, rec, append([]tenantpath.Option{tenantpath.WithNaming(e.Naming)}, opts...)...)
			if len(opts) == 0 {
				db.SetMaxOpenConns(2)
				db.SetMaxIdleConns(2)
			}
			// Two connections in use at once, so both exist.
			c1, _ := db.Conn(tenantpath.WithTenant(context.Background(), ids[0]))
			c2, _ := db.Conn(tenantpath.WithTenant(context.Background(), ids[1]))
			tptest.MustRead(t, tenantpath.WithTenant(context.Background(), ids[0]), c1, ids[0])
			tptest.MustRead(t, tenantpath.WithTenant(context.Background(), ids[1]), c2, ids[1])
			c1.Close()
			c2.Close()
			for i := range 20 {
				id := ids[i%2]
				tptest.MustRead(t, tenantpath.WithTenant(context.Background(), id), db, id)
			}
			n := 0
			for _, q := range rec.Take() {
				if tptest.IsSwitch(q) {
					n++
				}
			}
			return n
		}
		plain, pooled := count(), count(tenantpath.Pool(2))
		t.Logf("%s: 22 reads alternating two tenants: %d switches through database/sql's pool, %d through Pool(2)", bd.Name, plain, pooled)
		if pooled != 2 {
			t.Fatalf("Pool(2) switched %d times, want 2", pooled)
		}
		if plain <= pooled {
			t.Fatalf("database/sql's own pool switched only %d times: the comparison shows nothing", plain)
		}
	})
}

// Requests of five statements each, with a cancellable context per request
// as net/http gives handlers, on a pool smaller than the number of
// concurrent requests: each request switches about once, because its
// statements stay on the connection it used last.
func TestPoolRequestStatementsStayTogether(t *testing.T) {
	ids := tptest.TenantIDs(20)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		run := func(hold time.Duration) (perRequest float64, st tenantpath.PoolStats) {
			db := e.Open(bd, tenantpath.Pool(2), tenantpath.PoolRequestHold(hold))
			const workers, requests = 6, 30
			var wg sync.WaitGroup
			var leaks atomic.Int64
			for g := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 9))
					for range requests {
						id := ids[rng.IntN(len(ids))]
						ctx, done := context.WithCancel(tenantpath.WithTenant(context.Background(), id))
						for range 5 {
							got, err := tptest.ReadTenant(ctx, db)
							if err != nil {
								t.Error(err)
							} else if got != id {
								leaks.Add(1)
							}
						}
						done()
					}
				}()
			}
			wg.Wait()
			if leaks.Load() != 0 {
				t.Fatalf("%d leaks", leaks.Load())
			}
			st = poolStats(t, db)
			return float64(st.Switches) / (workers * requests), st
		}
		// A generous hold: the test is about the mechanism, and a loaded
		// machine may stall a goroutine between two statements.
		held, hst := run(50 * time.Millisecond)
		loose, lst := run(0)
		t.Logf("%s: switches per 5-statement request: %.2f with request holds (%+v), %.2f without (%+v)", bd.Name, held, hst, loose, lst)
		if held > 1.5 {
			t.Fatalf("%.2f switches per request with request holds", held)
		}
		if hst.SameRequest < 3*6*30 {
			t.Fatalf("only %d checkouts got the request's own connection back", hst.SameRequest)
		}
		if loose <= held {
			t.Fatalf("without holds %.2f switches per request, with %.2f: the holds did nothing measurable", loose, held)
		}
	})
}

// Exhaustion and cancellation while waiting: with every connection pinned,
// a call waits, its deadline ends the wait with the context's error, and
// no server connection beyond n is ever opened; a connection given back
// then serves the next caller.
func TestPoolExhaustionAndCancelWhileWaiting(t *testing.T) {
	ids := tptest.TenantIDs(3)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		app := e.Prefix + "exhaust_" + bd.Name
		db := openApp(t, e, bd, app, tenantpath.Pool(2))
		bg := context.Background()
		c1, err := db.Conn(tenantpath.WithTenant(bg, ids[0]))
		if err != nil {
			t.Fatal(err)
		}
		c2, err := db.Conn(tenantpath.WithTenant(bg, ids[1]))
		if err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, tenantpath.WithTenant(bg, ids[0]), c1, ids[0])
		ctx, cancel := context.WithTimeout(tenantpath.WithTenant(bg, ids[2]), 100*time.Millisecond)
		_, err = tptest.ReadTenant(ctx, db)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a call on an exhausted pool ended with %v, want the deadline", err)
		}
		if n := backends(t, e.Admin, app); n != 2 {
			t.Fatalf("%d backends for Pool(2)", n)
		}
		// A waiter queued now is served when c2 is given back.
		done := make(chan error, 1)
		go func() {
			got, err := tptest.ReadTenant(tenantpath.WithTenant(bg, ids[2]), db)
			if err == nil && got != ids[2] {
				err = errors.New("read " + got)
			}
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		select {
		case err := <-done:
			t.Fatalf("the call did not wait: %v", err)
		default:
		}
		c2.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		c1.Close()
		st := poolStats(t, db)
		if st.Canceled != 1 || st.Opened != 2 || st.InUse != 0 {
			t.Fatalf("%+v", st)
		}
	})
}

// db.Prepare is prepared once per pool connection, not once per execution
// as database/sql alone would with its idle pool off.
func TestPoolPreparedNotRePrepared(t *testing.T) {
	ids := tptest.TenantIDs(4)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		rec := &tptest.Recorder{Connector: bd.Connector(t, pgtest.DSN(t), false)}
		db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(e.Naming), tenantpath.Pool(2))
		st, err := db.PrepareContext(tenantpath.WithTenant(context.Background(), ids[0]), tptest.TenantsSeen+" WHERE $1::int >= 0")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for i := range 40 {
			id := ids[i%len(ids)]
			var got sql.NullString
			if err := st.QueryRowContext(tenantpath.WithTenant(context.Background(), id), i).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got.String != id {
				t.Fatalf("LEAK: tenant %s read %q through a cached statement", id, got.String)
			}
		}
		prepares := tptest.Count(rec.Take(), "PREPARE ")
		ps := poolStats(t, db)
		t.Logf("%s: 40 executions, %d prepares sent, pool %+v", bd.Name, prepares, ps)
		if prepares > 2 || ps.StmtHits < 38 {
			t.Fatalf("%d prepares sent for 40 executions on 2 connections", prepares)
		}
	})
}

// DB.Close with a connection in use returns at once; the connection is
// closed when it is given back, and no server process of the pool
// remains.
func TestPoolCloseLeavesNoBackend(t *testing.T) {
	ids := tptest.TenantIDs(2)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		app := e.Prefix + "close_" + bd.Name
		db := openApp(t, e, bd, app, tenantpath.Pool(3), tenantpath.PoolMaxIdleTime(time.Minute))
		bg := context.Background()
		for _, id := range ids {
			tptest.MustRead(t, tenantpath.WithTenant(bg, id), db, id)
		}
		pinned, err := db.Conn(tenantpath.WithTenant(bg, ids[0]))
		if err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, tenantpath.WithTenant(bg, ids[0]), pinned, ids[0])
		start := time.Now()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("DB.Close took %v with a connection in use", d)
		}
		// A server process ends a moment after its client has gone.
		settle := func(want int, what string) {
			deadline := time.Now().Add(5 * time.Second)
			for backends(t, e.Admin, app) != want {
				if time.Now().After(deadline) {
					t.Fatalf("%d backends %s, want %d", backends(t, e.Admin, app), what, want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		settle(1, "after Close with one connection in use")
		if err := pinned.PingContext(bg); err != nil {
			t.Fatalf("the connection in use was closed under its user: %v", err)
		}
		pinned.Close()
		settle(0, "once the last connection was given back")
	})
}

// A connection older than PoolMaxLifetime is replaced: the next call runs
// on a new server process.
func TestPoolMaxLifetimeReplacesBackend(t *testing.T) {
	ids := tptest.TenantIDs(1)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.Open(bd, tenantpath.Pool(1), tenantpath.PoolMaxLifetime(200*time.Millisecond))
		ctx := tenantpath.WithTenant(context.Background(), ids[0])
		pid := func() int {
			var p int
			if err := db.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		first := pid()
		if again := pid(); again != first {
			t.Fatal("a young connection was replaced")
		}
		time.Sleep(300 * time.Millisecond)
		if later := pid(); later == first {
			t.Fatal("a connection past its lifetime was reused")
		}
		tptest.MustRead(t, ctx, db, ids[0])
	})
}

// Pool composes with MaxTenantsPerConn (no backend serves more tenants
// than the limit) and with AllowNoTenant and the shared scope.
func TestPoolWithMaxTenantsPerConn(t *testing.T) {
	const limit = 3
	ids := tptest.TenantIDs(10)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.Open(bd, tenantpath.Pool(2), tenantpath.MaxTenantsPerConn(limit), tenantpath.AllowNoTenant())
		rng := rand.New(rand.NewPCG(5, 6))
		served := map[string]map[string]bool{}
		for range 120 {
			id := ids[rng.IntN(len(ids))]
			var got, backend string
			err := db.QueryRowContext(tenantpath.WithTenant(context.Background(), id),
				`SELECT string_agg(DISTINCT tenant, ','), (SELECT pid || ' ' || backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()) FROM notes`).Scan(&got, &backend)
			if err != nil {
				t.Fatal(err)
			}
			if got != id {
				t.Fatalf("LEAK: tenant %s read %q", id, got)
			}
			if served[backend] == nil {
				served[backend] = map[string]bool{}
			}
			served[backend][id] = true
		}
		for b, ts := range served {
			if len(ts) > limit {
				t.Fatalf("backend %s served %d tenants, limit %d", b, len(ts), limit)
			}
		}
		tptest.MustRead(t, tenantpath.WithShared(context.Background()), db, "shared")
		var p string
		if err := db.QueryRowContext(context.Background(), "SHOW search_path").Scan(&p); err != nil || p != `"$user", public` {
			t.Fatalf("a call without a tenant under AllowNoTenant ran on %q (%v)", p, err)
		}
		t.Logf("%s: %d backends, pool %+v", bd.Name, len(served), poolStats(t, db))
	})
}

// OpenDB with Pool turns database/sql's idle pool off and its limit on
// open connections off, so the pool sees every checkout. A user who turns
// database/sql's idle pool back on still gets correct reads (those idle
// connections are simply not chosen for their path).
func TestPoolDatabaseSQLSettings(t *testing.T) {
	ids := tptest.TenantIDs(3)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.Open(bd, tenantpath.Pool(2))
		tptest.MustRead(t, tenantpath.WithTenant(context.Background(), ids[0]), db, ids[0])
		if s := db.Stats(); s.MaxOpenConnections != 0 || s.Idle != 0 {
			t.Fatalf("database/sql keeps %d idle, limit %d", s.Idle, s.MaxOpenConnections)
		}
		if st := poolStats(t, db); st.Idle != 1 {
			t.Fatalf("the pool keeps %d idle, want 1", st.Idle)
		}
		db.SetMaxIdleConns(2)
		db.SetMaxOpenConns(2)
		w := tptest.NewWorkload(t, db, ids, false)
		w.Run(context.Background(), 8, 40, time.Now().Add(30*time.Second))
		if w.Leaks.Load() != 0 || w.Errs.Load() != 0 {
			t.Fatalf("%s", w.Summary("after SetMaxIdleConns(2)"))
		}
		if st := poolStats(t, db); st.Opened > 2 {
			t.Fatalf("%+v", st)
		}
	})
}
