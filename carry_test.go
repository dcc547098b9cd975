package tenantpath_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// openWire opens a tenantpath pool of one connection over tenantpgx, whose
// network writes are counted.
func openWire(t *testing.T, e *tptest.Env, configure func(*pgx.ConnConfig), opts ...tenantpath.Option) (*sql.DB, *atomic.Int64) {
	t.Helper()
	base, writes := tptest.WireWrites(t, dsn(t), configure)
	db := tptest.OpenWrapped(t, base, append([]tenantpath.Option{tenantpath.WithNaming(e.Naming)}, opts...)...)
	db.SetMaxOpenConns(1)
	return db, writes
}

// writesOf returns how many network writes fn made: each write is a round
// trip, since the client waits for the answer before it writes again.
func writesOf(t *testing.T, writes *atomic.Int64, fn func()) int64 {
	t.Helper()
	before := writes.Load()
	fn()
	return writes.Load() - before
}

// DESIGN 3: with pgx through tenantpgx, a call that switches costs the one
// write of its statement: queries, Exec, prepared statements, BeginTx, and
// transaction-pooling's autocommit statements (BEGIN, switch, statement
// and COMMIT before) alike.
func TestCarriedSwitchCostsOneRoundTrip(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	const read = "SELECT string_agg(tenant, ',') FROM notes WHERE tenant <> $1"
	readAs := func(db *sql.DB, ctx context.Context, want string) {
		var got string
		if err := db.QueryRowContext(ctx, read, "nobody").Scan(&got); err != nil || got != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	t.Run("session", func(t *testing.T) {
		db, writes := openWire(t, e, nil)
		// Connect, prepare and cache the statement; the first reuse pings
		// (pgx's ResetSession does after a second of idleness, and a new
		// connection counts as idle since forever).
		readAs(db, ten, "10")
		readAs(db, ten, "10")
		for i, ctx := range []context.Context{eleven, ten, eleven} {
			want := []string{"11", "10", "11"}[i]
			if n := writesOf(t, writes, func() { readAs(db, ctx, want) }); n != 1 {
				t.Fatalf("switching query %d: %d round trips, want 1", i, n)
			}
		}
		update := func(ctx context.Context) {
			if _, err := db.ExecContext(ctx, "UPDATE notes SET tenant = tenant WHERE tenant = $1", "10"); err != nil {
				t.Fatal(err)
			}
		}
		update(eleven) // prepares and caches it
		if n := writesOf(t, writes, func() { update(ten) }); n != 1 {
			t.Fatalf("switching Exec: %d round trips, want 1", n)
		}
		stmt, err := db.PrepareContext(ten, read)
		if err != nil {
			t.Fatal(err)
		}
		defer stmt.Close()
		if n := writesOf(t, writes, func() {
			var got string
			if err := stmt.QueryRowContext(eleven, "nobody").Scan(&got); err != nil || got != "11" {
				t.Fatalf("prepared statement for 11: %q, %v", got, err)
			}
		}); n != 1 {
			t.Fatalf("switching prepared statement: %d round trips, want 1", n)
		}
		var tx *sql.Tx
		if n := writesOf(t, writes, func() {
			if tx, err = db.BeginTx(ten, nil); err != nil {
				t.Fatal(err)
			}
		}); n != 1 {
			t.Fatalf("switching BeginTx: %d round trips, want 1", n)
		}
		tptest.MustRead(t, ten, tx, "10")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := writesOf(t, writes, func() { readAs(db, ten, "10") }); n != 1 {
			t.Fatalf("same tenant after a committed transaction: %d round trips, want 1", n)
		}
	})
	t.Run("transaction pooling", func(t *testing.T) {
		db, writes := openWire(t, e, func(c *pgx.ConnConfig) { c.DefaultQueryExecMode = pgx.QueryExecModeExec },
			tenantpath.TransactionPooling())
		for i, ctx := range []context.Context{ten, ten, eleven, eleven} {
			want := []string{"10", "10", "11", "11"}[i]
			if n := writesOf(t, writes, func() { readAs(db, ctx, want) }); n != 1 && i > 1 {
				t.Fatalf("autocommit query %d: %d round trips, want 1", i, n)
			}
		}
		var tx *sql.Tx
		var err error
		if n := writesOf(t, writes, func() {
			if tx, err = db.BeginTx(ten, nil); err != nil {
				t.Fatal(err)
			}
		}); n != 1 {
			t.Fatalf("BeginTx: %d round trips, want 1", n)
		}
		tptest.MustRead(t, ten, tx, "10")
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, eleven, db, "11")
	})
}

