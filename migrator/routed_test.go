package migrator_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/migrator"
)

// callerScopes are the scopes a caller's context may carry when it calls
// the migrator; bystander is a tenant that is not the one being worked on.
func callerScopes(bystander string) []struct {
	name  string
	scope func(context.Context) context.Context
} {
	return []struct {
		name  string
		scope func(context.Context) context.Context
	}{
		{"shared", tenantpath.WithShared},
		{"bystander", func(ctx context.Context) context.Context { return tenantpath.WithTenant(ctx, bystander) }},
		{"none", func(ctx context.Context) context.Context { return ctx }},
		{"base", tenantpath.WithBasePath},
	}
}

// routedFS adds to basicFS a shared migration, and tenant migrations of
// every kind that name their tables unqualified: SQL (3), Go (4) and
// non-transactional (5).
func routedFS() fstest.MapFS {
	fsys := basicFS()
	for name, data := range map[string]string{
		"migrations/0002_plans.up.sql":             "CREATE TABLE routed_plans (id int);",
		"tenant_migrations/0003_notes.up.sql":      "CREATE TABLE routed_notes (id int);\nINSERT INTO routed_notes VALUES (1);",
		"tenant_migrations/0003_notes.down.sql":    "DROP TABLE routed_notes;",
		"tenant_migrations/0005_notes_id.up.sql":   "-- tenantpath:no-transaction\nCREATE INDEX CONCURRENTLY routed_notes_id ON routed_notes (id);",
		"tenant_migrations/0005_notes_id.down.sql": "DROP INDEX CONCURRENTLY routed_notes_id;",
	} {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

var routedGo = migrator.WithGoMigration(migrator.TenantSet, migrator.GoMigration{
	Version: 4, Name: "four",
	Up: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO routed_notes VALUES (4)")
		return err
	},
	Down: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM routed_notes WHERE id = 4")
		return err
	},
})

// Hole 1 of issue 9: the migrator on a pool opened through tenantpath,
// called with a context that carries the shared scope, a bystander
// tenant, nothing or the base path, with the pool's connections left on the
// bystander's path. Every statement must land in the schema it means: each
// tenant's tables and version rows in its own schema, the shared ones in
// the shared schema, nothing in the bystander's or in public.
func TestRoutedPoolAnyScope(t *testing.T) {
	modes := []struct {
		name string
		opts []tenantpath.Option
	}{
		{"session", nil},
		{"txpooling", []tenantpath.Option{tenantpath.TransactionPooling()}},
	}
	tptest.ForEachDriver(t, func(t *testing.T, d tptest.Driver) {
		for _, mode := range modes {
			for _, sc := range callerScopes("bystander") {
				t.Run(mode.name+"/"+sc.name, func(t *testing.T) {
					e := newEnv(t)
					opts := append([]tenantpath.Option{tenantpath.WithNaming(e.naming)}, mode.opts...)
					routed := tptest.OpenWrapped(t, d.Connector(t, pgtest.DSN(t), false), opts...)
					checkRoutedRun(t, e, routed, sc.scope(context.Background()))
				})
			}
		}
	})
}

func checkRoutedRun(t *testing.T, e *env, routed *sql.DB, ctx context.Context) {
	plain := e.migrator(basicFS())
	if _, err := plain.MigrateShared(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "bystander"} {
		if err := plain.Create(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	parkOn(t, routed, "bystander", 3)
	m := e.migratorOn(routed, routedFS(), routedGo, migrator.WithDrop(nil))

	if ids, err := m.List(ctx); err != nil || !slices.Equal(ids, []string{"a", "b", "bystander"}) {
		t.Fatalf("List = %v, %v", ids, err)
	}
	if _, err := m.Migrate(ctx, migrator.Except("bystander")); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for _, id := range []string{"a", "b"} {
		e.wantTenantAt(id, []int64{1, 2, 3, 4, 5}, "1,4")
	}
	e.wantTenantAt("bystander", []int64{1, 2}, "")
	if got := e.versions(e.shared()); !equal(got, []int64{1, 2}) {
		t.Fatalf("shared versions %v", got)
	}
	for _, table := range []string{e.shared() + ".routed_plans", "public.routed_notes", "public.routed_plans", e.shared() + ".routed_notes"} {
		want := 0
		if table == e.shared()+".routed_plans" {
			want = 1
		}
		if got := e.count(`SELECT count(*) FROM pg_tables WHERE schemaname || '.' || tablename = $1`, table); got != want {
			t.Fatalf("table %s: %d, want %d", table, got, want)
		}
	}

	st, err := m.Status(ctx)
	if err != nil || len(st) != 3 || !st[0].UpToDate() || !st[1].UpToDate() || !equal(st[2].Pending, []int64{3, 4, 5}) {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if err := m.Create(ctx, "c"); err != nil {
		t.Fatalf("Create: %v", err)
	}
	e.wantTenantAt("c", []int64{1, 2, 3, 4, 5}, "1,4")
	if _, err := m.RollbackTenants(ctx, migrator.Steps(2), migrator.Only("a")); err != nil {
		t.Fatalf("RollbackTenants: %v", err)
	}
	e.wantTenantAt("a", []int64{1, 2, 3}, "1")
	e.wantTenantAt("b", []int64{1, 2, 3, 4, 5}, "1,4")
	if err := m.Rename(ctx, "c", "d"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if err := m.Drop(ctx, "d"); err != nil {
		t.Fatalf("Drop: %v", err)
	}
	if ok, err := m.Exists(ctx, "d"); ok || err != nil {
		t.Fatalf("Exists(d) = %v, %v after the drop", ok, err)
	}
	e.wantTenantAt("bystander", []int64{1, 2}, "")
}

// parkOn leaves n pooled connections of a routed pool on tenant's path.
func parkOn(t *testing.T, db *sql.DB, tenant string, n int) {
	t.Helper()
	db.SetMaxIdleConns(n)
	ctx := tenantpath.WithTenant(context.Background(), tenant)
	var conns []*sql.Conn
	for range n {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var users int
		if err := c.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&users); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// wantTenantAt checks a tenant's version rows and the ids in its
// routed_notes table ("" when the table must not exist).
func (e *env) wantTenantAt(tenant string, versions []int64, notes string) {
	e.t.Helper()
	schema := e.schema(tenant)
	if got := e.versions(schema); !equal(got, versions) {
		e.t.Fatalf("tenant %s: versions %v, want %v", tenant, got, versions)
	}
	table := tenantpath.QuoteIdentifier(schema) + ".routed_notes"
	var exists bool
	if err := e.db.QueryRow("SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		e.t.Fatal(err)
	}
	if exists != (notes != "") {
		e.t.Fatalf("tenant %s: routed_notes exists = %v, want %v", tenant, exists, notes != "")
	}
	if !exists {
		return
	}
	var got string
	if err := e.db.QueryRow(fmt.Sprintf("SELECT string_agg(id::text, ',' ORDER BY id) FROM %s", table)).Scan(&got); err != nil {
		e.t.Fatal(err)
	}
	if got != notes {
		e.t.Fatalf("tenant %s: routed_notes holds %q, want %q", tenant, got, notes)
	}
}
