package sqlc_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/examples/orm/internal/ormtest"
	"github.com/tenantpath/tenantpath/examples/orm/sqlc"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestIsolation(t *testing.T) {
	naming := ormtest.Setup(t)
	// lib/pq underneath this time: the generated code does not care.
	db := ormtest.OpenPQ(t, naming)
	store := sqlc.Store{DB: db}
	ormtest.CheckIsolation(t, store)

	ctx := context.Background()
	globex := tenantpath.WithTenant(ctx, "globex")
	notes, err := sqlc.New(db).ListNotes(globex)
	if err != nil || len(notes) != 4 {
		t.Fatalf("globex: %v, %v", notes, err)
	}
	replaced, err := store.Replace(globex, notes[0].ID, "replaced")
	if err != nil {
		t.Fatal(err)
	}
	// Each tenant's table has its own ids: the new note's id (5) exists
	// only in globex's table, so acme's transaction finds no such note.
	acme := tenantpath.WithTenant(ctx, "acme")
	if _, err := store.Replace(acme, replaced.ID, "stolen"); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("acme replacing a note id it lacks: %v, want sql.ErrNoRows", err)
	}
	// The queries take a *sql.Conn too; the conn's calls follow their ctx.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	a, err := sqlc.New(conn).ListNotes(acme)
	if err != nil {
		t.Fatal(err)
	}
	g, err := sqlc.New(conn).ListNotes(globex)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 4 || len(g) != 4 || g[len(g)-1].Title != "replaced" || a[0].Title[:5] != "acme " {
		t.Fatalf("on one conn: acme %v, globex %v", a, g)
	}
}
