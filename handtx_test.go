package tenantpath_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// A transaction begun by hand with plain SQL is out of the driver's sight,
// so a switch can happen inside it. A COMMIT of an aborted transaction (which
// the server turns into a rollback without an error) or a COMMIT that fails
// undoes that switch: the driver must not go on believing in it.
func TestHandBegunTransactionEndingUndoesSwitch(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		e.Exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.Prefix+"shared") + ".d (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
		db := e.Open(bd)
		bg := context.Background()
		ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
		for name, body := range map[string][]string{
			"commit of an aborted transaction": {"SELECT 1", "SELECT 1/0", "COMMIT"},
			"failing commit":                   {"INSERT INTO d VALUES (1), (1)", "COMMIT"},
			"end":                              {"SELECT 1", "SELECT 1/0", "END"},
		} {
			t.Run(name, func(t *testing.T) {
				conn, err := db.Conn(bg)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if _, err := conn.ExecContext(eleven, "BEGIN"); err != nil { // on tenant 11's path
					t.Fatal(err)
				}
				for _, q := range body { // switched to 10 inside the hand-made transaction
					conn.ExecContext(ten, q) // errors are the point here
				}
				tptest.MustRead(t, ten, conn, "10")
			})
		}
	})
}

// A statement without a tenant after a false alarm on a tenant call must
// still run on the base path, not on that tenant's.
func TestFalseAlarmAfterTenantCallKeepsBasePathForNoTenant(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "11")
		db := e.Open(bd)
		bg := tenantpath.WithBasePath(context.Background())
		conn, err := db.Conn(bg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		base := searchPath(t, bg, conn)
		eleven := tenantpath.WithTenant(bg, "11")
		tptest.MustRead(t, eleven, conn, "11")
		if _, err := conn.ExecContext(eleven, "SELECT 1 AS reset"); err != nil {
			t.Fatal(err)
		}
		if got := searchPath(t, bg, conn); got != base {
			t.Fatalf("no-tenant call ran on %s, want the base path %s", got, base)
		}
	})
}

// Inside a driver transaction, SQL that changes the path is followed by the
// path being set again (for the rest of the transaction) before the next
// call for the transaction's tenant; SQL that may end the transaction by
// hand makes later calls for a tenant fail, never run on whatever path is
// left. In transaction-pooling mode a hand COMMIT drops the
// transaction-scoped path altogether.
func TestTransactionOwnPathChange(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		bg := tenantpath.WithBasePath(context.Background())
		ten := tenantpath.WithTenant(bg, "10")
		pooling := []tenantpath.Option{tenantpath.TransactionPooling()}
		setLocal := "SET LOCAL search_path TO " + tenantpath.QuoteIdentifier(e.Schema("11"))
		for _, c := range []struct {
			name    string
			opts    []tenantpath.Option
			sql     string
			refused bool
		}{
			{"SET LOCAL", nil, setLocal, false},
			{"SET LOCAL, transaction pooling", pooling, setLocal, false},
			{"hand COMMIT", nil, "COMMIT", true},
			{"hand COMMIT, transaction pooling", pooling, "COMMIT", true},
			{"hand ROLLBACK, transaction pooling", pooling, "ROLLBACK", true},
		} {
			t.Run(c.name, func(t *testing.T) {
				db := e.Open(bd, c.opts...)
				tx, err := db.BeginTx(ten, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				tptest.MustRead(t, ten, tx, "10")
				if _, err := tx.ExecContext(bg, c.sql); err != nil {
					t.Fatal(err)
				}
				got, err := tptest.ReadTenant(ten, tx)
				switch {
				case c.refused && !errors.Is(err, tenantpath.ErrTenantMismatch):
					t.Fatalf("tenant call after %q: read %q, err %v; want ErrTenantMismatch", c.sql, got, err)
				case !c.refused && (err != nil || got != "10"):
					t.Fatalf("tenant call after %q: read %q, err %v; want tenant 10's rows", c.sql, got, err)
				}
				// Savepoint rollbacks, as ORMs issue them, stay harmless.
				tx2, err := db.BeginTx(ten, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx2.Rollback()
				for _, q := range []string{"SAVEPOINT s", "ROLLBACK TO SAVEPOINT s"} {
					if _, err := tx2.ExecContext(ten, q); err != nil {
						t.Fatal(err)
					}
				}
				tptest.MustRead(t, ten, tx2, "10")
			})
		}
	})
}
