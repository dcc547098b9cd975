package gorm_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/tenantpath/tenantpath"
	notesgorm "github.com/tenantpath/tenantpath/examples/orm/gorm"
	"github.com/tenantpath/tenantpath/examples/orm/internal/ormtest"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestIsolation(t *testing.T) {
	naming := ormtest.Setup(t)
	gdb, err := notesgorm.Open(ormtest.OpenPgx(t, naming))
	if err != nil {
		t.Fatal(err)
	}
	notes := notesgorm.Notes{DB: gdb}
	ormtest.CheckIsolation(t, notes)

	ctx := context.Background()
	acme, err := notes.List(tenantpath.WithTenant(ctx, "acme"))
	if err != nil || len(acme) != 4 {
		t.Fatalf("acme: %+v, %v", acme, err)
	}
	if err := notes.Retitle(tenantpath.WithTenant(ctx, "acme"), acme[0].ID, "renamed"); err != nil {
		t.Fatal(err)
	}
	// The same id in globex's table is another row, untouched.
	globex, _ := notes.List(tenantpath.WithTenant(ctx, "globex"))
	for _, n := range globex {
		if n.Title == "renamed" {
			t.Fatal("acme's transaction changed a globex note")
		}
	}
	// Forgetting WithContext is refused, not run on some schema.
	var n []notesgorm.Note
	if err := gdb.Find(&n).Error; !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Fatalf("GORM call without WithContext: %v, want ErrNoTenant", err)
	}
	// A tenant without a schema is reported as such.
	err = gdb.WithContext(tenantpath.WithTenant(ctx, "umbrella")).Find(&n).Error
	if !errors.Is(err, tenantpath.ErrUnknownTenant) || errors.Is(err, gorm.ErrRecordNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
}
