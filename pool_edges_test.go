package tenantpath_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// Edge cases of Pool(n).

// A statement prepared on a db.Conn is not closed with the sql.Conn
// (database/sql leaves it to the caller), so its Close may reach the pool
// connection's statement cache after the connection went to another user:
// database/sql serialises it only with the checkout it was prepared on.
// The cache takes that Close under its lock, and a base statement whose
// last Close comes then is closed when the connection is given back, never
// on a connection somebody else is using. Run with -race.
func TestPoolConnStmtClosedAfterConnClose(t *testing.T) {
	ids := tptest.TenantIDs(1)
	e := tptest.NewEnv(t, ids...)
	tptest.ForDrivers(t, []tptest.Driver{tptest.PGX, tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		db := e.Open(bd, tenantpath.Pool(1))
		ctx := tenantpath.WithTenant(context.Background(), ids[0])
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st, err := conn.PrepareContext(ctx, tptest.TenantsSeen)
		if err != nil {
			t.Fatal(err)
		}
		if got := stmtRead(t, ctx, st); got != ids[0] {
			t.Fatalf("read %q", got)
		}
		conn.Close() // the statement stays open; the connection goes back to the pool

		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // another user of the only pool connection
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				ps, err := db.PrepareContext(ctx, tptest.TenantsSeen)
				if err != nil {
					t.Error(err)
					return
				}
				var got sql.NullString
				if err := ps.QueryRowContext(ctx).Scan(&got); err != nil || got.String != ids[0] {
					t.Errorf("read %q, %v", got.String, err)
				}
				ps.Close()
			}
		}()
		time.Sleep(50 * time.Millisecond)
		st.Close() // from this goroutine, while the other one uses the connection
		time.Sleep(50 * time.Millisecond)
		close(done)
		wg.Wait()
	})
}

// A connection whose base connection was handed out by Unwrap (the way
// sql.Conn.Raw users reach *stdlib.Conn or lib/pq's conn) is closed when it
// is given back, never kept: what was done with it is out of sight. Here
// the caller left the rows of a query open and returned driver.ErrBadConn;
// every later call gets a connection that works.
func TestPoolClosesAnUnwrappedConnection(t *testing.T) {
	ids := tptest.TenantIDs(1)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.Open(bd, tenantpath.Pool(1))
		ctx := tenantpath.WithTenant(context.Background(), ids[0])
		tptest.MustRead(t, ctx, db, ids[0])
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			inner := dc.(interface{ Unwrap() driver.Conn }).Unwrap()
			if _, err := inner.(driver.QueryerContext).QueryContext(context.Background(), "SELECT generate_series(1, 100000)", nil); err != nil {
				t.Error(err)
			}
			return driver.ErrBadConn // the rows are abandoned: throw the session away
		})
		if !errors.Is(err, driver.ErrBadConn) {
			t.Fatalf("Raw: %v", err)
		}
		conn.Close()
		var fails int
		var last error
		for range 10 {
			if _, err := tptest.ReadTenant(ctx, db); err != nil {
				fails++
				last = err
			}
			time.Sleep(20 * time.Millisecond)
		}
		if fails > 0 {
			t.Fatalf("%d of 10 reads after Raw returned driver.ErrBadConn failed, the last with: %v "+
				"(the connection database/sql closed is back in the pool)", fails, last)
		}
	})
}

// reqCtx is a request context of the application's own: a struct value
// that embeds the request's context and carries a value of any type.
// Its type is comparable (reflect says so), its values are not always.
type reqCtx struct {
	context.Context
	attrs any
}

