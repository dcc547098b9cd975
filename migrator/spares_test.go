package migrator_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/migrator"
)

// spareEnv is a test world whose spares are dropped when the test ends
// (their names start with tenantpath_, not with the test's prefix).
func spareEnv(t *testing.T, fsys fstest.MapFS) (*env, *migrator.Migrator) {
	t.Helper()
	e := newEnv(t)
	m := e.migrator(fsys)
	if _, err := m.MigrateShared(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := m.EnsureSpares(context.Background(), 0); err != nil {
			t.Errorf("dropping the spares: %v", err)
		}
	})
	return e, m
}

// spares lists this test's spare schemas (those of the fleet whose first
// shared schema is the test's), with their comments.
func (e *env) spares() []string {
	e.t.Helper()
	return e.strings(`SELECT n.nspname FROM pg_namespace n
		WHERE n.nspname LIKE 'tenantpath\_spare\_%'
		  AND EXISTS (SELECT FROM pg_tables t WHERE t.schemaname = n.nspname)
		  AND obj_description(n.oid, 'pg_namespace') = $1 ORDER BY 1`, e.prefix)
}

// markSpares comments every spare of the fleet of m with the test's
// prefix, so that e.spares finds them (and only them), and returns them.
func (e *env) markSpares(m *migrator.Migrator) []string {
	e.t.Helper()
	var names []string
	rows, err := e.db.Query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenantpath\_spare\_%' AND obj_description(oid, 'pg_namespace') IS NULL`)
	if err != nil {
		e.t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		names = append(names, s)
	}
	rows.Close()
	for _, s := range names {
		e.exec(fmt.Sprintf("COMMENT ON SCHEMA %s IS '%s'", tenantpath.QuoteIdentifier(s), e.prefix))
	}
	return e.spares()
}

