package migrator_test

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/migrator"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

// newerPool is one of the newer kinds of routed *sql.DB the migrator must
// work on.
type newerPool struct {
	name string
	open func(t *testing.T, e *env) *sql.DB
}

func newerPools() []newerPool {
	configured := func(opts ...tenantpath.Option) func(t *testing.T, e *env) *sql.DB {
		return func(t *testing.T, e *env) *sql.DB {
			cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			cfg.MaxConns = 4
			if err := tenantpgx.Configure(cfg, append([]tenantpath.Option{tenantpath.WithNaming(e.naming)}, opts...)...); err != nil {
				t.Fatal(err)
			}
			pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			db := stdlib.OpenDBFromPool(pool)
			t.Cleanup(func() { db.Close(); pool.Close() })
			return db
		}
	}
	return []newerPool{
		{"Pool", func(t *testing.T, e *env) *sql.DB {
			db, err := tenantpath.OpenDB(tptest.PGX.Connector(t, pgtest.DSN(t), false),
				tenantpath.WithNaming(e.naming), tenantpath.Pool(3))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
		{"Configured", configured()},
		{"ConfiguredTxPooling", configured(tenantpath.TransactionPooling())},
		{"TenantpgxOpenDBTxPooling", func(t *testing.T, e *env) *sql.DB {
			cfg, err := pgx.ParseConfig(pgtest.DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			db, err := tenantpgx.OpenDB(*cfg, tenantpath.WithNaming(e.naming), tenantpath.TransactionPooling())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
	}
}

func scopes3(bystander string) []struct {
	name  string
	scope func(context.Context) context.Context
} {
	return callerScopes(bystander)[:3] // shared, bystander, none
}

// withDeadline fails the test if fn does not return within d.
func withDeadline(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still running after %v (hang)", what, d)
	}
}

// The full lifecycle of TestRoutedPoolAnyScope (List, Migrate, Status,
// Create, RollbackTenants, Rename, Drop, Exists) over the newer pools.
func TestNewerPoolsAnyScope(t *testing.T) {
	for _, p := range newerPools() {
		for _, sc := range scopes3("bystander") {
			t.Run(p.name+"/"+sc.name, func(t *testing.T) {
				e := newEnv(t)
				routed := p.open(t, e)
				withDeadline(t, 60*time.Second, "lifecycle", func() {
					checkRoutedRun(t, e, routed, sc.scope(context.Background()))
				})
			})
		}
	}
}

// edgeFS: tenant migrations that touch settings and the path locally, a DO
// block, a function body with BEGIN…END, and a migration that fails
// halfway in tenant "b" only.
func edgeFS() fstest.MapFS {
	fsys := basicFS()
	for name, data := range map[string]string{
		"tenant_migrations/0003_local.up.sql": "SET LOCAL statement_timeout = '30s';\n" +
			"SELECT set_config('application_name', 'edge', true);\nCREATE TABLE edge_a (id int);",
		"tenant_migrations/0004_do.up.sql": "DO $$ BEGIN CREATE TABLE edge_do (id int); END $$;\n" +
			"CREATE FUNCTION edge_fn() RETURNS bigint LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN (SELECT count(*) FROM edge_a);\nEND;\n$$;\n" +
			"CREATE TABLE edge_fn_t (n bigint DEFAULT edge_fn());",
		// a migration that moves the path for its own transaction only
		"tenant_migrations/0005_localpath.up.sql": "SET LOCAL search_path TO pg_catalog;\nSELECT 1;",
		"tenant_migrations/0006_after.up.sql":     "CREATE TABLE edge_after (id int);",
		"tenant_migrations/0007_sc.up.sql":        "SELECT set_config('search_path', 'pg_catalog', true);\nSELECT 1;",
		"tenant_migrations/0008_after2.up.sql":    "CREATE TABLE edge_after2 (id int);",
		"tenant_migrations/0009_fail.up.sql": "CREATE TABLE edge_fail (id int);\n" +
			"DO $$ BEGIN IF current_schema() LIKE '%\\_b' ESCAPE '\\' OR current_schema() LIKE '%b' THEN RAISE EXCEPTION 'boom in %', current_schema(); END IF; END $$;",
	} {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

var edgeTables = []string{"users", "posts", "edge_a", "edge_do", "edge_fn_t", "edge_after", "edge_after2", "edge_fail"}

// tablesIn lists the test's tables (by edgeTables' names) in a schema,
// read on the plain admin pool.
func (e *env) tablesIn(schema string) []string {
	e.t.Helper()
	return e.strings(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename = ANY($2) ORDER BY tablename`, schema, edgeTables)
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Migrations with SET LOCAL / set_config, a DO block, a function body, a
// migration that moves the path for its own transaction, and one failing
// halfway in one tenant, with 4 workers, over every newer pool and scope.
func TestNewerPoolsEdgeMigrations(t *testing.T) {
	for _, p := range newerPools() {
		for _, sc := range scopes3("bystander") {
			t.Run(p.name+"/"+sc.name, func(t *testing.T) {
				e := newEnv(t)
				plain := e.migrator(basicFS())
				if _, err := plain.MigrateShared(context.Background()); err != nil {
					t.Fatal(err)
				}
				ids := []string{"a", "b", "c", "d", "e", "bystander"}
				for _, id := range ids {
					if err := plain.Create(context.Background(), id); err != nil {
						t.Fatal(err)
					}
				}
				routed := p.open(t, e)
				parkOn(t, routed, "bystander", 3)
				if p.name == "Pool" {
					// parkOn's SetMaxIdleConns(3) with Workers(4) over Pool(3)
					// hangs (docs/pool.md: idle connections of database/sql's
					// are out of the pool's reach); the parked connections go
					// back to the pool, still on the bystander's path.
					routed.SetMaxIdleConns(0)
				}
				m := e.migratorOn(routed, edgeFS())
				ctx := sc.scope(context.Background())
				var res []migrator.Result
				var err error
				withDeadline(t, 60*time.Second, "MigrateTenants", func() {
					res, err = m.MigrateTenants(ctx, migrator.Workers(4), migrator.ContinueOnError(), migrator.Except("bystander"))
				})
				if err == nil {
					t.Fatalf("MigrateTenants: no error, want b's failure; results %+v", res)
				}
				full := sortedCopy(edgeTables)
				for _, id := range []string{"a", "c", "d", "e"} {
					if got := e.tablesIn(e.schema(id)); strings.Join(got, ",") != strings.Join(full, ",") {
						t.Errorf("tenant %s: tables %v, want %v", id, got, full)
					}
					if got := e.versions(e.schema(id)); !equal(got, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
						t.Errorf("tenant %s: versions %v", id, got)
					}
				}
				wantB := sortedCopy(edgeTables[:7])
				if got := e.tablesIn(e.schema("b")); strings.Join(got, ",") != strings.Join(wantB, ",") {
					t.Errorf("tenant b: tables %v, want %v", got, wantB)
				}
				if got := e.versions(e.schema("b")); !equal(got, []int64{1, 2, 3, 4, 5, 6, 7, 8}) {
					t.Errorf("tenant b: versions %v", got)
				}
				for _, s := range []string{"public", e.shared(), e.schema("bystander"), "pg_catalog"} {
					got := e.tablesIn(s)
					want := []string(nil)
					if s == e.schema("bystander") {
						want = []string{"posts", "users"}
					}
					if strings.Join(got, ",") != strings.Join(want, ",") {
						t.Errorf("schema %s: tables %v, want %v", s, got, want)
					}
				}
				if got := e.versions(e.schema("bystander")); !equal(got, []int64{1, 2}) {
					t.Errorf("bystander versions %v", got)
				}
				if got := e.count(`SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE proname = 'edge_fn' AND NOT starts_with(nspname, $1)`, e.prefix); got != 0 {
					t.Errorf("edge_fn in %d schemas outside the test's", got)
				}
				e.waitLocksReleased()
			})
		}
	}
}

// CreateTx leaves the caller's transaction usable on every routed pool:
// its claim DO block (like any DO block or function body) has END words in
// its body, which cannot end a transaction block, so the transaction is not
// taken for ended and the caller's next call in it runs.
func TestCreateTxLeavesCallerTxUsable(t *testing.T) {
	for _, p := range newerPools() {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t)
			plain := e.migrator(basicFS())
			if _, err := plain.MigrateShared(context.Background()); err != nil {
				t.Fatal(err)
			}
			routed := p.open(t, e)
			m := e.migratorOn(routed, basicFS())
			ctx := tenantpath.WithShared(context.Background())
			withDeadline(t, 30*time.Second, "CreateTx", func() {
				tx, err := routed.BeginTx(ctx, nil)
				if err != nil {
					t.Error(err)
					return
				}
				defer tx.Rollback()
				if _, err := tx.ExecContext(ctx, "INSERT INTO organisations VALUES ('c', 'C')"); err != nil {
					t.Error(err)
					return
				}
				if err := m.CreateTx(ctx, tx, "c"); err != nil {
					t.Errorf("CreateTx: %v", err)
					return
				}
				if _, err := tx.ExecContext(ctx, "UPDATE organisations SET name = 'C2' WHERE id = 'c'"); err != nil {
					t.Errorf("the caller's next call in its transaction after CreateTx: %v", err)
					return
				}
				if err := tx.Commit(); err != nil {
					t.Error(err)
				}
			})
			if got := e.tablesIn(e.schema("c")); strings.Join(got, ",") != "posts,users" {
				t.Errorf("c: tables %v", got)
			}
			for _, s := range []string{"public", e.shared()} {
				if got := e.tablesIn(s); len(got) != 0 {
					t.Errorf("schema %s: tables %v", s, got)
				}
			}
		})
	}
}

// ForEachTenant and QueryTenants with 4 workers over the newer pools and
// every caller scope: each tenant's work runs in its own schema.
func TestNewerPoolsFleet(t *testing.T) {
	for _, p := range newerPools() {
		for _, sc := range scopes3("bystander") {
			t.Run(p.name+"/"+sc.name, func(t *testing.T) {
				e := newEnv(t)
				plain := e.migrator(basicFS())
				ids := []string{"a", "b", "c", "bystander"}
				for _, id := range ids {
					if err := plain.Create(context.Background(), id); err != nil {
						t.Fatal(err)
					}
				}
				routed := p.open(t, e)
				parkOn(t, routed, "bystander", 2)
				if p.name == "Pool" {
					routed.SetMaxIdleConns(0)
				}
				m := e.migratorOn(routed, basicFS())
				ctx := sc.scope(context.Background())
				withDeadline(t, 30*time.Second, "fleet", func() {
					var mu sync.Mutex
					seen := map[string]string{}
					_, err := m.ForEachTenant(ctx, func(ctx context.Context, tenant string, tx *sql.Tx) error {
						var s string
						if err := tx.QueryRowContext(ctx, "SELECT current_schema()").Scan(&s); err != nil {
							return err
						}
						mu.Lock()
						seen[tenant] = s
						mu.Unlock()
						return nil
					}, migrator.Workers(4))
					if err != nil {
						t.Errorf("ForEachTenant: %v", err)
						return
					}
					for _, id := range ids {
						if seen[id] != e.schema(id) {
							t.Errorf("ForEachTenant: tenant %s ran in %q", id, seen[id])
						}
					}
					rows, err := m.QueryTenants(ctx, "SELECT current_schema(), (SELECT count(*) FROM users)", nil, migrator.Workers(4))
					if err != nil {
						t.Errorf("QueryTenants: %v", err)
						return
					}
					defer rows.Close()
					n := 0
					for rows.Next() {
						var s string
						var c int
						if err := rows.Scan(&s, &c); err != nil {
							t.Error(err)
							return
						}
						if s != e.schema(rows.Tenant()) {
							t.Errorf("QueryTenants: tenant %s ran in %q", rows.Tenant(), s)
						}
						n++
					}
					if err := rows.Err(); err != nil || n != len(ids) {
						t.Errorf("QueryTenants: %d rows, %v", n, err)
					}
				})
				e.waitLocksReleased()
			})
		}
	}
}

// localPathFS: tenant migration 3 moves the path for its own transaction
// (SET LOCAL, as a migration that wants to name public's objects may),
// migration 4 creates a table unqualified.
func localPathFS() fstest.MapFS {
	return withFile(withFile(basicFS(),
		"tenant_migrations/0003_local.up.sql", "SET LOCAL search_path TO public;\nSELECT 1;"),
		"tenant_migrations/0004_after.up.sql", "CREATE TABLE leak_after (id int);")
}

// Create (and CreateTx) run every tenant migration in one transaction, so
// each migration starts on the tenant's path again: one migration's SET
// LOCAL search_path does not carry into the next, whose tables land in the
// tenant's schema, as with MigrateTenants. On a plain pool and a routed one.
func TestCreateMigrationLocalPathCarriesOver(t *testing.T) {
	pools := append([]newerPool{{"Plain", func(t *testing.T, e *env) *sql.DB { return e.db }}}, newerPools()[1:2]...)
	for _, p := range pools {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t)
			db := p.open(t, e)
			m := e.migratorOn(db, localPathFS())
			ctx := tenantpath.WithShared(context.Background())
			if _, err := m.MigrateShared(ctx); err != nil {
				t.Fatal(err)
			}
			// the same migrations through MigrateTenants: table in the tenant's schema
			if err := e.migrator(basicFS()).Create(context.Background(), "m"); err != nil {
				t.Fatal(err)
			}
			if _, err := m.MigrateTenants(ctx); err != nil {
				t.Fatal(err)
			}
			if got := e.tablesOf("leak_after"); strings.Join(got, ",") != e.schema("m") {
				t.Fatalf("after MigrateTenants: leak_after in %v", got)
			}
			// through Create
			var err error
			withDeadline(t, 30*time.Second, "Create", func() { err = m.Create(ctx, "c") })
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if got := e.tablesOf("leak_after"); strings.Join(got, ",") != e.schema("c")+","+e.schema("m") {
				t.Errorf("after Create(c): leak_after in schemas %v, want [%s %s]", got, e.schema("c"), e.schema("m"))
			}
			e.exec("DROP TABLE IF EXISTS public.leak_after")
		})
	}
}

// tablesOf lists the schemas holding a table of that name, among this
// test's schemas and public.
func (e *env) tablesOf(table string) []string {
	e.t.Helper()
	return e.strings(`SELECT schemaname FROM pg_tables WHERE tablename = $1 AND (starts_with(schemaname, $2) OR schemaname = 'public') ORDER BY 1`, table, e.prefix)
}

// Drop and Rename through the newer pools while their connections sit on
// the tenant's path: the process's next call for the dropped or old id
// fails at once (unknown tenant) instead of reading the shared schema's
// table of the same name.
func TestNewerPoolsDropRenameNoticedAtOnce(t *testing.T) {
	for _, p := range newerPools() {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t)
			plain := e.migrator(basicFS())
			if _, err := plain.MigrateShared(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"d", "r"} {
				if err := plain.Create(context.Background(), id); err != nil {
					t.Fatal(err)
				}
			}
			e.exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.shared()) + ".users (id int)")
			e.exec("INSERT INTO " + tenantpath.QuoteIdentifier(e.shared()) + ".users VALUES (1), (2), (3)")
			routed := p.open(t, e)
			routed.SetMaxIdleConns(2)
			for _, id := range []string{"d", "r"} {
				parkOn(t, routed, id, 2)
			}
			if p.name == "Pool" {
				routed.SetMaxIdleConns(0)
			} else {
				routed.SetMaxIdleConns(4)
			}
			m := e.migratorOn(routed, basicFS(), migrator.WithDrop(nil))
			if err := m.Drop(context.Background(), "d"); err != nil {
				t.Fatal(err)
			}
			if err := m.Rename(context.Background(), "r", "r2"); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"d", "r"} {
				for i := 0; i < 4; i++ {
					var n int
					err := routed.QueryRowContext(tenantpath.WithTenant(context.Background(), id), "SELECT count(*) FROM users").Scan(&n)
					if err == nil {
						t.Fatalf("tenant %s after Drop/Rename: read %d rows (the shared schema's users)", id, n)
					}
				}
			}
			var n int
			if err := routed.QueryRowContext(tenantpath.WithTenant(context.Background(), "r2"), "SELECT count(*) FROM users").Scan(&n); err != nil || n != 0 {
				t.Fatalf("r2: %d, %v", n, err)
			}
		})
	}
}

// CreateTx committed at once (the README's order) in a transaction begun
// on the newer pools with the shared scope, a bystander tenant or the base
// path builds the tenant in its schema; a Create whose migration fails
// halfway leaves no schema and no registry row.
func TestNewerPoolsCreateTxCommitAndFailedCreate(t *testing.T) {
	for _, p := range newerPools() {
		for _, sc := range callerScopes("bystander") {
			if sc.name == "none" {
				continue // a transaction needs a scope
			}
			t.Run(p.name+"/"+sc.name, func(t *testing.T) {
				e := newEnv(t)
				plain := e.migrator(basicFS())
				if _, err := plain.MigrateShared(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := plain.Create(context.Background(), "bystander"); err != nil {
					t.Fatal(err)
				}
				routed := p.open(t, e)
				fsys := withFile(basicFS(), "tenant_migrations/0003_fail.up.sql",
					"CREATE TABLE half (id int);\nDO $$ BEGIN IF current_schema() LIKE '%f' THEN RAISE EXCEPTION 'boom'; END IF; END $$;")
				m := e.migratorOn(routed, fsys)
				ctx := sc.scope(context.Background())
				withDeadline(t, 30*time.Second, "CreateTx", func() {
					tx, err := routed.BeginTx(ctx, nil)
					if err != nil {
						t.Error(err)
						return
					}
					defer tx.Rollback()
					if err := m.CreateTx(ctx, tx, "c"); err != nil {
						t.Errorf("CreateTx: %v", err)
						return
					}
					if err := tx.Commit(); err != nil {
						t.Error(err)
					}
				})
				if got := e.tablesIn(e.schema("c")); strings.Join(got, ",") != "posts,users" {
					t.Errorf("c: tables %v", got)
				}
				if got := e.versions(e.schema("c")); !equal(got, []int64{1, 2, 3}) {
					t.Errorf("c: versions %v", got)
				}
				if err := m.Create(context.Background(), "f"); err == nil {
					t.Fatal("Create(f) with a failing migration: no error")
				}
				if e.schemaExists(e.schema("f")) {
					t.Error("Create(f) failed but left its schema")
				}
				if ids, err := m.List(context.Background()); err != nil || strings.Join(ids, ",") != "bystander,c" {
					t.Errorf("List = %v, %v", ids, err)
				}
				if got := e.tablesOf("half"); strings.Join(got, ",") != e.schema("c") {
					t.Errorf("table half in %v", got)
				}
				if got := e.tablesIn(e.schema("bystander")); strings.Join(got, ",") != "posts,users" {
					t.Errorf("bystander: tables %v", got)
				}
			})
		}
	}
}
