package migrator_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "github.com/lib/pq"
	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/migrator"
)

func TestCreateFailingHalfwayLeavesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	broken := withFile(basicFS(), "tenant_migrations/0003_broken.up.sql", "ALTER TABLE users ADD COLUMN x int;\nSELECT no_such_function();")
	for _, mode := range []struct {
		name string
		opts []migrator.Option
	}{{"consolidated", nil}, {"per-migration", []migrator.Option{migrator.WithPerMigrationCreate()}}} {
		t.Run(mode.name, func(t *testing.T) {
			m := e.migrator(broken, mode.opts...)
			err := m.Create(ctx, "half")
			if err == nil {
				t.Fatal("Create succeeded")
			}
			if mode.opts != nil {
				var me *migrator.MigrationError
				if !errors.As(err, &me) || me.Version != 3 {
					t.Fatalf("err = %v, want a MigrationError for version 3", err)
				}
			}
			if e.schemaExists(e.schema("half")) {
				t.Fatal("schema left behind")
			}
			if ids, err := m.List(ctx); err != nil || len(ids) != 0 {
				t.Fatalf("registry = %v, %v; want empty", ids, err)
			}
			if ok, err := m.Exists(ctx, "half"); ok || err != nil {
				t.Fatalf("Exists = %v, %v", ok, err)
			}
		})
	}
	t.Run("non-transactional step", func(t *testing.T) {
		// The failing migration runs after the transaction: Create must
		// drop the schema again.
		fsys := withFile(basicFS(), "tenant_migrations/0003_idx.up.sql",
			"-- tenantpath:no-transaction\nCREATE INDEX CONCURRENTLY users_missing ON users (no_such_column);")
		m := e.migrator(fsys)
		if err := m.Create(ctx, "half2"); err == nil {
			t.Fatal("Create succeeded")
		}
		if e.schemaExists(e.schema("half2")) {
			t.Fatal("schema left behind")
		}
		if ids, _ := m.List(ctx); len(ids) != 0 {
			t.Fatalf("registry = %v", ids)
		}
	})
}

func TestCreateNonTransactional(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fsys := withFile(basicFS(), "tenant_migrations/0003_idx.sql",
		"-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY users_email_lower ON users (lower(email));\nCREATE INDEX CONCURRENTLY posts_body ON posts (body);\n-- +goose Down\nDROP INDEX CONCURRENTLY users_email_lower;\nDROP INDEX CONCURRENTLY posts_body;\n")
	m := e.migrator(fsys)
	if err := m.Create(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if got := e.versions(e.schema("1")); !equal(got, []int64{1, 2, 3}) {
		t.Fatalf("versions %v", got)
	}
	if n := e.count("SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname IN ('users_email_lower', 'posts_body')", e.schema("1")); n != 2 {
		t.Fatalf("%d indexes, want 2", n)
	}
	tx, err := e.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := m.CreateTx(ctx, tx, "2"); !errors.Is(err, migrator.ErrNonTransactional) {
		t.Fatalf("CreateTx with a non-transactional migration: %v", err)
	}
	if _, err := m.RollbackTenant(ctx, "1", migrator.Steps(1)); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname IN ('users_email_lower', 'posts_body')", e.schema("1")); n != 0 {
		t.Fatalf("%d indexes after rollback, want 0", n)
	}
}

