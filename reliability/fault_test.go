package reliability_test

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

// Backends killed with pg_terminate_backend at random during the
// concurrency workload: errors reach the callers, no read ever sees another
// tenant's rows, and once the killing stops the pool works again.
func TestKilledBackendsNeverLeak(t *testing.T) {
	ids := tptest.TenantIDs(12)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		app := e.Prefix + "kill_" + bd.Name
		db := e.OpenOn(t, bd, tptest.WithParam(t, pgtest.DSN(t), "application_name", app), false)
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		w := tptest.NewWorkload(t, db, ids, true)

		var kills, killerOps atomic.Int64
		stop := make(chan struct{})
		var killer sync.WaitGroup
		killer.Add(1)
		go func() {
			defer killer.Done()
			rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(2+rng.IntN(10)) * time.Millisecond):
				}
				var n int64
				err := e.Admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM (
					SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY random() LIMIT 1) victim`, app).Scan(&n)
				if err != nil {
					t.Errorf("killer: %v", err)
					return
				}
				killerOps.Add(1)
				kills.Add(n)
			}
		}()
		w.Run(context.Background(), 16, 150, time.Now().Add(40*time.Second))
		close(stop)
		killer.Wait()
		faultOps, faultErrs := w.Ops.Load(), w.Errs.Load()

		// Recovery: connections killed while idle fail once each (or are
		// dropped by the driver's own liveness check), then the pool
		// works with no error at all.
		time.Sleep(1100 * time.Millisecond)
		w.Run(context.Background(), 4, 25, time.Now().Add(20*time.Second))
		recoveryErrs := w.Errs.Load() - faultErrs
		clean := tptest.NewWorkload(t, db, ids, false)
		clean.Run(context.Background(), 8, 50, time.Now().Add(20*time.Second))
		clean.Reads.Add(int64(tptest.VerifyEveryConn(t, db, ids, 4)))

		t.Logf("kill backends, %s: %d ops under fire, %d kills (%d kill attempts), %d errors surfaced, %d leaks; recovery: %d ops, %d errors; then %s",
			bd.Name, faultOps, kills.Load(), killerOps.Load(), faultErrs, w.Leaks.Load(),
			w.Ops.Load()-faultOps, recoveryErrs, clean.Summary("clean run"))
		if w.Leaks.Load()+clean.Leaks.Load() != 0 {
			t.Fatalf("%d leaks", w.Leaks.Load()+clean.Leaks.Load())
		}
		if kills.Load() == 0 {
			t.Fatal("no backend was killed: the scenario did not happen")
		}
		if faultErrs == 0 {
			t.Fatal("no error reached a caller although backends were killed")
		}
		if clean.Errs.Load() != 0 {
			t.Fatalf("the pool did not recover: %d errors after the faults stopped", clean.Errs.Load())
		}
	})
}

// Backends killed at random behind PgBouncer in pool_mode=transaction, in
// TransactionPooling mode: the pooler hands the next transaction to another
// server connection, never to a session the driver relies on, so a kill
// costs the statement in flight and nothing else.
func TestKilledBackendsTransactionPoolerNeverLeak(t *testing.T) {
	ids := tptest.TenantIDs(8)
	e := tptest.NewEnv(t, ids...)
	bouncer := pgtest.StartPgBouncer(t, "transaction", 3)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.OpenOn(t, bd, bouncer, true, tenantpath.TransactionPooling())
		db.SetMaxOpenConns(4)
		w := &tptest.Workload{T: t, DB: db, IDs: ids, Faults: true, NoPrepared: true}
		var kills atomic.Int64
		stop := make(chan struct{})
		var killer sync.WaitGroup
		killer.Add(1)
		go func() {
			defer killer.Done()
			rng := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(5+rng.IntN(15)) * time.Millisecond):
				}
				// PgBouncer's server connections are the backends whose
				// last statement was the workload's (or the driver's).
				var n int64
				err := e.Admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM (
					SELECT pid FROM pg_stat_activity
					 WHERE pid <> pg_backend_pid() AND (query LIKE '%FROM notes%' OR query LIKE '%set_config%')
					 ORDER BY random() LIMIT 1) victim`).Scan(&n)
				if err != nil {
					t.Errorf("killer: %v", err)
					return
				}
				kills.Add(n)
			}
		}()
		w.Run(context.Background(), 4, 150, time.Now().Add(40*time.Second))
		close(stop)
		killer.Wait()
		faultErrs := w.Errs.Load()
		time.Sleep(300 * time.Millisecond) // PgBouncer notices the last killed server connections
		settleAfterKills(t, db)
		clean := &tptest.Workload{T: t, DB: db, IDs: ids, NoPrepared: true}
		clean.Run(context.Background(), 4, 50, time.Now().Add(20*time.Second))
		t.Logf("kill backends behind a transaction pooler, TransactionPooling, %s: %d ops under fire, %d kills, %d errors surfaced, %d leaks; then %s",
			bd.Name, w.Ops.Load(), kills.Load(), faultErrs, w.Leaks.Load(), clean.Summary("clean run"))
		if w.Leaks.Load()+clean.Leaks.Load() != 0 {
			t.Fatal("leaks")
		}
		if kills.Load() == 0 {
			t.Fatal("no backend was killed: the scenario did not happen")
		}
		if clean.Errs.Load() != 0 {
			t.Fatalf("the pool did not recover: %d errors after the faults stopped", clean.Errs.Load())
		}
	})
}

