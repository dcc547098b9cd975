package tenantpath_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/migrator"
)

// Faults under a Pool: backends killed at random, the server restarted,
// per-tenant roles. Reads never see another tenant, and the pool recovers.

// Backends killed with pg_terminate_backend at random while the workload
// runs through Pool(4): errors reach callers, no read sees another
// tenant's rows, and once the killing stops the pool works without error
// (dead free connections are refused by the health check on reuse, dead
// ones given back are closed).
func TestPoolKilledBackendsNeverLeak(t *testing.T) {
	ids := tptest.TenantIDs(12)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		app := e.Prefix + "poolkill_" + bd.Name
		db := openApp(t, e, bd, app, tenantpath.Pool(4))
		w := tptest.NewWorkload(t, db, ids, true)
		var kills atomic.Int64
		stop := make(chan struct{})
		var killer sync.WaitGroup
		killer.Add(1)
		go func() {
			defer killer.Done()
			rng := rand.New(rand.NewPCG(11, uint64(time.Now().UnixNano())))
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
				kills.Add(n)
			}
		}()
		w.Run(context.Background(), 16, 150, time.Now().Add(40*time.Second))
		close(stop)
		killer.Wait()
		faultErrs := w.Errs.Load()
		// Free connections killed last are found by the driver's check on
		// reuse (pgx pings after a second idle) or fail once.
		time.Sleep(1100 * time.Millisecond)
		w.Run(context.Background(), 4, 25, time.Now().Add(20*time.Second))
		clean := tptest.NewWorkload(t, db, ids, false)
		clean.Run(context.Background(), 8, 50, time.Now().Add(20*time.Second))
		clean.Reads.Add(int64(tptest.VerifyEveryConn(t, db, ids, 4)))
		st := poolStats(t, db)
		t.Logf("Pool(4), kill backends, %s: %d ops, %d kills, %d errors under fire, %d leaks; then %s; pool %+v",
			bd.Name, w.Ops.Load(), kills.Load(), faultErrs, w.Leaks.Load(), clean.Summary("clean run"), st)
		if w.Leaks.Load()+clean.Leaks.Load() != 0 {
			t.Fatal("leaks")
		}
		if kills.Load() == 0 || faultErrs == 0 {
			t.Fatalf("%d kills, %d errors: the scenario did not happen", kills.Load(), faultErrs)
		}
		if clean.Errs.Load() != 0 {
			t.Fatalf("the pool did not recover: %d errors after the kills stopped", clean.Errs.Load())
		}
		if st.Closed == 0 || st.Open > 4 {
			t.Fatalf("dead connections were not replaced within the limit: %+v", st)
		}
	})
}

// The server restarts in the middle of the workload: every pool connection
// dies at once. The pool must replace them, and no connection may keep a
// path it remembers from before the restart.
func TestPoolServerRestartRecovers(t *testing.T) {
	srv := pgtest.Current()
	dsn := pgtest.DSN(t)
	if srv == nil {
		var err error
		if srv, err = pgtest.Start(pgtest.Options{Logf: t.Logf}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Stop() })
		dsn = srv.DSN()
	}
	ids := tptest.TenantIDs(8)
	e := tptest.NewEnvOn(t, dsn, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.OpenOn(t, bd, dsn, false, tenantpath.Pool(4))
		w := tptest.NewWorkload(t, db, ids, true)
		w.Run(context.Background(), 8, 20, time.Now().Add(20*time.Second))
		done := make(chan error, 1)
		go func() {
			time.Sleep(150 * time.Millisecond)
			done <- srv.Restart()
		}()
		w.Run(context.Background(), 8, 100000, time.Now().Add(2*time.Second))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		w.Run(context.Background(), 8, 40, time.Now().Add(20*time.Second))
		faultErrs := w.Errs.Load()
		time.Sleep(1100 * time.Millisecond)
		clean := tptest.NewWorkload(t, db, ids, false)
		clean.Run(context.Background(), 8, 50, time.Now().Add(20*time.Second))
		clean.Reads.Add(int64(tptest.VerifyEveryConn(t, db, ids, 4)))
		st := poolStats(t, db)
		t.Logf("Pool(4), server restart, %s: %d ops, %d errors surfaced, %d leaks; then %s; pool %+v",
			bd.Name, w.Ops.Load(), faultErrs, w.Leaks.Load(), clean.Summary("clean run"), st)
		if w.Leaks.Load()+clean.Leaks.Load() != 0 {
			t.Fatal("leaks")
		}
		if clean.Errs.Load() != 0 {
			t.Fatalf("the pool did not recover: %d errors after the restart", clean.Errs.Load())
		}
		if st.Opened <= 4 {
			t.Fatalf("no connection was replaced after the restart: %+v", st)
		}
	})
}

// Per-tenant roles through a pool: the switch sets the role with the path,
// so a pool connection kept on a tenant's path is also on its role, and a
// statement naming another tenant's schema is refused by PostgreSQL.
func TestPoolWithTenantRoles(t *testing.T) {
	ids := tptest.TenantIDs(4)
	e := tptest.NewEnv(t, ids...)
	roleOf := func(schema string) string { return schema + "_rw" }
	for _, id := range ids {
		t.Cleanup(func() { migrator.DropTenantRole(context.Background(), e.Admin, e.Naming, roleOf, id) })
		if err := migrator.ProvisionTenantRole(context.Background(), e.Admin, e.Naming, roleOf, id); err != nil {
			t.Fatal(err)
		}
	}
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.Open(bd, tenantpath.Pool(2), tenantpath.WithTenantRoles(roleOf))
		w := tptest.NewWorkload(t, db, ids, false)
		w.Run(context.Background(), 6, 40, time.Now().Add(30*time.Second))
		for i, id := range ids {
			ctx := tenantpath.WithTenant(context.Background(), id)
			var role string
			if err := db.QueryRowContext(ctx, "SELECT current_user").Scan(&role); err != nil {
				t.Fatal(err)
			}
			if role != roleOf(e.Schema(id)) {
				t.Fatalf("tenant %s ran as %q", id, role)
			}
			other := tenantpath.QuoteIdentifier(e.Schema(ids[(i+1)%len(ids)]))
			var n int
			err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+other+".notes").Scan(&n)
			if sqlStateOf(err) != "42501" {
				t.Fatalf("tenant %s reading %s: %v, want a permission error", id, other, err)
			}
		}
		if w.Leaks.Load()+w.Errs.Load() != 0 {
			t.Fatal(w.Summary("roles"))
		}
	})
}

func sqlStateOf(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}
