package stdsql_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/examples/orm/internal/ormtest"
	"github.com/tenantpath/tenantpath/examples/orm/stdsql"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestIsolation(t *testing.T) {
	naming := ormtest.Setup(t)
	db, err := stdsql.Open(pgtest.DSN(t), naming)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	notes := stdsql.Notes{DB: db}
	ormtest.CheckIsolation(t, notes)

	// A transaction for one tenant changes only that tenant's rows.
	ctx := context.Background()
	if err := notes.Rename(tenantpath.WithTenant(ctx, "acme"), "!"); err != nil {
		t.Fatal(err)
	}
	for _, id := range ormtest.Tenants {
		titles, err := notes.Titles(tenantpath.WithTenant(ctx, id))
		if err != nil {
			t.Fatal(err)
		}
		for _, title := range titles {
			if renamed := strings.HasSuffix(title, "!"); renamed != (id == "acme") {
				t.Errorf("after acme's transaction, %s has %q", id, title)
			}
		}
	}
}