// restartable returns a server the test may restart: the package's own, or
// (when the tests use an external server through TENANTPATH_TEST_DSN) a
// private one started for this test.
func restartable(t *testing.T) (*pgtest.Server, string) {
	t.Helper()
	if srv := pgtest.Current(); srv != nil {
		return srv, srv.DSN()
	}
	srv, err := pgtest.Start(pgtest.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv, srv.DSN()
}

// The server restarted in the middle of the workload: every connection
// dies at once. The pool must recover, and no connection may keep a path
// it remembers from before the restart (a new session starts on the
// default path, so trusting the memory would read the shared tables or
// fail).
func TestServerRestartNeverLeaks(t *testing.T) {
	srv, dsn := restartable(t)
	ids := tptest.TenantIDs(8)
	e := tptest.NewEnvOn(t, dsn, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.OpenOn(t, bd, dsn, false)
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		w := tptest.NewWorkload(t, db, ids, true)
		// Warm every connection onto some tenant's path first.
		w.Run(context.Background(), 8, 20, time.Now().Add(20*time.Second))
		before := w.Ops.Load()

		done := make(chan error, 1)
		go func() {
			time.Sleep(150 * time.Millisecond)
			start := time.Now()
			err := srv.Restart()
			t.Logf("restart took %v", time.Since(start))
			done <- err
		}()
		w.Run(context.Background(), 8, 100000, time.Now().Add(2*time.Second))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Keep going over the restarted server, errors allowed while the
		// pool replaces its dead connections.
		w.Run(context.Background(), 8, 40, time.Now().Add(20*time.Second))
		faultErrs := w.Errs.Load()

		time.Sleep(1100 * time.Millisecond)
		clean := tptest.NewWorkload(t, db, ids, false)
		clean.Run(context.Background(), 8, 50, time.Now().Add(20*time.Second))
		clean.Reads.Add(int64(tptest.VerifyEveryConn(t, db, ids, 4)))

		t.Logf("server restart, %s: %d ops around the restart (%d before it), %d errors surfaced, %d leaks; then %s",
			bd.Name, w.Ops.Load(), before, faultErrs, w.Leaks.Load(), clean.Summary("clean run"))
		if w.Leaks.Load()+clean.Leaks.Load() != 0 {
			t.Fatalf("%d leaks", w.Leaks.Load()+clean.Leaks.Load())
		}
		if clean.Errs.Load() != 0 {
			t.Fatalf("the pool did not recover: %d errors after the restart", clean.Errs.Load())
		}
	})
}

type cancelOnSwitchKey struct{}

