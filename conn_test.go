package tenantpath_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// A pinned *sql.Conn follows each call's context too.
func TestPinnedConnFollowsContext(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		ctx := context.Background()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, id := range []string{"10", "11", "10"} {
			tptest.MustRead(t, tenantpath.WithTenant(ctx, id), conn, id)
		}
	})
}

// DESIGN 5: sql.Conn.Raw reaches the base connection through Unwrap, and
// whatever is done with it there makes the path unknown.
func TestRawReachesBaseConnection(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		ctx := context.Background()
		ten := tenantpath.WithTenant(ctx, "10")
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tptest.MustRead(t, ten, conn, "10")
		schema11, _ := e.Naming.Schema("11")
		err = conn.Raw(func(dc any) error {
			u, ok := dc.(interface{ Unwrap() driver.Conn })
			if !ok {
				return fmt.Errorf("%T has no Unwrap", dc)
			}
			inner := u.Unwrap()
			if bd.Name == "pgx" {
				if _, ok := inner.(*stdlib.Conn); !ok {
					return fmt.Errorf("Unwrap gave %T, want *stdlib.Conn", inner)
				}
			}
			// Change the path behind the wrapper's back.
			_, err := inner.(driver.ExecerContext).ExecContext(ctx,
				"SET search_path TO "+tenantpath.QuoteIdentifier(schema11), nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, ten, conn, "10")
	})
}

// DESIGN 5: pgx-only argument types (Go slices) still reach pgx because
// CheckNamedValue is forwarded.
func TestNamedValueCheckerIsForwarded(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	db := e.Open(tptest.PGX)
	ten := tenantpath.WithTenant(context.Background(), "10")
	var n int
	if err := db.QueryRowContext(ten, "SELECT cardinality($1::int[])", []int{1, 2, 3}).Scan(&n); err != nil || n != 3 {
		t.Fatalf("slice argument through the wrapper: n=%d err=%v", n, err)
	}
	st, err := db.PrepareContext(ten, "SELECT cardinality($1::text[])")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.QueryRowContext(ten, []string{"a", "b"}).Scan(&n); err != nil || n != 2 {
		t.Fatalf("slice argument to a prepared statement: n=%d err=%v", n, err)
	}
}

// DESIGN 5: user SQL that changes the path makes the remembered path
// unknown, so the next call switches again.
func TestUserPathChangesAreNoticed(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		ctx := context.Background()
		ten := tenantpath.WithTenant(ctx, "10")
		s11 := tenantpath.QuoteIdentifier(e.Prefix + "11")
		for _, q := range []string{
			"SET search_path TO " + s11,
			"set SEARCH_PATH = " + s11,
			"SELECT pg_catalog.set_config('search_path', '" + s11 + "', false)",
			"RESET search_path",
			"RESET ALL",
			"DISCARD ALL",
			"SET SESSION ROLE NONE",
		} {
			if q == "DISCARD ALL" && strings.HasPrefix(bd.Name, "pgx") {
				continue // it also drops pgx's cached prepared statements, which pgx cannot survive
			}
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tptest.MustRead(t, ten, conn, "10")
			if _, err := conn.ExecContext(ten, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			got, err := tptest.ReadTenant(ten, conn)
			if err != nil || got != "10" {
				t.Fatalf("after %q: read %q, err %v; want tenant 10's notes", q, got, err)
			}
			conn.Close()
		}
	})
}

// DESIGN 5: a switch that fails on a dead connection discards it; because
// nothing ran yet, database/sql retries on a fresh connection.
func TestKilledBackendIsDiscarded(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		db.SetMaxOpenConns(1)
		ctx := context.Background()
		ten, eleven := tenantpath.WithTenant(ctx, "10"), tenantpath.WithTenant(ctx, "11")
		var pid int
		if err := db.QueryRowContext(ten, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		var ok bool
		if err := e.Admin.QueryRow("SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
			t.Fatalf("terminate %d: %v %v", pid, ok, err)
		}
		waitGone(t, e, pid)

		var newPid int
		var got string
		err := db.QueryRowContext(eleven, "SELECT pg_backend_pid(), tenant FROM notes").Scan(&newPid, &got)
		if err != nil {
			// Either database/sql retried (nil error) or the error says the
			// switch failed; never a result from the wrong tenant.
			var se *tenantpath.SwitchError
			if !errors.As(err, &se) && !errors.Is(err, driver.ErrBadConn) {
				t.Fatalf("call on killed backend: %v", err)
			}
			if err := db.QueryRowContext(eleven, "SELECT pg_backend_pid(), tenant FROM notes").Scan(&newPid, &got); err != nil {
				t.Fatalf("pool did not recover: %v", err)
			}
		}
		if newPid == pid || got != "11" {
			t.Fatalf("after kill: pid %d (old %d), read %q", newPid, pid, got)
		}
	})
}

func waitGone(t testing.TB, e *tptest.Env, pid int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		var n int
		if err := e.Admin.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		sleepBriefly()
	}
	t.Fatalf("backend %d did not exit", pid)
}

// A pinned connection whose rows are still open refuses a call for another
// tenant without sending anything: the call fails with ErrConnBusy, the
// connection is not poisoned, later calls fail at once rather than hang,
// and everything works again once the rows are closed. It takes a base
// driver that can tell a busy connection from a broken one: lib/pq does
// (driver.Validator); pgx's stdlib connection does not, and database/sql
// waits for the open rows when pgx answers driver.ErrBadConn, with or
// without tenantpath.
func TestBusyConnRefusesWithoutPoisoning(t *testing.T) {
	tptest.ForDrivers(t, []tptest.Driver{tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		bg := context.Background()
		ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
		conn, err := db.Conn(bg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rows, err := conn.QueryContext(ten, "SELECT tenant FROM notes, generate_series(1, 10000)")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(eleven, "SELECT 1"); !errors.Is(err, tenantpath.ErrConnBusy) {
			t.Fatalf("call for another tenant with rows open: %v, want ErrConnBusy", err)
		}
		for _, ctx := range []context.Context{ten, eleven} {
			done := make(chan error, 1)
			go func() {
				_, err := conn.ExecContext(ctx, "SELECT 1")
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("a call on a busy connection succeeded")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a call on a busy connection hangs")
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, eleven, conn, "11")
		tptest.MustRead(t, ten, conn, "10")
	})
}
