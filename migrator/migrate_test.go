package migrator_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
)

func TestCreateAndMigrateBothFormats(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatalf("MigrateShared: %v", err)
	}
	if got := e.versions(e.shared()); !equal(got, []int64{1}) {
		t.Fatalf("shared versions = %v, want [1]", got)
	}
	if err := m.Create(ctx, "10"); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if got := e.versions(e.schema("10")); !equal(got, []int64{1, 2}) {
		t.Fatalf("tenant versions = %v, want [1 2]", got)
	}
	if !e.hasColumn(e.schema("10"), "posts", "body") {
		t.Fatal("posts.body missing after create")
	}
	ids, err := m.List(ctx)
	if err != nil || len(ids) != 1 || ids[0] != "10" {
		t.Fatalf("List = %v, %v; want [10]", ids, err)
	}

	// A new goose-style tenant migration (mixed formats in one folder).
	fs2 := withFile(basicFS(), "tenant_migrations/0003_avatar.sql", `-- +goose Up
ALTER TABLE users ADD COLUMN avatar text;
-- +goose Down
ALTER TABLE users DROP COLUMN avatar;
`)
	m2 := e.migrator(fs2)
	res, err := m2.MigrateTenants(ctx)
	if err != nil {
		t.Fatalf("MigrateTenants: %v", err)
	}
	if len(res) != 1 || res[0].From != 2 || res[0].To != 3 || len(res[0].Applied) != 1 {
		t.Fatalf("result = %+v", res)
	}
	if !e.hasColumn(e.schema("10"), "users", "avatar") {
		t.Fatal("users.avatar missing")
	}
	// Idempotent: a second run applies nothing.
	res, err = m2.MigrateTenants(ctx)
	if err != nil || len(res[0].Applied) != 0 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	st, err := m2.Status(ctx)
	if err != nil || len(st) != 1 || !st[0].UpToDate() || st[0].Version != 3 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if _, err := e.migrator(basicFS()).MigrateTenant(ctx, "10"); !errors.Is(err, migrator.ErrHistory) {
		t.Fatalf("older migrator on newer schema: err = %v, want ErrHistory", err)
	}
}

// A migration whose second statement fails leaves no trace of its first,
// and no version row, with either driver: the migration and its version row
// are one transaction.
func TestMigrationIsAtomic(t *testing.T) {
	ctx := context.Background()
	for _, drv := range []string{"pgx", "postgres"} {
		t.Run(drv, func(t *testing.T) {
			e := newEnv(t)
			db := openDB(t, drv)
			if err := e.migratorOn(db, basicFS()).Create(ctx, "1"); err != nil {
				t.Fatal(err)
			}
			bad := withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN half int;\nINSERT INTO users (email) VALUES ('x');\nSELECT 1/0;\n-- trailing comment, no newline")
			_, err := e.migratorOn(db, bad).MigrateTenant(ctx, "1")
			var me *migrator.MigrationError
			if !errors.As(err, &me) || me.Version != 3 || me.Schema != e.schema("1") {
				t.Fatalf("err = %v, want a MigrationError for version 3", err)
			}
			if e.hasColumn(e.schema("1"), "users", "half") {
				t.Fatal("the failed migration's first statement was kept")
			}
			if n := e.count("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.schema("1")) + ".users"); n != 0 {
				t.Fatal("the failed migration's insert was kept")
			}
			if got := e.versions(e.schema("1")); !equal(got, []int64{1, 2}) {
				t.Fatalf("versions %v, want [1 2]", got)
			}
			good := withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN half int -- no semicolon, trailing comment")
			if _, err := e.migratorOn(db, good).MigrateTenant(ctx, "1"); err != nil {
				t.Fatal(err)
			}
			if got := e.versions(e.schema("1")); !equal(got, []int64{1, 2, 3}) || !e.hasColumn(e.schema("1"), "users", "half") {
				t.Fatalf("versions %v after the fixed migration", got)
			}
			assertPoolClean(t, &env{t: t, db: db})
		})
	}
}