// Contexts cancelled and deadlines hit at random points, including while a
// switch is on the wire: no leak, and every connection whose switch failed
// is closed, never reused.
func TestCancellationNeverLeaks(t *testing.T) {
	ids := tptest.TenantIDs(12)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		rec := &tptest.Recorder{Connector: bd.Connector(t, pgtest.DSN(t), false)}
		var hooked atomic.Int64
		rec.BeforeSwitch = func(ctx context.Context) {
			if cancel, ok := ctx.Value(cancelOnSwitchKey{}).(context.CancelFunc); ok {
				hooked.Add(1)
				cancel()
			}
		}
		db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(e.Naming))
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		w := tptest.NewWorkload(t, db, ids, true)

		// Part 1: random deadlines and random cancellations by another
		// goroutine, on every kind of operation.
		cancelled := randomCancellations(w, 4, 300) // as many workers as connections: no waiting for the pool
		randomFailed := rec.FailedSwitches()

		// Part 2: cancelled exactly while the switch is being sent, for
		// every tenant in turn. Usually the caller gets an error (a
		// SwitchError, or context.Canceled when the base driver reported
		// the connection bad and database/sql gave up retrying on the
		// cancelled context), and the connection is closed. lib/pq can
		// finish the switch and the query before its cancel request
		// lands; then the call succeeds, and what matters is that it
		// read its own tenant's notes.
		var switchErrs, beatTheCancel int
		for round := range 30 {
			id := ids[round%len(ids)]
			ctx, cancel := context.WithCancel(tenantpath.WithTenant(context.Background(), id))
			ctx = context.WithValue(ctx, cancelOnSwitchKey{}, cancel)
			w.Ops.Add(1)
			hookedBefore := hooked.Load()
			got, err := tptest.ReadTenant(ctx, db)
			cancel()
			var se *tenantpath.SwitchError
			if errors.As(err, &se) {
				switchErrs++
			}
			switch {
			case err != nil:
				w.Errs.Add(1)
			case got != id:
				w.Leaks.Add(1)
				t.Fatalf("tenant %s: a call whose switch was cancelled read the notes of %q", id, got)
			case hooked.Load() != hookedBefore:
				beatTheCancel++
			}
			// Whatever happened, the pool still serves every tenant
			// correctly.
			tptest.MustRead(t, tenantpath.WithTenant(context.Background(), id), db, id)
			w.Reads.Add(1)
		}
		onPurpose := rec.FailedSwitches() - randomFailed
		clean := tptest.NewWorkload(t, db, ids, false)
		clean.Run(context.Background(), 8, 50, time.Now().Add(20*time.Second))
		clean.Reads.Add(int64(tptest.VerifyEveryConn(t, db, ids, 4)))
		open := rec.OpenAfterFailedSwitch()

		t.Logf("cancellation, %s: %d ops, %d cut short by their context, %d errors, %d switches failed on the wire (random part), "+
			"%d switches cancelled on purpose (%d failed on the wire, %d surfaced as SwitchError, %d calls finished before the cancel landed), "+
			"%d connections still open after a failed switch, %d leaks; then %s",
			bd.Name, w.Ops.Load(), cancelled, w.Errs.Load(), randomFailed, hooked.Load(), onPurpose, switchErrs, beatTheCancel,
			open, w.Leaks.Load(), clean.Summary("clean run"))
		if w.Leaks.Load()+clean.Leaks.Load() != 0 {
			t.Fatalf("%d leaks", w.Leaks.Load()+clean.Leaks.Load())
		}
		if open != 0 {
			t.Fatalf("%d connections whose switch failed were not discarded", open)
		}
		// lib/pq lets a query that beats its cancel request succeed (and
		// then marks the connection bad), so not every cancelled switch
		// fails; some always do.
		if hooked.Load() == 0 || rec.FailedSwitches() == 0 {
			t.Fatalf("%d switches cancelled, %d failed: the scenario did not happen", hooked.Load(), rec.FailedSwitches())
		}
		if clean.Errs.Load() != 0 {
			t.Fatalf("%d errors after the cancellations stopped", clean.Errs.Load())
		}
	})
}

