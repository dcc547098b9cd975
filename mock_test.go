package tenantpath_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/tenantpath/tenantpath"
)

// These tests pin the exact statements the driver sends, with go-sqlmock in
// place of the server.

var mockSeq atomic.Int64

// openMock returns a one-connection tenantpath DB over a fresh sqlmock.
func openMock(t *testing.T, opts ...tenantpath.Option) (*sql.DB, sqlmock.Sqlmock) {
	t.Helper()
	name := fmt.Sprintf("tenantpath-mock-%d", mockSeq.Add(1))
	mockDB, mock, err := sqlmock.NewWithDSN(name, sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mockDB.Close() })
	d, err := tenantpath.Wrap(mockDB.Driver(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.OpenConnector(name)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db, mock
}

const (
	switchTo10 = `SELECT pg_catalog.set_config('search_path', '"org_10", "public", "pg_temp"', false) WHERE pg_catalog.to_regnamespace('"org_10"') IS NOT NULL`
	switchTo11 = `SELECT pg_catalog.set_config('search_path', '"org_11", "public", "pg_temp"', false) WHERE pg_catalog.to_regnamespace('"org_11"') IS NOT NULL`
)

var orgNaming = tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"})

func TestMockSwitchOnceThenNotAgain(t *testing.T) {
	db, mock := openMock(t, orgNaming)
	ctx := context.Background()
	ten, eleven := tenantpath.WithTenant(ctx, "10"), tenantpath.WithTenant(ctx, "11")

	mock.ExpectExec(switchTo10).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("UPDATE notes SET seen = true").WillReturnResult(sqlmock.NewResult(0, 3))
	mock.ExpectExec("UPDATE notes SET seen = true").WillReturnResult(sqlmock.NewResult(0, 3))
	mock.ExpectExec(switchTo11).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("UPDATE notes SET seen = true").WillReturnResult(sqlmock.NewResult(0, 3))
	mock.ExpectExec("RESET search_path").WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec("UPDATE notes SET seen = true").WillReturnResult(sqlmock.NewResult(0, 3))

	for _, c := range []context.Context{ten, ten, eleven, tenantpath.WithBasePath(ctx)} {
		if _, err := db.ExecContext(c, "UPDATE notes SET seen = true"); err != nil {
			t.Fatal(err)
		}
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

func TestMockUnknownTenantKeepsPath(t *testing.T) {
	db, mock := openMock(t, orgNaming)
	ten, eleven := tenantpath.WithTenant(context.Background(), "10"), tenantpath.WithTenant(context.Background(), "11")

	mock.ExpectExec(switchTo10).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec(switchTo11).WillReturnResult(sqlmock.NewResult(0, 0)) // no such schema
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1)) // still on 10: no switch

	if _, err := db.ExecContext(ten, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(eleven, "SELECT 1"); !errors.Is(err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("got %v, want ErrUnknownTenant", err)
	}
	if _, err := db.ExecContext(ten, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

func TestMockInvalidTenantSendsNothing(t *testing.T) {
	db, mock := openMock(t, orgNaming)
	for _, id := range []string{"", "X", "1'; DROP SCHEMA org_1; --", "a\x00"} {
		if _, err := db.ExecContext(tenantpath.WithTenant(context.Background(), id), "SELECT 1"); !errors.Is(err, tenantpath.ErrInvalidTenant) {
			t.Fatalf("%q: %v", id, err)
		}
	}
	// Any statement would have failed against the empty expectation list.
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

func TestMockPathBeforeBegin(t *testing.T) {
	db, mock := openMock(t, orgNaming)
	ten := tenantpath.WithTenant(context.Background(), "10")
	mock.ExpectExec(switchTo10).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectBegin()
	mock.ExpectExec("INSERT INTO notes DEFAULT VALUES").WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectRollback()
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1)) // still tenant 10: nothing re-sent

	tx, err := db.BeginTx(ten, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ten, "INSERT INTO notes DEFAULT VALUES"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ten, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

func TestMockSharedScope(t *testing.T) {
	db, mock := openMock(t, tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_", Shared: []string{"public", "extensions"}}))
	mock.ExpectExec(`SELECT pg_catalog.set_config('search_path', '"public", "extensions", "pg_temp"', false)`).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1))
	shared := tenantpath.WithShared(context.Background())
	for i := 0; i < 2; i++ {
		if _, err := db.ExecContext(shared, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

// DESIGN 5: a switch that fails discards the connection: database/sql
// closes it and the next call opens a new one.
func TestMockFailedSwitchDiscardsConnection(t *testing.T) {
	db, mock := openMock(t, orgNaming)
	ten := tenantpath.WithTenant(context.Background(), "10")
	boom := errors.New("server says no")
	mock.ExpectExec(switchTo10).WillReturnError(boom)
	mock.ExpectClose()

	_, err := db.ExecContext(ten, "SELECT 1")
	var se *tenantpath.SwitchError
	if !errors.As(err, &se) || !errors.Is(err, boom) {
		t.Fatalf("got %v, want a SwitchError wrapping the driver's error", err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatalf("connection was not closed: %v", err)
	}
	if s := db.Stats(); s.OpenConnections != 0 {
		t.Fatalf("bad connection still open: %+v", s)
	}
}

// DESIGN 5: a switch interrupted by its context's deadline discards the
// connection too: nobody knows whether the server applied it.
func TestMockCancelledSwitchDiscardsConnection(t *testing.T) {
	db, mock := openMock(t, orgNaming)
	mock.ExpectExec(switchTo10).WillDelayFor(time.Second).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectClose()
	ctx, cancel := context.WithTimeout(tenantpath.WithTenant(context.Background(), "10"), 20*time.Millisecond)
	defer cancel()
	_, err := db.ExecContext(ctx, "SELECT 1")
	if err == nil {
		t.Fatal("interrupted switch reported success")
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatalf("connection was not closed: %v", err)
	}
}

func TestMockUserSetMakesPathUnknown(t *testing.T) {
	db, mock := openMock(t, orgNaming)
	ten := tenantpath.WithTenant(context.Background(), "10")
	mock.ExpectExec(switchTo10).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("SET search_path TO org_11").WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(switchTo10).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("SELECT 1").WillReturnResult(sqlmock.NewResult(0, 1))
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"SET search_path TO org_11", "SELECT 1"} {
		if _, err := conn.ExecContext(ten, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}
