package tenantpath_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath/internal/tptest"
)

// TestConcurrentTenantsNeverLeak hammers a small pool from many goroutines
// with random tenants and a random mix of plain queries, transactions
// (committed and rolled back, with savepoints), a shared prepared statement
// and pinned connections. Every read must see only the tenant it asked for.
func TestConcurrentTenantsNeverLeak(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		const tenants, workers, opsPerWorker = 12, 24, 120
		ids := tptest.TenantIDs(tenants)
		e := tptest.NewEnv(t, ids...)
		db := e.Open(bd)
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		w := tptest.NewWorkload(t, db, ids, false)

		var wg sync.WaitGroup
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, 7))
				for i := 0; i < opsPerWorker; i++ {
					w.RandomOp(context.Background(), rng)
				}
			}(uint64(g))
		}
		wg.Wait()
		t.Logf("%s: %d operations over %d tenants, %d workers, pool of 4: %d reads checked, %d leaks, %d errors",
			bd.Name, w.Ops.Load(), tenants, workers, w.Reads.Load(), w.Leaks.Load(), w.Errs.Load())
		if w.Leaks.Load() != 0 || w.Errs.Load() != 0 {
			t.Fatalf("%d leaks, %d errors", w.Leaks.Load(), w.Errs.Load())
		}
		if w.Reads.Load() < workers*opsPerWorker {
			t.Fatalf("only %d reads checked", w.Reads.Load())
		}
	})
}

func sleepBriefly() { time.Sleep(10 * time.Millisecond) }
