package tenantpath_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
)

// TestConcurrentTenantsNeverLeak hammers a small pool from many goroutines
// with random tenants and a random mix of plain queries, transactions
// (committed and rolled back, with savepoints), a shared prepared statement
// and pinned connections. Every read must see only the tenant it asked for.
func TestConcurrentTenantsNeverLeak(t *testing.T) {
	forEachDriver(t, func(t *testing.T, bd baseDriver) {
		const tenants, workers, opsPerWorker = 12, 24, 120
		ids := make([]string, tenants)
		for i := range ids {
			ids[i] = fmt.Sprint(100 + i)
		}
		e := newEnv(t, ids...)
		db := e.open(bd)
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		w := newWorkload(t, db, ids[0])
		defer w.close()

		var wg sync.WaitGroup
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, 7))
				for i := 0; i < opsPerWorker; i++ {
					w.randomOp(rng, ids[rng.IntN(len(ids))])
				}
			}(uint64(g))
		}
		wg.Wait()
		t.Logf("%s: %d operations over %d tenants, %d workers, pool of 4: %d reads checked, %d leaks, %d errors",
			bd.name, w.ops.Load(), tenants, workers, w.reads.Load(), w.leaks.Load(), w.errs.Load())
		if w.leaks.Load() != 0 || w.errs.Load() != 0 {
			t.Fatalf("%d leaks, %d errors", w.leaks.Load(), w.errs.Load())
		}
		if w.reads.Load() < workers*opsPerWorker {
			t.Fatalf("only %d reads checked", w.reads.Load())
		}
	})
}

// workload runs tenant-checked operations and counts what it saw.
type workload struct {
	t                       testing.TB
	db                      *sql.DB
	stmt                    *sql.Stmt
	ops, reads, leaks, errs atomic.Int64
	firstErr                sync.Once
}

// tenantsSeen lists the distinct tenants in the notes table on the path.
const tenantsSeen = "SELECT string_agg(DISTINCT tenant, ',') FROM notes"

func newWorkload(t testing.TB, db *sql.DB, anyTenant string) *workload {
	st, err := db.PrepareContext(tenantpath.WithTenant(context.Background(), anyTenant), tenantsSeen+" WHERE $1::int >= 0")
	if err != nil {
		t.Fatal(err)
	}
	return &workload{t: t, db: db, stmt: st}
}

func (w *workload) close() { w.stmt.Close() }

func (w *workload) fail(err error) {
	w.errs.Add(1)
	w.firstErr.Do(func() { w.t.Errorf("first error: %v", err) })
}

func (w *workload) check(id, got string, err error) {
	if err != nil {
		w.fail(err)
		return
	}
	w.reads.Add(1)
	if got != id {
		w.leaks.Add(1)
		w.t.Errorf("LEAK: tenant %q read rows of %q", id, got)
	}
}

func (w *workload) randomOp(rng *rand.Rand, id string) {
	w.ops.Add(1)
	ctx := tenantpath.WithTenant(context.Background(), id)
	var got string
	switch rng.IntN(4) {
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
		other := fmt.Sprint(100 + rng.IntN(12))
		err = conn.QueryRowContext(tenantpath.WithTenant(ctx, other), tenantsSeen).Scan(&got)
		w.check(other, got, err)
	}
}

func sleepBriefly() { time.Sleep(10 * time.Millisecond) }
