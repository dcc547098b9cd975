package tenantpgx_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

// Edge cases of the carried switch on the database/sql path
// (tenantpgx.OpenDB).

var carriedModes = []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe,
	pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol}

// openCarried opens a one-connection *sql.DB through tenantpgx.OpenDB in
// mode, closed when t ends.
func openCarried(t *testing.T, e *tptest.Env, mode pgx.QueryExecMode, opts ...tenantpath.Option) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	db, err := tenantpgx.OpenDB(*cfg, append([]tenantpath.Option{tenantpath.WithNaming(e.Naming)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	return db
}

// readTenant reads the notes on the path for ctx, with a deadline so that a
// hang fails the test.
func readTenant(t *testing.T, ctx context.Context, q tptest.Querier) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return tptest.ReadTenant(ctx, q)
}

// Inside a BeginTx transaction for tenant 10, the caller's SET LOCAL moves
// the path to tenant 11's schema: the transaction's path is in doubt, and
// its next call for tenant 10 sets it again, carried with the call. When
// pgx fails that call before writing anything (an argument it cannot
// encode), the switch never goes out, and the path stays in doubt: the
// call after it sets it again and reads tenant 10's rows.
func TestCarriedReassertWhenNothingIsSent(t *testing.T) {
	for _, mode := range carriedModes {
		t.Run(mode.String(), func(t *testing.T) {
			e := tptest.NewEnv(t, "10", "11")
			db := openCarried(t, e, mode)
			bg := context.Background()
			ten := tenantpath.WithTenant(bg, "10")
			const q = "SELECT count(*) FROM notes WHERE $1::int >= 0"
			tx, err := db.BeginTx(ten, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var n int
			if err := tx.QueryRowContext(ten, q, 1).Scan(&n); err != nil { // prepared and cached by pgx
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ten, "SET LOCAL search_path TO "+tenantpath.QuoteIdentifier(e.Schema("11"))); err != nil {
				t.Fatal(err)
			}
			// pgx cannot encode a channel: it fails before writing.
			if err := tx.QueryRowContext(ten, q, make(chan int)).Scan(&n); err == nil {
				t.Fatal("a query with a channel argument succeeded")
			}
			got, err := readTenant(t, ten, tx)
			if err == nil && got != "10" {
				t.Errorf("in tenant 10's transaction, after a call pgx never sent, tenant 10 read %q", got)
			}
		})
	}
}

// Outside TransactionPooling, a statement that needs its switch sent alone
// (several statements in one query) inside a BeginTx transaction whose path
// is in doubt runs: the transaction-local switch goes alone, before it,
// and holds for the open transaction block.
func TestReassertBeforeMultiStatementInTransaction(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	db := openCarried(t, e, pgx.QueryExecModeCacheStatement)
	bg := context.Background()
	ten := tenantpath.WithTenant(bg, "10")
	tx, err := db.BeginTx(ten, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ten, "SET LOCAL search_path TO "+tenantpath.QuoteIdentifier(e.Schema("11"))); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ten, "INSERT INTO notes VALUES ('multi'); INSERT INTO notes VALUES ('multi')"); err != nil {
		t.Errorf("a multi-statement call for the transaction's own tenant: %v", err)
		return
	}
	got, err := readTenant(t, ten, tx)
	if err != nil || got != "10,multi" {
		t.Errorf("tenant 10 read %q (%v)", got, err)
	}
}

// A carried switch whose statement fails (at Parse, at Execute, in
// the middle of a result) is undone with the statement's implicit
// transaction, and the connection's belief follows, in every exec mode.
func TestCarriedSwitchUndoneByStatementError(t *testing.T) {
	for _, mode := range carriedModes {
		t.Run(mode.String(), func(t *testing.T) {
			e := tptest.NewEnv(t, "10", "11")
			e.Exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.Schema("11")) + ".only11 (v int)")
			db := openCarried(t, e, mode)
			bg := context.Background()
			ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
			for _, bad := range []string{
				"SELECT * FROM only10", // Parse
				"SELECT 1/0",           // Execute
				"SELECT 1/(g - 3000) FROM generate_series(1, 5000) g",              // mid-result
				"INSERT INTO only11 SELECT 1/(g - 3) FROM generate_series(1, 5) g", // write, then error
			} {
				tptest.MustRead(t, ten, db, "10")
				rows, err := db.QueryContext(eleven, bad)
				if err == nil {
					for rows.Next() {
					}
					err = rows.Err()
					rows.Close()
				}
				if err == nil {
					t.Fatalf("%s succeeded", bad)
				}
				// The failed statement undid the switch: the connection is on
				// tenant 10's path and must know it.
				if got, err := readTenant(t, eleven, db); err != nil || got != "11" {
					t.Fatalf("after %q, tenant 11 read %q (%v)", bad, got, err)
				}
				if got, err := readTenant(t, tenantpath.WithShared(bg), db); err != nil || got != "shared" {
					t.Fatalf("after %q, the shared scope read %q (%v)", bad, got, err)
				}
			}
		})
	}
}