func TestCreateTx(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	orgs := tenantpath.QuoteIdentifier(e.shared()) + ".organisations"
	for _, commit := range []bool{false, true} {
		tx, err := e.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var before string
		tx.QueryRowContext(ctx, "SELECT current_setting('search_path')").Scan(&before)
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+orgs+" VALUES ('acme', 'Acme')"); err != nil {
			t.Fatal(err)
		}
		if err := m.CreateTx(ctx, tx, "acme"); err != nil {
			t.Fatal(err)
		}
		var after string
		tx.QueryRowContext(ctx, "SELECT current_setting('search_path')").Scan(&after)
		if after != before {
			t.Fatalf("CreateTx left the transaction on search_path %q (was %q)", after, before)
		}
		if commit {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		} else {
			tx.Rollback()
		}
		rows := e.count("SELECT count(*) FROM " + orgs)
		ids, _ := m.List(ctx)
		exists := e.schemaExists(e.schema("acme"))
		if commit && (rows != 1 || !exists || len(ids) != 1) {
			t.Fatalf("after commit: %d org rows, schema %v, registry %v", rows, exists, ids)
		}
		if !commit && (rows != 0 || exists || len(ids) != 0) {
			t.Fatalf("after rollback: %d org rows, schema %v, registry %v", rows, exists, ids)
		}
	}
	if got := e.versions(e.schema("acme")); !equal(got, []int64{1, 2}) {
		t.Fatalf("versions %v", got)
	}
	if err := m.Create(ctx, "acme"); !errors.Is(err, migrator.ErrTenantExists) {
		t.Fatalf("second Create: %v", err)
	}
	if err := m.Create(ctx, "Bad Name"); !errors.Is(err, tenantpath.ErrInvalidTenant) {
		t.Fatalf("invalid tenant: %v", err)
	}
}

