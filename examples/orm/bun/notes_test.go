package bun_test

import (
	"context"
	"testing"

	"github.com/tenantpath/tenantpath"
	notesbun "github.com/tenantpath/tenantpath/examples/orm/bun"
	"github.com/tenantpath/tenantpath/examples/orm/internal/ormtest"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestIsolation(t *testing.T) {
	naming := ormtest.Setup(t)
	notes := notesbun.Notes{DB: notesbun.Open(ormtest.OpenPgx(t, naming))}
	ormtest.CheckIsolation(t, notes)

	ctx := context.Background()
	n, err := notes.DeleteAll(tenantpath.WithTenant(ctx, "initech"))
	if err != nil || n != 4 {
		t.Fatalf("DeleteAll for initech: %d, %v", n, err)
	}
	for _, id := range ormtest.Tenants {
		got, err := notes.List(tenantpath.WithTenant(ctx, id))
		want := 4
		if id == "initech" {
			want = 0
		}
		if err != nil || len(got) != want {
			t.Errorf("%s after initech's delete: %d notes (%v), want %d", id, len(got), err, want)
		}
	}
}
