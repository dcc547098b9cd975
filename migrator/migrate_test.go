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
