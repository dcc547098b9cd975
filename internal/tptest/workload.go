package tptest

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

// Counter counts one scenario's operations, reads checked, leaks and
// errors.
type Counter struct {
	Ops, Reads, Leaks, Errs atomic.Int64
}

// Summary returns the counts in one line headed by name.
func (c *Counter) Summary(name string) string {
	return fmt.Sprintf("%s: %d ops, %d reads checked, %d errors, %d leaks",
		name, c.Ops.Load(), c.Reads.Load(), c.Errs.Load(), c.Leaks.Load())
}

// Workload runs tenant-checked operations against a pool and counts what
// it saw: plain queries, a shared prepared statement, transactions with
// savepoints committed or rolled back, and pinned connections serving two
// tenants in turn. Every read must see exactly the tenant it asked for.
//
// A Workload built as a literal has no prepared statement and must set
// NoPrepared; [NewWorkload] prepares one.
type Workload struct {
	T   testing.TB
	DB  *sql.DB
	IDs []string // the tenants operations pick from
	Counter

	// Faults: errors are expected (a killed backend, a cancelled
	// context); they are counted, not reported. Leaks always fail.
	Faults bool
	// NoPrepared leaves out the shared prepared statement (a statement
	// prepared on one server connection does not exist on the others
	// behind a transaction pooler).
	NoPrepared bool

	stmt     *sql.Stmt
	firstErr sync.Once
}

// NewWorkload returns a workload over db and the tenants ids with its
// shared prepared statement, closed when t ends.
func NewWorkload(t testing.TB, db *sql.DB, ids []string, faults bool) *Workload {
	t.Helper()
	w := &Workload{T: t, DB: db, IDs: ids, Faults: faults}
	st, err := db.PrepareContext(tenantpath.WithTenant(context.Background(), ids[0]), TenantsSeen+" WHERE $1::int >= 0")
	if err != nil {
		t.Fatal(err)
	}
	w.stmt = st
	t.Cleanup(func() { st.Close() })
	return w
}

func (w *Workload) fail(err error) {
	w.Errs.Add(1)
	if !w.Faults {
		w.firstErr.Do(func() { w.T.Errorf("first error: %v", err) })
	}
}

// check records one read: got must be exactly the tenant asked for.
func (w *Workload) check(id string, got sql.NullString, err error) {
	if err != nil {
		w.fail(err)
		return
	}
	w.Reads.Add(1)
	if got.String != id {
		w.Leaks.Add(1)
		w.T.Errorf("LEAK: tenant %q read rows of %q", id, got.String)
	}
}

// Run starts workers goroutines doing opsPerWorker operations each, or
// until the deadline, and waits for them.
func (w *Workload) Run(ctx context.Context, workers, opsPerWorker int, deadline time.Time) {
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
			for i := 0; i < opsPerWorker && time.Now().Before(deadline); i++ {
				w.RandomOp(ctx, rng)
			}
		}(uint64(g))
	}
	wg.Wait()
}

// Pick returns one of the workload's tenants at random.
func (w *Workload) Pick(rng *rand.Rand) string { return w.IDs[rng.IntN(len(w.IDs))] }

// RandomOp runs one random operation for a random tenant, with base as the
// parent context, and counts it.
func (w *Workload) RandomOp(base context.Context, rng *rand.Rand) {
	w.Ops.Add(1)
	id := w.Pick(rng)
	ctx := tenantpath.WithTenant(base, id)
	var got sql.NullString
	op := rng.IntN(4)
	if op == 1 && w.NoPrepared {
		op = 0
	}
	switch op {
	case 0: // plain query
		err := w.DB.QueryRowContext(ctx, TenantsSeen).Scan(&got)
		w.check(id, got, err)
	case 1: // shared prepared statement
		err := w.stmt.QueryRowContext(ctx, rng.IntN(100)).Scan(&got)
		w.check(id, got, err)
	case 2: // transaction with a write and a savepoint, committed or not
		tx, err := w.DB.BeginTx(ctx, nil)
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
		err = tx.QueryRowContext(ctx, TenantsSeen).Scan(&got)
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
		conn, err := w.DB.Conn(ctx)
		if err != nil {
			w.fail(err)
			return
		}
		defer conn.Close()
		err = conn.QueryRowContext(ctx, TenantsSeen).Scan(&got)
		w.check(id, got, err)
		other := w.Pick(rng)
		err = conn.QueryRowContext(tenantpath.WithTenant(base, other), TenantsSeen).Scan(&got)
		w.check(other, got, err)
	}
}

// VerifyEveryConn checks out n connections at once (every one the pool
// holds, when n is its size) and checks each serves every tenant its own
// rows: no connection kept a stale remembered path. It returns the reads
// it checked.
func VerifyEveryConn(t testing.TB, db *sql.DB, ids []string, n int) (reads int) {
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
			got, err := ReadTenant(tenantpath.WithTenant(ctx, id), c)
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