// A non-transactional migration whose function body is dollar-quoted with
// a tag holding bytes >= 0x80 ($é$, which PostgreSQL accepts) travels as one
// statement, body and all, with either driver: the old splitter cut it at
// the semicolon inside the body.
func TestNonTransactionalDollarTag(t *testing.T) {
	ctx := context.Background()
	for _, drv := range []string{"pgx", "postgres"} {
		t.Run(drv, func(t *testing.T) {
			e := newEnv(t)
			db := openDB(t, drv)
			if err := e.migratorOn(db, basicFS()).Create(ctx, "1"); err != nil {
				t.Fatal(err)
			}
			fsys := withFile(basicFS(), addColumn, `-- tenantpath:no-transaction
CREATE FUNCTION two() RETURNS int LANGUAGE sql IMMUTABLE AS $é$ SELECT 1; SELECT 2 $é$;
CREATE INDEX CONCURRENTLY users_two ON users ((two()));
`)
			if _, err := e.migratorOn(db, fsys).MigrateTenant(ctx, "1"); err != nil {
				t.Fatal(err)
			}
			var got int
			if err := e.db.QueryRow("SELECT " + tenantpath.QuoteIdentifier(e.schema("1")) + ".two()").Scan(&got); err != nil || got != 2 {
				t.Fatalf("two() = %d, %v", got, err)
			}
			if n := e.count("SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'users_two'", e.schema("1")); n != 1 {
				t.Fatal("the index after the function was not built")
			}
			if got := e.versions(e.schema("1")); !equal(got, []int64{1, 2, 3}) {
				t.Fatalf("versions %v", got)
			}
		})
	}
}

// Status lists, per schema, the migrations a run would apply there.
func TestStatusPendingMigrations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createTenants(t, e.migrator(basicFS()), 2)
	fsys := withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;")
	fsys = withFile(fsys, "tenant_migrations/0004_nick_idx.up.sql", "-- tenantpath:no-transaction\nCREATE INDEX CONCURRENTLY users_nick ON users (nickname);")
	m := e.migrator(fsys)
	if _, err := m.MigrateTenants(ctx, migrator.Only("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.RollbackTenants(ctx, migrator.Steps(1), migrator.Only("1")); err == nil {
		t.Fatal("rolled back a migration without a down part")
	}
	st, err := m.Status(ctx)
	if err != nil || len(st) != 2 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	want := []migrator.Migration{
		{Version: 3, Name: "nickname", Source: addColumn},
		{Version: 4, Name: "nick_idx", Source: "tenant_migrations/0004_nick_idx.up.sql", NoTx: true},
	}
	pending := st[0].PendingMigrations
	if len(pending) != 2 || !equal(st[0].Pending, []int64{3, 4}) {
		t.Fatalf("tenant 0 pending %+v", pending)
	}
	for i, p := range pending {
		if p.Version != want[i].Version || p.Name != want[i].Name || p.Source != want[i].Source || p.NoTx != want[i].NoTx || p.Checksum == "" {
			t.Fatalf("pending[%d] = %+v, want %+v", i, p, want[i])
		}
	}
	if len(st[1].PendingMigrations) != 0 || !st[1].UpToDate() {
		t.Fatalf("tenant 1: %+v", st[1])
	}
}

// A run in which tenants fail for different reasons reports them all
// through errors.Is and errors.As on its PartialError.
func TestPartialErrorSeesEveryFailure(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	createTenants(t, m, 3)
	// Tenant 0: its version 1 row no longer matches the file.
	e.exec("UPDATE " + tenantpath.QuoteIdentifier(e.schema("0")) + ".tenantpath_migrations SET checksum = 'x' WHERE version = 1")
	// Tenant 1: the new migration fails there.
	e.exec("ALTER TABLE " + tenantpath.QuoteIdentifier(e.schema("1")) + ".users ADD COLUMN nickname text")
	mt := e.migrator(withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;"))
	_, err := mt.MigrateTenants(ctx, migrator.ContinueOnError())
	var pe *migrator.PartialError
	var me *migrator.MigrationError
	if !errors.As(err, &pe) || !errors.Is(err, migrator.ErrChecksum) || !errors.As(err, &me) || me.Schema != e.schema("1") {
		t.Fatalf("err = %v", err)
	}
	if pe.Succeeded != 1 || len(pe.Failed) != 2 || errors.Is(err, migrator.ErrHistory) {
		t.Fatalf("partial error %+v", pe)
	}
}