// Names are resolved after the switch: a table that only the new tenant has
// is found, and a table of another shape in the old tenant is never what
// the statement was planned for.
func TestCarriedSwitchResolvesNamesAfterIt(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	e.Exec(fmt.Sprintf(`CREATE TABLE %[1]s.only_11 (v text); INSERT INTO %[1]s.only_11 VALUES ('eleven');
		CREATE TABLE %[1]s.shape (a text, b int); INSERT INTO %[1]s.shape VALUES ('x', 11);
		CREATE TABLE %[2]s.shape (a int); INSERT INTO %[2]s.shape VALUES (10)`,
		tenantpath.QuoteIdentifier(e.Schema("11")), tenantpath.QuoteIdentifier(e.Schema("10"))))
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	db, _ := openWire(t, e, nil)
	tptest.MustRead(t, ten, db, "10") // the connection is on tenant 10
	var v string
	if err := db.QueryRowContext(eleven, "SELECT v FROM only_11 WHERE v <> $1", "").Scan(&v); err != nil || v != "eleven" {
		t.Fatalf("a table only the new tenant has: %q, %v", v, err)
	}
	for _, c := range []struct {
		ctx  context.Context
		cols int
	}{{eleven, 2}, {ten, 1}, {eleven, 2}, {ten, 1}} {
		rows, err := db.QueryContext(c.ctx, "SELECT * FROM shape WHERE true = $1", true)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		rows.Close()
		if len(cols) != c.cols {
			t.Fatalf("%d columns, want %d: planned for the other tenant's table", len(cols), c.cols)
		}
	}
}

// An unknown tenant stops the statement it was carried with: nothing runs
// on the old path, for the extended protocol and for the simple one.
func TestCarriedUnknownTenantRunsNothing(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	bg := context.Background()
	ten, unknown := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "99")
	db, _ := openWire(t, e, nil)
	tptest.MustRead(t, ten, db, "10")
	for _, insert := range []func() error{
		func() error { _, err := db.ExecContext(unknown, "INSERT INTO notes VALUES ($1)", "leak"); return err },
		func() error { _, err := db.ExecContext(unknown, "INSERT INTO notes VALUES ('leak')"); return err },
		func() error {
			_, err := db.QueryContext(unknown, "INSERT INTO notes VALUES ('leak') RETURNING tenant")
			return err
		},
	} {
		err := insert()
		var ute *tenantpath.UnknownTenantError
		if !errors.As(err, &ute) || ute.Tenant != "99" || ute.Schema != e.Schema("99") {
			t.Fatalf("unknown tenant: %v, want an UnknownTenantError", err)
		}
	}
	tptest.MustRead(t, ten, db, "10")
	var n int
	if err := e.Admin.QueryRow("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.Prefix+"shared") + ".notes WHERE tenant = 'leak'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows reached the shared schema (%v)", n, err)
	}
}

// Errors leave no false belief: a statement that fails takes its carried
// switch down with it, and a transaction begun with a carried switch and
// rolled back undoes it; either way the next call switches again.
func TestCarriedSwitchUndoneWithItsTransaction(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	db, _ := openWire(t, e, nil)
	tptest.MustRead(t, ten, db, "10")
	if _, err := db.ExecContext(eleven, "SELECT 1/0 WHERE true = $1", true); err == nil {
		t.Fatal("division by zero succeeded")
	}
	tptest.MustRead(t, eleven, db, "11")
	tx, err := db.BeginTx(ten, nil)
	if err != nil {
		t.Fatal(err)
	}
	tptest.MustRead(t, ten, tx, "10")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tptest.MustRead(t, ten, db, "10")
	tptest.MustRead(t, eleven, db, "11")
	// A failing COMMIT rolls back as well.
	e.Exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.Schema("10")) + ".d (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
	tx, err = db.BeginTx(ten, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ten, "INSERT INTO d VALUES (1), (1)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("commit: %v, want a unique violation", err)
	}
	tptest.MustRead(t, eleven, db, "11")
	tptest.MustRead(t, ten, db, "10")
}