// Rename a tenant, then route to it through the tenantpath driver with the
// same naming: the data follows the new id, the old id is unknown.
func TestRenameThenRoute(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if err := m.Create(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	e.exec("INSERT INTO " + tenantpath.QuoteIdentifier(e.schema("old")) + ".users (email) VALUES ('a@example.com')")
	if err := m.Rename(ctx, "old", "new"); err != nil {
		t.Fatal(err)
	}
	if err := m.Rename(ctx, "old", "other"); !errors.Is(err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("renaming a missing tenant: %v", err)
	}
	if err := m.Create(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if err := m.Rename(ctx, "other", "new"); !errors.Is(err, migrator.ErrTenantExists) {
		t.Fatalf("renaming onto an existing tenant: %v", err)
	}
	if ids, _ := m.List(ctx); !slices.Equal(ids, []string{"new", "other"}) {
		t.Fatalf("registry %v", ids)
	}
	if got := e.versions(e.schema("new")); !equal(got, []int64{1, 2}) {
		t.Fatalf("versions of renamed schema %v", got)
	}

	cfg, err := pgx.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	routed, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg), tenantpath.WithNaming(e.naming))
	if err != nil {
		t.Fatal(err)
	}
	defer routed.Close()
	var email string
	if err := routed.QueryRowContext(tenantpath.WithTenant(ctx, "new"), "SELECT email FROM users").Scan(&email); err != nil || email != "a@example.com" {
		t.Fatalf("routed read = %q, %v", email, err)
	}
	if err := routed.QueryRowContext(tenantpath.WithTenant(ctx, "old"), "SELECT email FROM users").Scan(&email); !errors.Is(err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("old id: %v, want ErrUnknownTenant", err)
	}
	// The migrator's own runs also work on a routed pool.
	mr := e.migratorOn(routed, withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;"))
	if _, err := mr.MigrateTenants(ctx); err != nil {
		t.Fatal(err)
	}
	if !e.hasColumn(e.schema("new"), "users", "nickname") || !e.hasColumn(e.schema("other"), "users", "nickname") {
		t.Fatal("nickname missing after migrating through the routed pool")
	}
}

func TestDrop(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if err := m.Create(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := m.Drop(ctx, "gone"); !errors.Is(err, migrator.ErrDropDisabled) || !e.schemaExists(e.schema("gone")) {
		t.Fatalf("Drop without WithDrop: %v", err)
	}
	refuse := errors.New("still has an open invoice")
	var seen []string
	md := e.migrator(basicFS(), migrator.WithDrop(func(ctx context.Context, tx *sql.Tx, tenant string) error {
		seen = append(seen, tenant)
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+tenantpath.QuoteIdentifier(e.schema(tenant))+".users").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return refuse
		}
		return nil
	}))
	e.exec("INSERT INTO " + tenantpath.QuoteIdentifier(e.schema("gone")) + ".users (email) VALUES ('x')")
	if err := md.Drop(ctx, "gone"); !errors.Is(err, refuse) || !e.schemaExists(e.schema("gone")) {
		t.Fatalf("hook refusal: %v", err)
	}
	e.exec("DELETE FROM " + tenantpath.QuoteIdentifier(e.schema("gone")) + ".users")
	if err := md.Drop(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if e.schemaExists(e.schema("gone")) {
		t.Fatal("schema still there")
	}
	if ids, _ := md.List(ctx); len(ids) != 0 {
		t.Fatalf("registry %v", ids)
	}
	if err := md.Drop(ctx, "gone"); !errors.Is(err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("second drop: %v", err)
	}
	if !slices.Equal(seen, []string{"gone", "gone"}) {
		t.Fatalf("hook saw %v", seen)
	}
}

func TestCheckAndTenantSource(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	orgs := tenantpath.QuoteIdentifier(e.shared()) + ".organisations"
	e.exec("INSERT INTO " + orgs + " VALUES ('a', 'A'), ('b', 'B'), ('c', 'C')")
	source := func(ctx context.Context) ([]string, error) {
		rows, err := e.db.QueryContext(ctx, "SELECT id FROM "+orgs)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	ms := e.migrator(basicFS(), migrator.WithTenantSource(source))
	for _, id := range []string{"a", "b", "stray"} {
		if err := ms.Create(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := ms.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Orphans, []string{e.schema("stray")}) || !slices.Equal(rep.Missing, []string{"c"}) || rep.OK() {
		t.Fatalf("check = %+v", rep)
	}
	// MigrateTenants follows the source: c has no schema and is reported.
	res, err := ms.MigrateTenants(ctx, migrator.ContinueOnError())
	var pe *migrator.PartialError
	if !errors.As(err, &pe) || !slices.Equal(pe.FailedTenants(), []string{"c"}) || !errors.Is(pe.Failed[0].Err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("MigrateTenants: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	// Only and Except.
	res, err = ms.MigrateTenants(ctx, migrator.Only("a", "b", "c"), migrator.Except("c"))
	if err != nil || len(res) != 2 {
		t.Fatalf("only/except: %d results, %v", len(res), err)
	}
	// No registry was written in source mode.
	if n := e.count("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'tenantpath_tenants'", e.shared()); n != 1 {
		// the registry table exists from the registry-mode migrator above
		t.Fatalf("registry table count %d", n)
	}
	if n := e.count("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.shared()) + ".tenantpath_tenants"); n != 0 {
		t.Fatalf("source mode wrote %d registry rows", n)
	}
}

func TestChecksumTampering(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if err := m.Create(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	tampered := withFile(basicFS(), "tenant_migrations/0001_users.up.sql", "CREATE TABLE users (id bigserial PRIMARY KEY, email text);\n")
	tampered = withFile(tampered, addColumn, "ALTER TABLE users ADD COLUMN nickname text;")
	mt := e.migrator(tampered)
	_, err := mt.MigrateTenant(ctx, "1")
	var ce *migrator.ChecksumError
	if !errors.As(err, &ce) || ce.Version != 1 || ce.Schema != e.schema("1") || !errors.Is(err, migrator.ErrChecksum) {
		t.Fatalf("err = %v, want a ChecksumError for version 1", err)
	}
	if e.hasColumn(e.schema("1"), "users", "nickname") {
		t.Fatal("a migration ran despite the checksum error")
	}
	st, err := mt.StatusTenant(ctx, "1")
	if err != nil || !st.Changed || st.UpToDate() {
		t.Fatalf("status = %+v, %v; want Changed", st, err)
	}
	st, err = m.StatusTenant(ctx, "1")
	if err != nil || st.Changed || !st.UpToDate() {
		t.Fatalf("untampered status = %+v, %v", st, err)
	}
}

func TestRollback(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fsys := withFile(basicFS(), "tenant_migrations/0003_nick.sql",
		"-- +goose Up\nALTER TABLE users ADD COLUMN nickname text;\n-- +goose Down\nALTER TABLE users DROP COLUMN nickname;\n")
	m := e.migrator(fsys)
	createTenants(t, m, 3)
	res, err := m.RollbackTenants(ctx, migrator.Steps(1))
	if err != nil || len(res) != 3 || res[0].From != 3 || res[0].To != 2 {
		t.Fatalf("rollback 1 step: %+v, %v", res, err)
	}
	if e.hasColumn(e.schema("0"), "users", "nickname") || !equal(e.versions(e.schema("0")), []int64{1, 2}) {
		t.Fatal("step rollback did not undo version 3")
	}
	if _, err := m.RollbackTenant(ctx, "1", migrator.ToVersion(0)); err != nil {
		t.Fatal(err)
	}
	if got := e.versions(e.schema("1")); len(got) != 0 {
		t.Fatalf("tenant 1 at %v after rollback to 0", got)
	}
	if n := e.count("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename IN ('users', 'posts')", e.schema("1")); n != 0 {
		t.Fatalf("%d tables left after rollback to 0", n)
	}
	// A migration without down part blocks the rollback, before anything runs.
	noDown := withFile(fsys, "tenant_migrations/0004_x.up.sql", "ALTER TABLE users ADD COLUMN x int;")
	mn := e.migrator(noDown)
	if _, err := mn.MigrateTenant(ctx, "2"); err != nil {
		t.Fatal(err)
	}
	_, err = mn.RollbackTenant(ctx, "2", migrator.Steps(2))
	var nd *migrator.NoDownError
	if !errors.As(err, &nd) || nd.Version != 4 || !equal(e.versions(e.schema("2")), []int64{1, 2, 3, 4}) {
		t.Fatalf("rollback over a migration without down: %v", err)
	}
	// Shared rollback.
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.RollbackShared(ctx, migrator.Steps(1)); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'organisations'", e.shared()); n != 0 {
		t.Fatal("shared rollback left organisations")
	}
}

func TestSharedFailureTouchesNoTenant(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	createTenants(t, m, 3)
	bad := withFile(withFile(basicFS(), "migrations/0002_bad.sql", "-- +goose Up\nSELECT 1/0;\n"), addColumn, "ALTER TABLE users ADD COLUMN nickname text;")
	rep, err := e.migrator(bad).Migrate(ctx)
	var se *migrator.SharedError
	if !errors.As(err, &se) || len(rep.Tenants) != 0 {
		t.Fatalf("Migrate: %v, %d tenant results", err, len(rep.Tenants))
	}
	for _, id := range []string{"0", "1", "2"} {
		if !equal(e.versions(e.schema(id)), []int64{1, 2}) {
			t.Fatalf("tenant %s touched", id)
		}
	}
	if got := e.versions(e.shared()); !equal(got, []int64{1}) {
		t.Fatalf("shared versions %v", got)
	}
	good := withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;")
	rep, err = e.migrator(good).Migrate(ctx)
	if err != nil || len(rep.Tenants) != 3 || rep.Shared.To != 1 {
		t.Fatalf("Migrate: %+v, %v", rep, err)
	}
}

func TestGoMigrations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	seed := migrator.GoMigration{
		Version: 3, Name: "seed_admin",
		Up: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO users (email) VALUES ($1)", "admin@example.com")
			return err
		},
		Down: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "DELETE FROM users WHERE email = $1", "admin@example.com")
			return err
		},
	}
	fsys := withFile(basicFS(), "tenant_migrations/0004_after.up.sql", "ALTER TABLE users ADD COLUMN after_go int;")
	m := e.migrator(fsys, migrator.WithGoMigration(migrator.TenantSet, seed))
	if err := m.Create(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.schema("1")) + ".users"); n != 1 {
		t.Fatalf("seeded %d users", n)
	}
	if !equal(e.versions(e.schema("1")), []int64{1, 2, 3, 4}) || !e.hasColumn(e.schema("1"), "users", "after_go") {
		t.Fatal("create with a Go migration incomplete")
	}
	_, err := migrator.New(e.db, fsys, e.naming, migrator.WithGoMigration(migrator.TenantSet, migrator.GoMigration{Version: 2, Name: "dup", Up: seed.Up}))
	if !errors.Is(err, migrator.ErrInvalidMigration) {
		t.Fatalf("duplicate Go version: %v", err)
	}
}