// A request context of the application's own type, comparable by its type
// but holding a value that panics when compared, is not taken for a
// request (the pool compares requests with its lock held): calls under it
// work, and the pool keeps serving.
func TestPoolUncomparableRequestContext(t *testing.T) {
	ids := tptest.TenantIDs(1)
	e := tptest.NewEnv(t, ids...)
	// Not e.Open: its cleanup would call DB.Close, which hangs too.
	db, err := tenantpath.OpenDB(tptest.PGX.Connector(t, pgtest.DSN(t), false), tenantpath.WithNaming(e.Naming), tenantpath.Pool(1))
	if err != nil {
		t.Fatal(err)
	}
	base, cancel := context.WithCancel(tenantpath.WithTenant(context.Background(), ids[0]))
	defer cancel()
	call := func(ctx context.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		_, err = tptest.ReadTenant(ctx, db)
		return err
	}
	if err := call(reqCtx{base, []string{"first"}}); err != nil {
		t.Fatal(err)
	}
	err = call(reqCtx{base, []string{"second"}}) // a second request of the same kind
	done := make(chan error, 1)
	go func() { done <- call(base) }()
	select {
	case err2 := <-done:
		if err != nil || err2 != nil {
			t.Fatalf("second request: %v; the call after it: %v", err, err2)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("second request: %v; the call after it has not returned in 5s: the pool's lock is held for ever", err)
	}
	db.Close()
}

// One statement prepared with db.Prepare, run by callers of four
// tenants at once through Pool(2): the cached base statement is shared by
// every tenant a connection serves, and each execution reads its caller's
// tenant only.
func TestPoolPreparedAcrossTenantsAndConnections(t *testing.T) {
	ids := tptest.TenantIDs(4)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.Open(bd, tenantpath.Pool(2))
		st, err := db.PrepareContext(tenantpath.WithTenant(context.Background(), ids[0]), tptest.TenantsSeen)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 40 {
					id := ids[(w+i)%len(ids)]
					ctx, cancel := context.WithTimeout(tenantpath.WithTenant(context.Background(), id), 10*time.Second)
					var got sql.NullString
					err := st.QueryRowContext(ctx).Scan(&got)
					cancel()
					if err != nil || got.String != id {
						t.Errorf("tenant %s read %q (%v)", id, got.String, err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}

// While a transaction has the only pool connection, a call of
// another request waits (here until its deadline) instead of getting the
// transaction's connection, even with a request hold far longer than the
// wait; once the transaction commits, the call gets the connection on its
// own tenant's path.
func TestPoolTransactionConnectionNeverShared(t *testing.T) {
	ids := tptest.TenantIDs(2)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		db := e.Open(bd, tenantpath.Pool(1), tenantpath.PoolRequestHold(time.Second))
		req, end := context.WithCancel(tenantpath.WithTenant(context.Background(), ids[0]))
		defer end()
		tx, err := db.BeginTx(req, nil)
		if err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, req, tx, ids[0])
		other, cancel := context.WithTimeout(tenantpath.WithTenant(context.Background(), ids[1]), 200*time.Millisecond)
		if got, err := tptest.ReadTenant(other, db); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("while the transaction runs, tenant %s's read got %q, %v: want it to wait", ids[1], got, err)
		}
		cancel()
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, tenantpath.WithTenant(context.Background(), ids[1]), db, ids[1])
		tptest.MustRead(t, req, db, ids[0])
	})
}

// The backend of a connection kept for a request is terminated
// between two of the request's statements (another caller waits, so the
// connection is held for the request). The request's next statement either
// fails or reads its own tenant; the waiting caller and later callers read
// theirs.
func TestPoolKilledWhileHeld(t *testing.T) {
	ids := tptest.TenantIDs(2)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		app := e.Prefix + "killheld_" + bd.Name
		db := openApp(t, e, bd, app, tenantpath.Pool(1), tenantpath.PoolRequestHold(2*time.Second))
		req, end := context.WithCancel(tenantpath.WithTenant(context.Background(), ids[0]))
		defer end()
		conn, err := db.Conn(req) // the request has the connection
		if err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, req, conn, ids[0])
		waiter := make(chan error, 1)
		go func() { // queues behind the request
			ctx, cancel := context.WithTimeout(tenantpath.WithTenant(context.Background(), ids[1]), 10*time.Second)
			defer cancel()
			got, err := tptest.ReadTenant(ctx, db)
			if err == nil && got != ids[1] {
				err = fmt.Errorf("tenant %s read %q", ids[1], got)
			}
			waiter <- err
		}()
		for poolStats(t, db).Waiting == 0 {
			time.Sleep(time.Millisecond)
		}
		conn.Close() // held for req: somebody waits
		if st := poolStats(t, db); st.Held != 1 {
			t.Fatalf("want the connection held for the request: %+v", st)
		}
		var n int
		if err := e.Admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil || n != 1 {
			t.Fatalf("terminated %d backends: %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
		if got, err := tptest.ReadTenant(req, db); err == nil && got != ids[0] {
			t.Fatalf("the request read %q after its backend died, want %q or an error", got, ids[0])
		}
		if err := <-waiter; err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			tptest.MustRead(t, tenantpath.WithTenant(context.Background(), id), db, id)
		}
	})
}

// stmtRead reads the tenants seen through a statement prepared from
// tptest.TenantsSeen.
func stmtRead(t testing.TB, ctx context.Context, st *sql.Stmt) string {
	t.Helper()
	var got sql.NullString
	if err := st.QueryRowContext(ctx).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got.String
}