// A bare ROLLBACK outside any transaction undoes the carried
// switch in front of it with only a WARNING (no error); the detector's
// effectEndTx makes the path unknown, so the next call switches again.
func TestCarriedSwitchUndoneByBareRollback(t *testing.T) {
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			e := tptest.NewEnv(t, "10", "11")
			db := openCarried(t, e, mode)
			bg := context.Background()
			ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
			for _, q := range []string{"ROLLBACK", "ABORT", "rollback work"} {
				tptest.MustRead(t, ten, db, "10")
				if _, err := db.ExecContext(eleven, q); err != nil {
					t.Fatal(err)
				}
				if got, err := readTenant(t, eleven, db); err != nil || got != "11" {
					t.Fatalf("after a carried %q, tenant 11 read %q (%v)", q, got, err)
				}
			}
		})
	}
}

// An unknown tenant (3F000) in every exec mode, carried with a
// write, writes nothing anywhere and leaves the next call right.
func TestCarriedUnknownTenantEveryMode(t *testing.T) {
	for _, mode := range carriedModes {
		t.Run(mode.String(), func(t *testing.T) {
			e := tptest.NewEnv(t, "10")
			db := openCarried(t, e, mode)
			bg := context.Background()
			ten := tenantpath.WithTenant(bg, "10")
			tptest.MustRead(t, ten, db, "10")
			for _, q := range []string{"INSERT INTO notes VALUES ('ghost')", "INSERT INTO notes VALUES ('ghost'); INSERT INTO notes VALUES ('ghost')"} {
				if _, err := db.ExecContext(tenantpath.WithTenant(bg, "99"), q); !errors.Is(err, tenantpath.ErrUnknownTenant) {
					t.Errorf("%q for an unknown tenant: %v", q, err)
				}
			}
			if _, err := db.ExecContext(tenantpath.WithTenant(bg, "99"), "INSERT INTO notes VALUES ($1)", "ghost"); !errors.Is(err, tenantpath.ErrUnknownTenant) {
				t.Errorf("an insert with an argument for an unknown tenant: %v", err)
			}
			if n := countNotes(t, e, "10", "ghost"); n != 0 {
				t.Errorf("%d ghost rows in tenant 10", n)
			}
			var n int
			if err := e.Admin.QueryRow("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.Prefix+"shared") + ".notes WHERE tenant = 'ghost'").Scan(&n); err != nil || n != 0 {
				t.Errorf("%d ghost rows in the shared schema (%v)", n, err)
			}
			tptest.MustRead(t, ten, db, "10")
		})
	}
}

// A statement killed after its carried switch ran (statement_timeout,
// a cancelled context) leaves no later call on the wrong path, and a
// prepared statement executed under another tenant reads that tenant's rows.
func TestCarriedSwitchKilledStatementAndPreparedAcrossTenants(t *testing.T) {
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			e := tptest.NewEnv(t, "10", "11")
			db := openCarried(t, e, mode)
			bg := context.Background()
			ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
			conn, err := db.Conn(bg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			tptest.MustRead(t, ten, conn, "10")
			if _, err := conn.ExecContext(ten, "SET statement_timeout = '100ms'"); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(eleven, "INSERT INTO notes SELECT 'slow' FROM pg_sleep(1)"); err == nil {
				t.Fatal("statement_timeout did not fire")
			}
			if got, err := readTenant(t, eleven, conn); err != nil || got != "11" {
				t.Fatalf("after a timed out statement, tenant 11 read %q (%v)", got, err)
			}
			conn.ExecContext(eleven, "RESET statement_timeout")
			tptest.MustRead(t, ten, conn, "10")
			cctx, cancel := context.WithTimeout(eleven, 100*time.Millisecond)
			_, err = conn.ExecContext(cctx, "INSERT INTO notes SELECT 'slow' FROM pg_sleep(1)")
			cancel()
			if err == nil {
				t.Fatal("a cancelled statement succeeded")
			}
			conn.Close()
			if got, err := readTenant(t, ten, db); err != nil || got != "10" {
				t.Fatalf("after a cancelled statement, tenant 10 read %q (%v)", got, err)
			}
			if n := countNotes(t, e, "10", "slow") + countNotes(t, e, "11", "slow"); n != 0 {
				t.Fatalf("%d rows of killed statements", n)
			}
			st, err := db.PrepareContext(ten, tptest.TenantsSeen)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for range 3 {
				for _, id := range []string{"11", "10"} {
					var got string
					if err := st.QueryRowContext(tenantpath.WithTenant(bg, id)).Scan(&got); err != nil || got != id {
						t.Fatalf("the prepared statement for tenant %s read %q (%v)", id, got, err)
					}
				}
			}
		})
	}
}
