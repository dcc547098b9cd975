package tenantpath_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// DESIGN 4: the path is applied before BEGIN; inside the transaction another
// tenant is refused, the transaction's own tenant and no-tenant calls run.
func TestTransactionKeepsItsTenant(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		rec := &tptest.Recorder{Connector: bd.Connector(t, dsn(t), false)}
		db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(e.Naming))
		db.SetMaxOpenConns(1)
		ctx := context.Background()
		ten, eleven := tenantpath.WithTenant(ctx, "10"), tenantpath.WithTenant(ctx, "11")

		tx, err := db.BeginTx(ten, nil)
		if err != nil {
			t.Fatal(err)
		}
		sent := rec.Take()
		if len(sent) != 2 || tptest.Count(sent[:1], "set_config") != 1 || sent[1] != "BEGIN" {
			t.Fatalf("BeginTx sent %q; want the switch, then BEGIN", sent)
		}
		tptest.MustRead(t, ten, tx, "10")
		tptest.MustRead(t, tenantpath.WithBasePath(ctx), tx, "10") // the base path: the transaction's
		if _, err := tptest.ReadTenant(ctx, tx); !errors.Is(err, tenantpath.ErrNoTenant) {
			t.Fatalf("no tenant inside tx: %v, want ErrNoTenant", err)
		}
		for _, other := range []context.Context{eleven, tenantpath.WithShared(ctx)} {
			_, err := tptest.ReadTenant(other, tx)
			if !errors.Is(err, tenantpath.ErrTenantMismatch) {
				t.Fatalf("other scope inside tx: %v, want ErrTenantMismatch", err)
			}
		}
		if _, err := tx.PrepareContext(eleven, "SELECT 1"); !errors.Is(err, tenantpath.ErrTenantMismatch) {
			t.Fatalf("Prepare for another tenant inside tx: %v", err)
		}
		if tptest.Count(rec.Take(), "set_config") != 0 {
			t.Fatal("a switch was sent inside a transaction")
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, eleven, db, "11")
	})
}

// DESIGN 4: no rollback, savepoint rollback or commit can leave the
// remembered path stale, whether the transaction was begun through the
// driver or by hand with plain SQL.
func TestRollbacksNeverLeaveAStalePath(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		db.SetMaxOpenConns(1)
		ctx := context.Background()
		ten, eleven := tenantpath.WithTenant(ctx, "10"), tenantpath.WithTenant(ctx, "11")

		t.Run("driver transaction with savepoints", func(t *testing.T) {
			tptest.MustRead(t, eleven, db, "11")
			tx, err := db.BeginTx(ten, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"SAVEPOINT a", "SELECT 1", "ROLLBACK TO SAVEPOINT a", "SAVEPOINT b", "RELEASE SAVEPOINT b"} {
				if _, err := tx.ExecContext(ten, q); err != nil {
					t.Fatal(q, err)
				}
			}
			tptest.MustRead(t, ten, tx, "10")
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			tptest.MustRead(t, ten, db, "10")
			tptest.MustRead(t, eleven, db, "11")
		})

		for _, undo := range []string{"ROLLBACK", "ROLLBACK TO SAVEPOINT s", "ABORT"} {
			t.Run("hand-written "+undo, func(t *testing.T) {
				conn, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				tptest.MustRead(t, ten, conn, "10")
				if _, err := conn.ExecContext(ten, "BEGIN"); err != nil {
					t.Fatal(err)
				}
				if _, err := conn.ExecContext(ten, "SAVEPOINT s"); err != nil {
					t.Fatal(err)
				}
				tptest.MustRead(t, eleven, conn, "11") // switched inside the hand-made transaction
				if _, err := conn.ExecContext(eleven, undo); err != nil {
					t.Fatal(err)
				}
				// The server is back on tenant 10's path; the driver must
				// not believe it is still on 11.
				tptest.MustRead(t, eleven, conn, "11")
				if _, err := conn.ExecContext(eleven, "ROLLBACK"); err != nil {
					t.Fatal(err)
				}
				tptest.MustRead(t, eleven, conn, "11")
			})
		}
	})
}

// DESIGN 4: a transaction begun for the base path refuses tenant calls.
func TestTransactionWithoutTenantRefusesTenantCalls(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10")
		db := e.Open(bd)
		ctx := tenantpath.WithBasePath(context.Background())
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tptest.ReadTenant(tenantpath.WithTenant(ctx, "10"), tx); !errors.Is(err, tenantpath.ErrTenantMismatch) {
			t.Fatalf("tenant call in a no-tenant tx: %v, want ErrTenantMismatch", err)
		}
	})
}