// The migrator works on a plain lib/pq pool too.
func TestLibPQ(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fsys := withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;")
	fsys = withFile(fsys, "tenant_migrations/0003_nickname.down.sql", "ALTER TABLE users DROP COLUMN nickname;")
	m := e.migratorOn(openDB(t, "postgres"), fsys)
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	createTenants(t, m, 5)
	if err := m.Rename(ctx, "4", "44"); err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil || len(st) != 5 {
		t.Fatalf("status %v, %v", st, err)
	}
	for _, s := range st {
		if !s.UpToDate() || s.Version != 3 {
			t.Fatalf("status %+v", s)
		}
	}
	if _, err := m.RollbackTenants(ctx, migrator.Steps(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.MigrateTenants(ctx); err != nil {
		t.Fatal(err)
	}
}

// Status costs a fixed number of statements whatever the tenant count, and
// the consolidated Create a fixed number whatever the migration count.
func TestRoundTrips(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	db, counter := newCountingDB(t)
	fsys := basicFS()
	for i := 3; i <= 20; i++ {
		fsys = withFile(fsys, fmt.Sprintf("tenant_migrations/%04d_t%d.up.sql", i, i), fmt.Sprintf("CREATE TABLE t%d (id int);", i))
	}
	m := e.migratorOn(db, fsys)
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	counter.Take()
	if err := m.Create(ctx, "fast"); err != nil {
		t.Fatal(err)
	}
	// The first statement tries to claim a spare tenant (there is none).
	if n := int64(counter.Len()); n != 5 {
		t.Errorf("consolidated Create of 20 migrations: %d statements, want 5 (claim, BEGIN, lock, script, COMMIT)", n)
	}
	mp := e.migratorOn(db, fsys, migrator.WithPerMigrationCreate())
	counter.Take()
	if err := mp.Create(ctx, "plain"); err != nil {
		t.Fatal(err)
	}
	if n := int64(counter.Len()); n < 40 {
		t.Errorf("per-migration Create: %d statements, expected at least 40", n)
	}
	createTenants(t, m, 30)
	counter.Take()
	st, err := m.Status(ctx)
	if err != nil || len(st) != 32 {
		t.Fatalf("status: %d, %v", len(st), err)
	}
	if n := int64(counter.Len()); n != 2 {
		t.Errorf("Status of 32 tenants: %d statements, want 2", n)
	}
	for _, s := range st {
		if !s.UpToDate() || s.Version != 20 {
			t.Fatalf("status %+v", s)
		}
	}
	m21 := e.migratorOn(db, withFile(fsys, "tenant_migrations/0021_x.up.sql", "ALTER TABLE t20 ADD COLUMN x int;"))
	counter.Take()
	if _, err := m21.MigrateTenants(ctx); err != nil {
		t.Fatal(err)
	}
	// Per tenant: lock (releasing the worker's previous lock) and set the
	// path, read the versions, the migration with its version row; per
	// worker (at most 4), one final unlock and reset; one list query.
	if n := int64(counter.Len()); n < 1+32*3+1 || n > 1+32*3+4 {
		t.Errorf("migrating 32 tenants by one migration: %d statements, want %d to %d", n, 1+32*3+1, 1+32*3+4)
	}
}

// CreateTx uses no connection but the caller's: on a pool of one, with the
// registry not created yet, it must not wait for itself.
func TestCreateTxSingleConnectionPool(t *testing.T) {
	e := newEnv(t)
	db := openDB(t, "pgx")
	db.SetMaxOpenConns(1)
	m := e.migratorOn(db, basicFS())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := m.CreateTx(ctx, tx, "solo"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if ids, err := m.List(ctx); err != nil || !slices.Equal(ids, []string{"solo"}) {
		t.Fatalf("List = %v, %v", ids, err)
	}
	if got := e.versions(e.schema("solo")); !equal(got, []int64{1, 2}) {
		t.Fatalf("versions %v", got)
	}
}

// A registered tenant whose schema was removed behind the migrator's back
// is reported by Check and healed by Create.
func TestCreateHealsMissingSchema(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if err := m.Create(ctx, "lost"); err != nil {
		t.Fatal(err)
	}
	e.exec("DROP SCHEMA " + tenantpath.QuoteIdentifier(e.schema("lost")) + " CASCADE")
	rep, err := m.Check(ctx)
	if err != nil || !slices.Equal(rep.Missing, []string{"lost"}) {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
	if err := m.Create(ctx, "lost"); err != nil {
		t.Fatal(err)
	}
	if rep, err := m.Check(ctx); err != nil || !rep.OK() {
		t.Fatalf("Check after re-create = %+v, %v", rep, err)
	}
}

// A Go migration that fails during Create rolls the whole creation back.
func TestCreateGoMigrationFails(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	refuse := errors.New("seed refused")
	m := e.migrator(basicFS(), migrator.WithGoMigration(migrator.TenantSet, migrator.GoMigration{
		Version: 3, Name: "seed",
		Up: func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO users (email) VALUES ('a')"); err != nil {
				return err
			}
			return refuse
		},
	}))
	err := m.Create(ctx, "g")
	var me *migrator.MigrationError
	if !errors.Is(err, refuse) || !errors.As(err, &me) || me.Version != 3 {
		t.Fatalf("err = %v, want the Go migration's error in a MigrationError", err)
	}
	if e.schemaExists(e.schema("g")) {
		t.Fatal("schema left behind")
	}
	if ids, _ := m.List(ctx); len(ids) != 0 {
		t.Fatalf("registry %v", ids)
	}
}

// An id from the tenant source that the naming refuses is a failed result
// of its own; the others run.
func TestInvalidTenantFromSource(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createTenants(t, e.migrator(basicFS()), 2)
	m := e.migrator(basicFS(), migrator.WithTenantSource(func(context.Context) ([]string, error) {
		return []string{"0", "1", "Not Valid"}, nil
	}))
	res, err := m.MigrateTenants(ctx, migrator.ContinueOnError())
	var pe *migrator.PartialError
	if !errors.As(err, &pe) || !slices.Equal(pe.FailedTenants(), []string{"Not Valid"}) ||
		!errors.Is(pe.Failed[0].Err, tenantpath.ErrInvalidTenant) || pe.Succeeded != 2 || len(res) != 3 {
		t.Fatalf("MigrateTenants: %v", err)
	}
	if rep, err := m.Check(ctx); err != nil || !slices.Equal(rep.Invalid, []string{"Not Valid"}) {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
}

// Many goroutines create the same tenant at once: exactly one succeeds,
// every other gets ErrTenantExists, and the tenant is complete.
func TestConcurrentCreateSameTenant(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() { errs <- m.Create(ctx, "same") }()
	}
	ok := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, migrator.ErrTenantExists):
			t.Errorf("err = %v, want ErrTenantExists", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates succeeded, want 1", ok)
	}
	if got := e.versions(e.schema("same")); !equal(got, []int64{1, 2}) {
		t.Fatalf("versions %v", got)
	}
}
