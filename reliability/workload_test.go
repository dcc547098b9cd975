package reliability_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
)

// workload runs tenant-checked operations against a pool and counts what it
// saw: the concurrency workload of the driver's own tests (plain queries, a
// shared prepared statement, transactions with savepoints committed or
// rolled back, pinned connections serving two tenants in turn), here run
// through poolers and under faults.
type workload struct {
	t   testing.TB
	db  *sql.DB
	ids []string
	counter

	// faults: errors are expected (a killed backend, a cancelled
	// context); they are counted, not reported. Leaks always fail.
	faults bool
	// noPrepared leaves out the shared prepared statement (a statement
	// prepared on one server connection does not exist on the others
	// behind a transaction pooler).
	noPrepared bool

	stmt     *sql.Stmt
	firstErr sync.Once
}

func newWorkload(t testing.TB, db *sql.DB, ids []string, faults bool) *workload {
	t.Helper()
	w := &workload{t: t, db: db, ids: ids, faults: faults}
	st, err := db.PrepareContext(tenantpath.WithTenant(context.Background(), ids[0]), tenantsSeen+" WHERE $1::int >= 0")
	if err != nil {
		t.Fatal(err)
	}
	w.stmt = st
	t.Cleanup(func() { st.Close() })
	return w
}

func (w *workload) fail(err error) {
	w.errs.Add(1)
	if !w.faults {
		w.firstErr.Do(func() { w.t.Errorf("first error: %v", err) })
	}
}

// check records one read: got must be exactly the tenant asked for.
func (w *workload) check(id string, got sql.NullString, err error) {
	if err != nil {
		w.fail(err)
		return
	}
	w.reads.Add(1)
	if got.String != id {
		w.leaks.Add(1)
		w.t.Errorf("LEAK: tenant %q read rows of %q", id, got.String)
	}
}

// run starts workers goroutines doing opsPerWorker operations each, or
// until the deadline, and waits for them.
func (w *workload) run(ctx context.Context, workers, opsPerWorker int, deadline time.Time) {
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
			for i := 0; i < opsPerWorker && time.Now().Before(deadline); i++ {
				w.randomOp(ctx, rng)
			}
		}(uint64(g))
	}
	wg.Wait()
}

func (w *workload) pick(rng *rand.Rand) string { return w.ids[rng.IntN(len(w.ids))] }

func (w *workload) randomOp(base context.Context, rng *rand.Rand) {
	w.ops.Add(1)
	id := w.pick(rng)
	ctx := tenantpath.WithTenant(base, id)
	var got sql.NullString
	op := rng.IntN(4)
	if op == 1 && w.noPrepared {
		op = 0
	}
	switch op {
	case 0: // plain query
		err := w.db.QueryRowContext(ctx, tenantsSeen).Scan(&got)
		w.check(id, got, err)
	case 1: // shared prepared statement
		err := w.stmt.QueryRowContext(ctx, rng.IntN(100)).Scan(&got)
		w.check(id, got, err)
	case 2: // transaction with a write and a savepoint, committed or not
		tx, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			w.fail(err)
			return
		}
		defer tx.Rollback()
		for _, q := range []string{"SAVEPOINT s", "INSERT INTO notes VALUES ($1)", "ROLLBACK TO SAVEPOINT s", "INSERT INTO notes VALUES ($1)"} {
			var args []any
			if q != "SAVEPOINT s" && q != "ROLLBACK TO SAVEPOINT s" {
				args = []any{id}
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				w.fail(err)
				return
			}
		}
		err = tx.QueryRowContext(ctx, tenantsSeen).Scan(&got)
		w.check(id, got, err)
		if rng.IntN(2) == 0 {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			w.fail(err)
		}
	case 3: // pinned connection serving two tenants in turn
		conn, err := w.db.Conn(ctx)
		if err != nil {
			w.fail(err)
			return
		}
		defer conn.Close()
		err = conn.QueryRowContext(ctx, tenantsSeen).Scan(&got)
		w.check(id, got, err)
		other := w.pick(rng)
		err = conn.QueryRowContext(tenantpath.WithTenant(base, other), tenantsSeen).Scan(&got)
		w.check(other, got, err)
	}
}

// verifyEveryConn checks out n connections at once (every one the pool
// holds, when n is its size) and checks each serves every tenant its own
// rows: no connection kept a stale remembered path.
func verifyEveryConn(t testing.TB, db *sql.DB, ids []string, n int) (reads int) {
	t.Helper()
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		for _, id := range ids {
			got, err := readTenant(tenantpath.WithTenant(ctx, id), c)
			if err != nil {
				t.Fatalf("after the run, tenant %s: %v", id, err)
			}
			if got != id {
				t.Fatalf("LEAK after the run: tenant %q read rows of %q", id, got)
			}
			reads++
		}
	}
	return reads
}

func tenantIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(100 + i)
	}
	return ids
}
