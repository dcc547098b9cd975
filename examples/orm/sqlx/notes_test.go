package sqlx_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/examples/orm/internal/ormtest"
	notesx "github.com/tenantpath/tenantpath/examples/orm/sqlx"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestIsolation(t *testing.T) {
	naming := ormtest.Setup(t)
	notes := notesx.New(ormtest.OpenPgx(t, naming))
	ormtest.CheckIsolation(t, notes)

	ctx := context.Background()
	if err := notes.Move(tenantpath.WithTenant(ctx, "globex"), "globex #1", "globex moved"); err != nil {
		t.Fatal(err)
	}
	// acme has no note titled "globex #1": its transaction finds nothing.
	if err := notes.Move(tenantpath.WithTenant(ctx, "acme"), "globex #2", "stolen"); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("acme moving globex's note: %v, want sql.ErrNoRows", err)
	}
	got, err := notes.Titles(tenantpath.WithTenant(ctx, "globex"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "globex moved") || slices.Contains(got, "globex #1") || !slices.Contains(got, "globex #2") {
		t.Fatalf("globex after the moves: %q", got)
	}
}
