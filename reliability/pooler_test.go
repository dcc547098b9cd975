package reliability_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// The driver's full concurrency workload passes through PgBouncer in
// pool_mode=session, where a client keeps its server connection for as long
// as it is connected: the default mode needs nothing more.
func TestSessionPoolerNeverLeaks(t *testing.T) {
	ids := tptest.TenantIDs(12)
	e := tptest.NewEnv(t, ids...)
	bouncer := pgtest.StartPgBouncer(t, "session", 4)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		const workers, opsPerWorker = 24, 100
		db := e.OpenOn(t, bd, bouncer, false)
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		w := tptest.NewWorkload(t, db, ids, false)
		w.Run(context.Background(), workers, opsPerWorker, time.Now().Add(60*time.Second))
		w.Reads.Add(int64(tptest.VerifyEveryConn(t, db, ids, 4)))
		t.Log(w.Summary("session pooler, " + bd.Name))
		if w.Leaks.Load() != 0 || w.Errs.Load() != 0 {
			t.Fatalf("%d leaks, %d errors", w.Leaks.Load(), w.Errs.Load())
		}
		if w.Ops.Load() != workers*opsPerWorker {
			t.Fatalf("only %d of %d operations ran before the deadline", w.Ops.Load(), workers*opsPerWorker)
		}
	})
}

// interleave runs the deterministic two-client interleaving: client A
// reads tenant 10 and writes a row into its `writes` table, then client B
// does the same for tenant 11, rounds times, each client with a pool of one
// connection, behind a pooler with one server connection. It returns how
// many reads saw another tenant's rows and how many rows landed in another
// tenant's table.
func interleave(t *testing.T, e *tptest.Env, a, b *sql.DB, rounds int) (wrongReads, wrongWrites int) {
	t.Helper()
	ctx := context.Background()
	for _, id := range []string{"10", "11"} {
		e.Exec("TRUNCATE " + tenantpath.QuoteIdentifier(e.Schema(id)) + ".writes")
	}
	step := func(db *sql.DB, id string) {
		tctx := tenantpath.WithTenant(ctx, id)
		got, err := tptest.ReadTenant(tctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if got != id {
			wrongReads++
		}
		if _, err := db.ExecContext(tctx, "INSERT INTO writes VALUES ($1)", id); err != nil {
			t.Fatal(err)
		}
	}
	for range rounds {
		step(a, "10") // A switches to 10, or trusts its memory
		step(b, "11") // B does the same for 11, on the same server connection
	}
	for _, id := range []string{"10", "11"} {
		var n int
		if err := e.Admin.QueryRow("SELECT count(*) FROM "+tenantpath.QuoteIdentifier(e.Schema(id))+".writes WHERE tenant <> $1", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		wrongWrites += n
	}
	return wrongReads, wrongWrites
}

// Behind PgBouncer in pool_mode=transaction, with one server connection
// shared by two clients.
//
// The default mode relies on session state, so there it reads another
// tenant's rows: client A sets tenant 10's path on the one server
// connection, client B sets tenant 11's on the same one, and A's next
// statement (A still believes its path is set, so it sends no switch) runs
// there on tenant 11's path. The README says so; this pins it.
//
// With TransactionPooling the same interleaving, and then the concurrency
// workload from both clients at once, never reads another tenant's rows.
//
// pgx runs with QueryExecModeExec (parameters and execution in one round
// trip on the unnamed statement, nothing cached on a server connection);
// lib/pq with binary_parameters=yes (no separate prepare round trip). The
// workload leaves out its shared prepared statement: a statement prepared
// on one server connection does not exist on the others.
func TestTransactionPooler(t *testing.T) {
	ids := tptest.TenantIDs(8)
	e := tptest.NewEnv(t, append([]string{"10", "11"}, ids...)...)
	for _, id := range []string{"10", "11"} {
		e.Exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.Schema(id)) + ".writes (tenant text)")
	}
	bouncer := pgtest.StartPgBouncer(t, "transaction", 1)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		const rounds = 50
		t.Run("default", func(t *testing.T) {
			a := e.OpenOn(t, bd, bouncer, true)
			b := e.OpenOn(t, bd, bouncer, true)
			a.SetMaxOpenConns(1)
			b.SetMaxOpenConns(1)
			reads, writes := interleave(t, e, a, b, rounds)
			t.Logf("transaction pooler, default mode, %s: %d reads and %d autocommit writes interleaved: %d reads of the wrong tenant, %d rows written into the wrong tenant",
				bd.Name, 2*rounds, 2*rounds, reads, writes)
			if reads == 0 || writes == 0 {
				t.Fatal("the default mode never read or wrote the wrong tenant behind a transaction pooler; the README says it is unsafe there: which is it?")
			}
		})
		t.Run("TransactionPooling", func(t *testing.T) {
			a := e.OpenOn(t, bd, bouncer, true, tenantpath.TransactionPooling())
			b := e.OpenOn(t, bd, bouncer, true, tenantpath.TransactionPooling())
			a.SetMaxOpenConns(1)
			b.SetMaxOpenConns(1)
			reads, writes := interleave(t, e, a, b, rounds)
			t.Logf("transaction pooler, TransactionPooling, %s: %d reads and %d autocommit writes interleaved: %d leaks", bd.Name, 2*rounds, 2*rounds, reads+writes)
			if reads+writes != 0 {
				t.Fatalf("with TransactionPooling, %d reads of the wrong tenant and %d rows written into the wrong tenant", reads, writes)
			}

			// Both clients at once, each with a pool of 4, over the one
			// server connection.
			a.SetMaxOpenConns(4)
			b.SetMaxOpenConns(4)
			var total tptest.Counter
			var wg sync.WaitGroup
			for _, db := range []*sql.DB{a, b} {
				w := &tptest.Workload{T: t, DB: db, IDs: ids, NoPrepared: true}
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.Run(context.Background(), 8, 60, time.Now().Add(60*time.Second))
					total.Ops.Add(w.Ops.Load())
					total.Reads.Add(w.Reads.Load())
					total.Errs.Add(w.Errs.Load())
					total.Leaks.Add(w.Leaks.Load())
				}()
			}
			wg.Wait()
			t.Log(total.Summary("transaction pooler, TransactionPooling, two clients at once, " + bd.Name))
			if total.Leaks.Load() != 0 || total.Errs.Load() != 0 {
				t.Fatalf("%d leaks, %d errors", total.Leaks.Load(), total.Errs.Load())
			}
			if total.Ops.Load() != 2*8*60 {
				t.Fatalf("only %d of %d operations ran before the deadline", total.Ops.Load(), 2*8*60)
			}
		})
	})
}