// randomCancellations runs ops operations on each of workers goroutines,
// each with a context that hits its deadline or is cancelled by another
// goroutine after a random delay, and returns how many operations
// failed with their context done.
func randomCancellations(w *tptest.Workload, workers, ops int) int64 {
	var cancelled atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(30 * time.Second)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for i := 0; i < ops && time.Now().Before(deadline); i++ {
				// Up to 2ms, 10ms or 60ms: short enough to land inside a
				// statement whether the machine is idle or loaded.
				after := time.Duration(rng.IntN([]int{2000, 10000, 60000}[rng.IntN(3)])) * time.Microsecond
				var ctx context.Context
				var cancel context.CancelFunc
				if rng.IntN(2) == 0 {
					ctx, cancel = context.WithTimeout(context.Background(), after)
				} else {
					ctx, cancel = context.WithCancel(context.Background())
					go func() { time.Sleep(after); cancel() }()
				}
				errsBefore := w.Errs.Load()
				w.RandomOp(ctx, rng)
				if w.Errs.Load() != errsBefore && ctx.Err() != nil {
					cancelled.Add(1)
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	return cancelled.Load()
}

// Random cancellations in TransactionPooling mode behind PgBouncer in
// pool_mode=transaction: a call cancelled between BEGIN, the local switch,
// the statement and COMMIT must never leave a path behind for another
// client's statement.
func TestCancellationTransactionPoolerNeverLeaks(t *testing.T) {
	ids := tptest.TenantIDs(8)
	e := tptest.NewEnv(t, ids...)
	bouncer := pgtest.StartPgBouncer(t, "transaction", 2)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.OpenOn(t, bd, bouncer, true, tenantpath.TransactionPooling())
		db.SetMaxOpenConns(4)
		w := &tptest.Workload{T: t, DB: db, IDs: ids, Faults: true, NoPrepared: true}
		cancelled := randomCancellations(w, 4, 150)
		// A second client, never cancelled, shares the server connections.
		other := e.OpenOn(t, bd, bouncer, true, tenantpath.TransactionPooling())
		other.SetMaxOpenConns(4)
		clean := &tptest.Workload{T: t, DB: other, IDs: ids, NoPrepared: true}
		clean.Run(context.Background(), 8, 40, time.Now().Add(30*time.Second))
		again := &tptest.Workload{T: t, DB: db, IDs: ids, NoPrepared: true}
		again.Run(context.Background(), 8, 40, time.Now().Add(30*time.Second))
		t.Logf("cancellation behind a transaction pooler, TransactionPooling, %s: %d ops, %d cut short by their context, %d errors, %d leaks; then %s; %s",
			bd.Name, w.Ops.Load(), cancelled, w.Errs.Load(), w.Leaks.Load(),
			clean.Summary("another client"), again.Summary("the same client"))
		if w.Leaks.Load()+clean.Leaks.Load()+again.Leaks.Load() != 0 {
			t.Fatal("leaks")
		}
		if clean.Errs.Load()+again.Errs.Load() != 0 {
			t.Fatalf("%d errors after the cancellations stopped", clean.Errs.Load()+again.Errs.Load())
		}
	})
}

// settleAfterKills waits until the last killed server connections are out
// of the way: PgBouncer learns of a killed one when its socket closes or a
// statement fails on it, and a loaded machine may not have got there yet.
// It waits for three rounds in a row of four concurrent statements (as many
// as the clean run's workers) to succeed, for at most 10 seconds; a pool
// that does not recover fails here, or in the clean run after it.
func settleAfterKills(t *testing.T, db *sql.DB) {
	t.Helper()
	ctx := tenantpath.WithShared(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for clean := 0; clean < 3; {
		if time.Now().After(deadline) {
			t.Fatal("the pool did not recover: statements still fail 10s after the faults stopped")
		}
		var failed atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := db.ExecContext(ctx, "SELECT pg_catalog.pg_sleep(0.01)"); err != nil {
					failed.Store(true)
				}
			})
		}
		wg.Wait()
		if failed.Load() {
			clean = 0
			continue
		}
		clean++
	}
}
