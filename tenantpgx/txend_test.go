package tenantpgx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// countNotes counts the rows titled title in tenant id's schema.
func countNotes(t *testing.T, e *tptest.Env, id, title string) int {
	t.Helper()
	var n int
	if err := e.Admin.QueryRow("SELECT count(*) FROM "+tenantpath.QuoteIdentifier(e.Schema(id))+".notes WHERE tenant = $1", title).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pgx ends transactions and savepoints with statements sent under the
// context Commit or Rollback gets, often one without a tenant: they must
// run, or the transaction's writes are lost.
func TestTransactionsEndUnderAnyContext(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten := tenantpath.WithTenant(bg, "10")

	tx, err := pool.Begin(ten)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(bg) // on failure: the pool cannot close with it open
	if _, err := tx.Exec(ten, "INSERT INTO notes VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	inner, err := tx.Begin(ten) // SAVEPOINT
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inner.Exec(ten, "INSERT INTO notes VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	if err := inner.Commit(bg); err != nil { // RELEASE SAVEPOINT
		t.Fatalf("releasing a savepoint without a tenant: %v", err)
	}
	undone, err := tx.Begin(ten)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := undone.Exec(ten, "INSERT INTO notes VALUES ('undone')"); err != nil {
		t.Fatal(err)
	}
	if err := undone.Rollback(bg); err != nil { // ROLLBACK TO SAVEPOINT
		t.Fatalf("rolling back to a savepoint without a tenant: %v", err)
	}
	if err := tx.Commit(bg); err != nil {
		t.Fatalf("committing without a tenant: %v", err)
	}
	if n := countNotes(t, e, "10", "kept"); n != 2 {
		t.Fatalf("%d rows committed, want 2", n)
	}
	if n := countNotes(t, e, "10", "undone"); n != 0 {
		t.Fatalf("%d rows rolled back to the savepoint remain", n)
	}

	tx, err = pool.Begin(ten)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(bg)
	if _, err := tx.Exec(ten, "INSERT INTO notes VALUES ('rolled back')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(bg); err != nil {
		t.Fatalf("rolling back without a tenant: %v", err)
	}
	if n := countNotes(t, e, "10", "rolled back"); n != 0 {
		t.Fatalf("%d rows of a rolled back transaction", n)
	}
	// The connection is still the pool's only one, and routes.
	if got := tenantOf(t, tenantpath.WithTenant(bg, "11"), pool); got != "11" {
		t.Fatalf("after the transactions, tenant 11 read %q", got)
	}
	if got := pool.Stat().NewConnsCount(); got != 1 {
		t.Fatalf("%d connections made, want 1", got)
	}
}

// Only a lone transaction-ending statement goes unrouted: one that smuggles
// another statement behind it is refused without a tenant.
func TestSmuggledStatementsAreRouted(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten := tenantpath.WithTenant(bg, "10")
	for _, q := range []string{
		"COMMIT; INSERT INTO notes VALUES ('smuggled')",
		"ROLLBACK; INSERT INTO notes VALUES ('smuggled')",
		"END /* */ ; INSERT INTO notes VALUES ('smuggled')",
		"INSERT INTO notes VALUES ('smuggled'); COMMIT",
	} {
		c := acquire(t, pool, ten)
		tenantOf(t, ten, c) // on tenant 10
		if _, err := c.Exec(bg, q); !errors.Is(err, tenantpath.ErrNoTenant) {
			t.Errorf("%q without a tenant: %v", q, err)
		}
		c.Release()
	}
	var n int
	if err := e.Admin.QueryRow(`SELECT (SELECT count(*) FROM ` + tenantpath.QuoteIdentifier(e.Schema("10")) + `.notes WHERE tenant = 'smuggled')
		+ (SELECT count(*) FROM ` + tenantpath.QuoteIdentifier(e.Prefix+"shared") + `.notes WHERE tenant = 'smuggled')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows written by refused calls (%v)", n, err)
	}
}

// Taking a connection needs no tenant: pool.Ping does, and database/sql's
// connection opener over OpenDBFromPool does for the calls waiting. The
// statements still need one.
func TestPingNeedsNoTenant(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	pool := newPool(t, e, pgtest.DSN(t), 2, nil)
	bg := context.Background()
	if err := pool.Ping(bg); err != nil {
		t.Fatalf("pool.Ping: %v", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	if err := db.PingContext(bg); err != nil {
		t.Fatalf("PingContext over OpenDBFromPool: %v", err)
	}
	if _, err := pool.Exec(bg, "INSERT INTO notes VALUES ('none')"); !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Fatalf("a statement without a tenant: %v", err)
	}
	if _, err := db.ExecContext(bg, "INSERT INTO notes VALUES ('none')"); !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Fatalf("a database/sql statement without a tenant: %v", err)
	}
	// A refusal never falls on the next call.
	if got := tenantOf(t, tenantpath.WithTenant(bg, "10"), pool); got != "10" {
		t.Fatalf("after the refusals, tenant 10 read %q", got)
	}
	var n int
	if err := e.Admin.QueryRow(`SELECT count(*) FROM ` + tenantpath.QuoteIdentifier(e.Prefix+"shared") + `.notes WHERE tenant = 'none'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows written without a tenant (%v)", n, err)
	}
}
