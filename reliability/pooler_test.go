package reliability_test

import (
	"context"
	"database/sql"
	"sync"
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

// interleave runs the deterministic two-client interleaving: client A
// reads tenant 10 and writes a row into its `writes` table, then client B
// does the same for tenant 11, rounds times, each client with a pool of one
// connection, behind a pooler with one server connection. It returns how
// many reads saw another tenant's rows and how many rows landed in another
// tenant's table.
func interleave(t *testing.T, e *env, a, b *sql.DB, rounds int) (wrongReads, wrongWrites int) {
	t.Helper()
	ctx := context.Background()
	for _, id := range []string{"10", "11"} {
		e.exec("TRUNCATE " + tenantpath.QuoteIdentifier(e.schema(id)) + ".writes")
	}
	step := func(db *sql.DB, id string) {
		tctx := tenantpath.WithTenant(ctx, id)
		got, err := readTenant(tctx, db)
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
		if err := e.admin.QueryRow("SELECT count(*) FROM "+tenantpath.QuoteIdentifier(e.schema(id))+".writes WHERE tenant <> $1", id).Scan(&n); err != nil {
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
	ids := tenantIDs(8)
	e := newEnv(t, append([]string{"10", "11"}, ids...)...)
	for _, id := range []string{"10", "11"} {
		e.exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.schema(id)) + ".writes (tenant text)")
	}
	bouncer := pgtest.StartPgBouncer(t, "transaction", 1)
	forEachDriver(t, func(t *testing.T, bd baseDriver) {
		const rounds = 50
		t.Run("default", func(t *testing.T) {
			a := e.open(t, bd, bouncer, true)
			b := e.open(t, bd, bouncer, true)
			a.SetMaxOpenConns(1)
			b.SetMaxOpenConns(1)
			reads, writes := interleave(t, e, a, b, rounds)
			t.Logf("transaction pooler, default mode, %s: %d reads and %d autocommit writes interleaved: %d reads of the wrong tenant, %d rows written into the wrong tenant",
				bd.name, 2*rounds, 2*rounds, reads, writes)
			if reads == 0 || writes == 0 {
				t.Fatal("the default mode never read or wrote the wrong tenant behind a transaction pooler; the README says it is unsafe there: which is it?")
			}
		})
		t.Run("TransactionPooling", func(t *testing.T) {
			a := e.open(t, bd, bouncer, true, tenantpath.TransactionPooling())
			b := e.open(t, bd, bouncer, true, tenantpath.TransactionPooling())
			a.SetMaxOpenConns(1)
			b.SetMaxOpenConns(1)
			reads, writes := interleave(t, e, a, b, rounds)
			t.Logf("transaction pooler, TransactionPooling, %s: %d reads and %d autocommit writes interleaved: %d leaks", bd.name, 2*rounds, 2*rounds, reads+writes)
			if reads+writes != 0 {
				t.Fatalf("with TransactionPooling, %d reads of the wrong tenant and %d rows written into the wrong tenant", reads, writes)
			}

			// Both clients at once, each with a pool of 4, over the one
			// server connection.
			a.SetMaxOpenConns(4)
			b.SetMaxOpenConns(4)
			var total counter
			var wg sync.WaitGroup
			for _, db := range []*sql.DB{a, b} {
				w := &workload{t: t, db: db, ids: ids, noPrepared: true}
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.run(context.Background(), 8, 60, time.Now().Add(60*time.Second))
					total.ops.Add(w.ops.Load())
					total.reads.Add(w.reads.Load())
					total.errs.Add(w.errs.Load())
					total.leaks.Add(w.leaks.Load())
				}()
			}
			wg.Wait()
			t.Log(total.summary("transaction pooler, TransactionPooling, two clients at once, " + bd.name))
			if total.leaks.Load() != 0 || total.errs.Load() != 0 {
				t.Fatalf("%d leaks, %d errors", total.leaks.Load(), total.errs.Load())
			}
			if total.ops.Load() != 2*8*60 {
				t.Fatalf("only %d of %d operations ran before the deadline", total.ops.Load(), 2*8*60)
			}
		})
	})
}
