package reliability_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

// The driver's full concurrency workload passes through PgBouncer in
// pool_mode=session, where a client keeps its server connection for as long
// as it is connected: the default mode needs nothing more.
func TestSessionPoolerNeverLeaks(t *testing.T) {
	ids := tenantIDs(12)
	e := newEnv(t, ids...)
	bouncer := pgtest.StartPgBouncer(t, "session", 4)
	forEachDriver(t, func(t *testing.T, bd baseDriver) {
		const workers, opsPerWorker = 24, 100
		db := e.open(t, bd, bouncer, false)
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		w := newWorkload(t, db, ids, false)
		w.run(context.Background(), workers, opsPerWorker, time.Now().Add(60*time.Second))
		w.reads.Add(int64(verifyEveryConn(t, db, ids, 4)))
		t.Log(w.summary("session pooler, " + bd.name))
		if w.leaks.Load() != 0 || w.errs.Load() != 0 {
			t.Fatalf("%d leaks, %d errors", w.leaks.Load(), w.errs.Load())
		}
		if w.ops.Load() != workers*opsPerWorker {
			t.Fatalf("only %d of %d operations ran before the deadline", w.ops.Load(), workers*opsPerWorker)
		}
	})
}

// The default mode relies on session state, so behind a transaction pooler
// it reads another tenant's rows: client A sets tenant 10's path on the one
// server connection, client B sets tenant 11's on the same one, and A's next
// statement (A still believes its path is set, so it sends no switch) runs
// there on tenant 11's path. The README says so; this pins it.
func TestTransactionPoolerDefaultModeLeaks(t *testing.T) {
	e := newEnv(t, "10", "11")
	bouncer := pgtest.StartPgBouncer(t, "transaction", 1)
	forEachDriver(t, func(t *testing.T, bd baseDriver) {
		a := e.open(t, bd, bouncer, true)
		b := e.open(t, bd, bouncer, true)
		a.SetMaxOpenConns(1)
		b.SetMaxOpenConns(1)
		ctx := context.Background()
		in10, in11 := tenantpath.WithTenant(ctx, "10"), tenantpath.WithTenant(ctx, "11")
		const rounds = 20
		wrong := 0
		read := func(ctx context.Context, db querier, want string) {
			got, err := readTenant(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				wrong++
			}
		}
		for range rounds {
			read(in10, a, "10") // A switches to 10, or trusts its memory
			read(in11, b, "11") // B does the same for 11 on the one server connection
		}
		t.Logf("transaction pooler, default mode, %s: %d reads interleaved, %d of the wrong tenant", bd.name, 2*rounds, wrong)
		if wrong == 0 {
			t.Fatal("the default mode never read the wrong tenant behind a transaction pooler; the README says it is unsafe there: which is it?")
		}
	})
}