func TestSpares(t *testing.T) {
	ctx := context.Background()
	e, m := spareEnv(t, basicFS())
	rep, err := m.EnsureSpares(ctx, 3)
	if err != nil || rep.Created != 3 || rep.Ready != 3 {
		t.Fatalf("EnsureSpares(3) = %+v, %v", rep, err)
	}
	spares := e.markSpares(m)
	if len(spares) != 3 {
		t.Fatalf("spares %v", spares)
	}
	for _, s := range spares {
		if !strings.HasPrefix(s, tenantpath.ReservedPrefix) || !equal(e.versions(s), []int64{1, 2}) {
			t.Fatalf("spare %s at %v", s, e.versions(s))
		}
	}
	if rep, err := m.EnsureSpares(ctx, 3); err != nil || rep.Created != 0 || rep.Ready != 3 {
		t.Fatalf("EnsureSpares(3) again = %+v, %v", rep, err)
	}
	if ids, err := m.List(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("List = %v, %v: spares are not tenants", ids, err)
	}
	if rep, err := m.Check(ctx); err != nil || !rep.OK() {
		t.Fatalf("Check = %+v, %v", rep, err)
	}

	// Create claims one in one statement.
	db, counter := newCountingDB(t)
	mc := e.migratorOn(db, basicFS())
	if err := mc.Create(ctx, "x"); err != nil { // the first also makes sure the registry exists
		t.Fatal(err)
	}
	counter.Take()
	if err := mc.Create(ctx, "y"); err != nil || int64(counter.Len()) != 1 {
		t.Fatalf("second Create from a spare: %v, %d statements, want 1", err, int64(counter.Len()))
	}
	left := e.spares()
	if len(left) != 1 || !slices.Contains(spares, left[0]) {
		t.Fatalf("spares left %v of %v", left, spares)
	}
	for _, id := range []string{"x", "y"} {
		if !equal(e.versions(e.schema(id)), []int64{1, 2}) || !e.hasColumn(e.schema(id), "posts", "body") {
			t.Fatalf("tenant %s from a spare: versions %v", id, e.versions(e.schema(id)))
		}
	}
	if ids, _ := m.List(ctx); !slices.Equal(ids, []string{"x", "y"}) {
		t.Fatalf("List = %v", ids)
	}
	if err := m.Create(ctx, "x"); !errors.Is(err, migrator.ErrTenantExists) {
		t.Fatalf("Create of an existing tenant with a spare free: %v", err)
	}
	if got := e.spares(); len(got) != 1 {
		t.Fatalf("a refused Create took a spare: %v", got)
	}
	st, err := m.Status(ctx)
	if err != nil || len(st) != 2 || !st[0].UpToDate() || !st[1].UpToDate() {
		t.Fatalf("Status = %+v, %v", st, err)
	}

	// The last one goes, then Create builds the tenant itself.
	for _, id := range []string{"z", "w"} {
		if err := m.Create(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.spares(); len(got) != 0 || !equal(e.versions(e.schema("w")), []int64{1, 2}) {
		t.Fatalf("spares %v, w at %v", got, e.versions(e.schema("w")))
	}
}

// No id routes to a spare: the driver's naming refuses the reserved prefix
// whatever maps an id to it.
func TestSparesNeverRoutable(t *testing.T) {
	ctx := context.Background()
	e, m := spareEnv(t, basicFS())
	if _, err := m.EnsureSpares(ctx, 1); err != nil {
		t.Fatal(err)
	}
	spare := e.markSpares(m)[0]
	namings := map[string]tenantpath.Naming{
		"no prefix":      {Shared: e.naming.Shared},
		"format":         {Shared: e.naming.Shared, Format: func(string) string { return spare }},
		"any characters": {Shared: e.naming.Shared, Validate: func(string) error { return nil }},
	}
	for name, naming := range namings {
		t.Run(name, func(t *testing.T) {
			tptest.ForEachDriver(t, func(t *testing.T, d tptest.Driver) {
				db := tptest.OpenWrapped(t, d.Connector(t, pgtest.DSN(t), false), tenantpath.WithNaming(naming))
				var n int
				err := db.QueryRowContext(tenantpath.WithTenant(ctx, spare), "SELECT count(*) FROM users").Scan(&n)
				if !errors.Is(err, tenantpath.ErrInvalidTenant) {
					t.Fatalf("routing to spare %s: %v (read %d rows)", spare, err, n)
				}
			})
		})
	}
}

// Two creates never claim the same spare: many creates at once over fewer
// spares each get a spare of their own or a tenant built from scratch.
func TestConcurrentClaims(t *testing.T) {
	ctx := context.Background()
	e, m := spareEnv(t, basicFS())
	if _, err := m.EnsureSpares(ctx, 6); err != nil {
		t.Fatal(err)
	}
	spares := e.markSpares(m)
	const creates = 12
	var wg sync.WaitGroup
	errs := make(chan error, creates)
	for i := range creates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx := i%3 == 0 // some through CreateTx
			id := fmt.Sprint("t", i)
			if !tx {
				errs <- m.Create(ctx, id)
				return
			}
			errs <- inTx(ctx, e.db, func(tx *sql.Tx) error { return m.CreateTx(ctx, tx, id) })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var claimed []string
	for i := range creates {
		var comment sql.NullString
		schema := e.schema(fmt.Sprint("t", i))
		if err := e.db.QueryRow("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", schema).Scan(&comment); err != nil {
			t.Fatal(err)
		}
		if comment.Valid {
			claimed = append(claimed, schema)
		}
		if !equal(e.versions(schema), []int64{1, 2}) {
			t.Fatalf("%s at %v", schema, e.versions(schema))
		}
	}
	if len(claimed) != len(spares) || len(e.spares()) != 0 {
		t.Fatalf("%d tenants came from the %d spares (%v); %d spares left", len(claimed), len(spares), claimed, len(e.spares()))
	}
	if ids, _ := m.List(ctx); len(ids) != creates {
		t.Fatalf("%d tenants listed, want %d", len(ids), creates)
	}
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Spares follow the migrations: a spare behind the files is never claimed,
// Migrate and EnsureSpares bring it up to date, and one whose history no
// longer fits the files is dropped.
func TestSparesFollowMigrations(t *testing.T) {
	ctx := context.Background()
	e, m := spareEnv(t, basicFS())
	if _, err := m.EnsureSpares(ctx, 3); err != nil {
		t.Fatal(err)
	}
	spares := e.markSpares(m)
	fsys3 := withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;")
	m3 := e.migrator(fsys3)
	if err := m3.Create(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	if len(e.spares()) != 3 || !equal(e.versions(e.schema("new")), []int64{1, 2, 3}) {
		t.Fatalf("a spare behind the files was claimed: spares %v, new at %v", e.spares(), e.versions(e.schema("new")))
	}
	rep, err := m3.Migrate(ctx)
	if err != nil || rep.Spares.Migrated != 3 || rep.Spares.Ready != 3 {
		t.Fatalf("Migrate: spares %+v, %v", rep.Spares, err)
	}
	for _, s := range spares {
		if !equal(e.versions(s), []int64{1, 2, 3}) || !e.hasColumn(s, "users", "nickname") {
			t.Fatalf("spare %s at %v after Migrate", s, e.versions(s))
		}
	}
	if rep, err := m3.Migrate(ctx, migrator.Only("new")); err != nil || rep.Spares.Ready+rep.Spares.Migrated+rep.Spares.Dropped != 0 {
		t.Fatalf("Migrate with Only touched the spares: %+v, %v", rep.Spares, err)
	}

	// A spare whose applied migration changed since is dropped, not
	// claimed; another behind the files is migrated by EnsureSpares.
	e.exec(fmt.Sprintf("UPDATE %s.tenantpath_migrations SET checksum = 'x' WHERE version = 1", tenantpath.QuoteIdentifier(spares[0])))
	e.exec(fmt.Sprintf("DELETE FROM %s.tenantpath_migrations WHERE version = 3; ALTER TABLE %[1]s.users DROP COLUMN nickname",
		tenantpath.QuoteIdentifier(spares[1])))
	if err := m3.Create(ctx, "next"); err != nil {
		t.Fatal(err)
	}
	if left := e.spares(); !slices.Equal(left, spares[:2]) {
		t.Fatalf("Create claimed a spare whose history does not fit: left %v of %v", left, spares)
	}
	rep2, err := m3.EnsureSpares(ctx, 2)
	if err != nil || rep2.Dropped != 1 || rep2.Migrated != 1 || rep2.Created != 1 || rep2.Ready != 2 {
		t.Fatalf("EnsureSpares(2) = %+v, %v", rep2, err)
	}
	if e.schemaExists(spares[0]) || !equal(e.versions(spares[1]), []int64{1, 2, 3}) {
		t.Fatalf("the changed spare survives (%v), or the old one is at %v", e.schemaExists(spares[0]), e.versions(spares[1]))
	}
	if _, err := m3.EnsureSpares(ctx, -1); err == nil {
		t.Fatal("EnsureSpares(-1) accepted")
	}
}

// With a non-transactional tenant migration, CreateTx can only claim a
// spare: without one it refuses, as before, and leaves the transaction
// usable; with one it succeeds.
func TestCreateTxSpareWithNonTransactional(t *testing.T) {
	ctx := context.Background()
	fsys := withFile(basicFS(), "tenant_migrations/0003_idx.sql",
		"-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY users_email_lower ON users (lower(email));\n")
	e, m := spareEnv(t, fsys)
	orgs := tenantpath.QuoteIdentifier(e.shared()) + ".organisations"
	err := inTx(ctx, e.db, func(tx *sql.Tx) error {
		if err := m.CreateTx(ctx, tx, "a"); !errors.Is(err, migrator.ErrNonTransactional) {
			t.Fatalf("CreateTx without a spare: %v", err)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+orgs+" VALUES ('a', 'A')")
		return err
	})
	if err != nil || e.schemaExists(e.schema("a")) {
		t.Fatalf("transaction after the refusal: %v; schema exists %v", err, e.schemaExists(e.schema("a")))
	}
	if _, err := m.EnsureSpares(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for _, commit := range []bool{false, true} {
		tx, err := e.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CreateTx(ctx, tx, "b"); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.schemaExists(e.schema("b")) != commit {
			t.Fatalf("commit %v: schema exists %v", commit, e.schemaExists(e.schema("b")))
		}
	}
	if n := e.count("SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'users_email_lower'", e.schema("b")); n != 1 {
		t.Fatalf("tenant b from a spare lacks the concurrent index (%d)", n)
	}
	if ids, _ := m.List(ctx); !slices.Equal(ids, []string{"b"}) {
		t.Fatalf("List = %v", ids)
	}
}
