package libpq_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lib/pq"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/examples/orm/internal/ormtest"
	"github.com/tenantpath/tenantpath/examples/orm/libpq"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestIsolation(t *testing.T) {
	naming := ormtest.Setup(t)
	db, err := libpq.Open(pgtest.DSN(t), naming)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ormtest.CheckIsolation(t, libpq.Notes{DB: db})

	// lib/pq's own errors pass through the driver unchanged.
	_, err = db.ExecContext(tenantpath.WithTenant(context.Background(), "acme"), "INSERT INTO no_such_table VALUES (1)")
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "42P01" {
		t.Fatalf("error %v (%T), want a *pq.Error with code 42P01", err, err)
	}
}
