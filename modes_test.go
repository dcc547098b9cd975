package tenantpath_test

import (
	"context"
	"errors"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

func TestMockTenantRolesSwitchInOneStatement(t *testing.T) {
	db, mock := openMock(t, orgNaming, tenantpath.WithTenantRoles(func(schema string) string { return schema + "_rw" }))
	ctx := context.Background()
	mock.ExpectExec(`SELECT pg_catalog.set_config('role', 'org_10_rw', false), pg_catalog.set_config('search_path', '"org_10", "public", "pg_temp"', false)` +
		` WHERE pg_catalog.to_regnamespace('"org_10"') IS NOT NULL AND pg_catalog.to_regrole('"org_10_rw"') IS NOT NULL`).
		WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec(`SELECT pg_catalog.set_config('role', 'none', false), pg_catalog.set_config('search_path', '"public", "pg_temp"', false)`).
		WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("RESET role; RESET search_path").WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1))
	for _, c := range []context.Context{tenantpath.WithTenant(ctx, "10"), tenantpath.WithShared(ctx), tenantpath.WithBasePath(ctx)} {
		if _, err := db.ExecContext(c, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

const localSwitchTo10 = `SELECT pg_catalog.set_config('search_path', '"org_10", "public", "pg_temp"', true) WHERE pg_catalog.to_regnamespace('"org_10"') IS NOT NULL`

// In transaction-pooling mode nothing is left on the session: every tenant
// call, even for the same tenant again, sets its path inside a transaction.
func TestMockTransactionPoolingScopesPathToTransactions(t *testing.T) {
	db, mock := openMock(t, orgNaming, tenantpath.TransactionPooling())
	ten := tenantpath.WithTenant(context.Background(), "10")
	for i := 0; i < 2; i++ {
		mock.ExpectBegin()
		mock.ExpectExec(localSwitchTo10).WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectExec("UPDATE notes SET seen = true").WillReturnResult(sqlmock.NewResult(0, 2))
		mock.ExpectCommit()
	}
	mock.ExpectBegin()
	mock.ExpectExec(localSwitchTo10).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectQuery(tptest.TenantsSeen).WillReturnRows(sqlmock.NewRows([]string{"tenant"}).AddRow("10"))
	mock.ExpectCommit()
	mock.ExpectBegin()
	mock.ExpectExec(localSwitchTo10).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("INSERT INTO notes DEFAULT VALUES").WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectCommit()
	mock.ExpectBegin()
	mock.ExpectExec(`SELECT pg_catalog.set_config('search_path', '"org_11", "public", "pg_temp"', true) WHERE pg_catalog.to_regnamespace('"org_11"') IS NOT NULL`).
		WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectRollback()
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1)) // no tenant: not wrapped

	for i := 0; i < 2; i++ {
		if _, err := db.ExecContext(ten, "UPDATE notes SET seen = true"); err != nil {
			t.Fatal(err)
		}
	}
	tptest.MustRead(t, ten, db, "10")
	tx, err := db.BeginTx(ten, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ten, "INSERT INTO notes DEFAULT VALUES"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(tenantpath.WithTenant(context.Background(), "11"), "SELECT 1"); !errors.Is(err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("unknown tenant in pooling mode: %v", err)
	}
	if _, err := db.ExecContext(tenantpath.WithBasePath(context.Background()), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

// MaxTenantsPerConn closes a connection once it has served n tenants.
func TestMaxTenantsPerConnRetiresConnection(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		ids := []string{"1", "2", "3", "4", "5"}
		e := tptest.NewEnv(t, ids...)
		db := e.Open(bd, tenantpath.MaxTenantsPerConn(2))
		db.SetMaxOpenConns(1)
		pids := map[int]bool{}
		var pid int
		for _, id := range append(ids, "5", "5") {
			var got string
			err := db.QueryRowContext(tenantpath.WithTenant(context.Background(), id),
				"SELECT pg_backend_pid(), tenant FROM notes").Scan(&pid, &got)
			if err != nil || got != id {
				t.Fatalf("tenant %s: read %q, %v", id, got, err)
			}
			pids[pid] = true
		}
		// Tenants 1-2, 3-4 and 5 (three times) on three connections.
		if len(pids) != 3 {
			t.Fatalf("served 5 tenants on %d connections (%v), want 3", len(pids), pids)
		}

	})
}
