package tenantpath_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// DESIGN 4: a statement prepared under one tenant and executed with another
// tenant's context reads the other tenant's table (outside transactions);
// inside a transaction it is refused.
func TestPreparedStatementFollowsEachExecution(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11", "12")
		db := e.Open(bd)
		db.SetMaxOpenConns(2)
		ctx := context.Background()
		ten, eleven := tenantpath.WithTenant(ctx, "10"), tenantpath.WithTenant(ctx, "11")

		st, err := db.PrepareContext(ten, "SELECT tenant FROM notes WHERE tenant <> $1")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for _, id := range []string{"11", "10", "12", "12", "11"} {
			var got string
			if err := st.QueryRowContext(tenantpath.WithTenant(ctx, id), "nobody").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != id {
				t.Fatalf("prepared statement executed for %q read %q", id, got)
			}
		}

		tx, err := db.BeginTx(ten, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		txst := tx.StmtContext(ten, st)
		var got string
		if err := txst.QueryRowContext(ten, "nobody").Scan(&got); err != nil || got != "10" {
			t.Fatalf("tx statement for its own tenant: %q, %v", got, err)
		}
		if err := txst.QueryRowContext(eleven, "nobody").Scan(&got); !errors.Is(err, tenantpath.ErrTenantMismatch) {
			t.Fatalf("tx statement for another tenant: %v, want ErrTenantMismatch", err)
		}
	})
}
