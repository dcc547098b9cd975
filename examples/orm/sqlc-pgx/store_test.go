package sqlcpgx_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/examples/orm/internal/ormtest"
	sqlcpgx "github.com/tenantpath/tenantpath/examples/orm/sqlc-pgx"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/migrator"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newPool returns a pool configured by sqlcpgx.NewPool with naming (calls
// without a tenant are refused: the default), closed when t ends. Two
// connections at most, so tenants take turns on them.
func newPool(t *testing.T, naming tenantpath.Naming) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 2
	pool, err := sqlcpgx.NewPool(context.Background(), cfg, tenantpath.WithNaming(naming))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// admin returns a plain connection to the test server, outside tenantpath,
// closed when t ends.
func admin(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// titlesIn reads the titles stored in tenant's schema, bypassing the pool.
func titlesIn(t *testing.T, conn *pgx.Conn, naming tenantpath.Naming, tenant string) []string {
	t.Helper()
	schema, err := naming.Schema(tenant)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(context.Background(),
		"SELECT title FROM "+tenantpath.QuoteIdentifier(schema)+".notes ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	titles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return titles
}

func TestIsolation(t *testing.T) {
	naming := ormtest.Setup(t)
	pool := newPool(t, naming)
	ormtest.CheckIsolation(t, sqlcpgx.Store{Pool: pool})

	// COPY (sqlc's :copyfrom) lands in the caller's tenant too.
	store := sqlcpgx.Store{Pool: pool}
	initech := tenantpath.WithTenant(context.Background(), "initech")
	if n, err := store.Import(initech, []string{"copied 1", "copied 2"}); err != nil || n != 2 {
		t.Fatalf("Import: %d, %v", n, err)
	}
	db := admin(t)
	for _, id := range ormtest.Tenants {
		got := titlesIn(t, db, naming, id)
		want := 4
		if id == "initech" {
			want = 6
		}
		if len(got) != want || got[0][:len(id)] != id {
			t.Errorf("%s's table holds %q", id, got)
		}
	}
}

// A transaction keeps the tenant it began with: its statements read and
// change that tenant's rows only, and a statement naming another tenant
// inside it fails without running.
func TestTransactionKeepsItsTenant(t *testing.T) {
	naming := ormtest.Setup(t)
	pool := newPool(t, naming)
	store := sqlcpgx.Store{Pool: pool}
	ctx := context.Background()
	acme := tenantpath.WithTenant(ctx, "acme")
	globex := tenantpath.WithTenant(ctx, "globex")
	for _, c := range []context.Context{acme, acme, globex} {
		if err := store.Add(c, "first"); err != nil {
			t.Fatal(err)
		}
	}
	// Each tenant's table numbers its own rows: acme has ids 1 and 2,
	// globex only 1, so globex's transaction finds no note 2.
	if _, err := store.Replace(globex, 2, "stolen"); !errors.Is(err, sqlcpgx.ErrNoSuchNote) {
		t.Fatalf("globex replacing note 2 it lacks: %v, want ErrNoSuchNote", err)
	}
	note, err := store.Replace(acme, 2, "second")
	if err != nil || note.Title != "second" {
		t.Fatalf("acme replacing note 2: %v, %v", note, err)
	}

	tx, err := pool.Begin(globex)
	if err != nil {
		t.Fatal(err)
	}
	q := sqlcpgx.New(pool).WithTx(tx)
	if _, err := q.CreateNote(globex, "in the transaction"); err != nil {
		t.Fatal(err)
	}
	inTx, err := q.ListNotes(globex)
	if err != nil || len(inTx) != 2 || inTx[1].Title != "in the transaction" {
		t.Fatalf("globex inside its transaction reads %v, %v", inTx, err)
	}
	_, err = q.CreateNote(acme, "acme inside globex's transaction")
	if !errors.Is(err, tenantpath.ErrTenantMismatch) {
		t.Fatalf("another tenant's call inside a transaction: %v, want ErrTenantMismatch", err)
	}
	// pgx closes a connection whose send failed, which ends the
	// transaction on the server; Rollback has nothing left to do.
	_ = tx.Rollback(globex)

	db := admin(t)
	if got := titlesIn(t, db, naming, "acme"); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("acme's table holds %q", got)
	}
	if got := titlesIn(t, db, naming, "globex"); !slices.Equal(got, []string{"first"}) {
		t.Errorf("globex's table holds %q (the rolled-back transaction's row must be gone)", got)
	}
	if got, err := store.Titles(globex); err != nil || !slices.Equal(got, []string{"first"}) {
		t.Errorf("the pool after the refusal: globex reads %q, %v", got, err)
	}
}

// Calls that cannot run are refused with tenantpath's errors, and change
// nothing anywhere.
func TestRefusals(t *testing.T) {
	naming := ormtest.Setup(t)
	store := sqlcpgx.Store{Pool: newPool(t, naming)}
	ctx := context.Background()

	err := store.Add(tenantpath.WithTenant(ctx, "umbrella"), "lost")
	var pgErr *pgconn.PgError
	if !tenantpgx.UnknownTenant(err) || !errors.As(err, &pgErr) || pgErr.Code != "3F000" {
		t.Errorf("a tenant without a schema: %v, want PostgreSQL's 3F000 recognised by UnknownTenant", err)
	}
	if _, err := store.Titles(tenantpath.WithTenant(ctx, "umbrella")); !tenantpgx.UnknownTenant(err) {
		t.Errorf("reading as a tenant without a schema: %v, want an unknown tenant", err)
	}
	if err := store.Add(ctx, "lost"); !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Errorf("a call without a tenant: %v, want ErrNoTenant", err)
	}
	var invalid *tenantpath.InvalidTenantError
	if err := store.Add(tenantpath.WithTenant(ctx, "Acme"), "lost"); !errors.Is(err, tenantpath.ErrInvalidTenant) || !errors.As(err, &invalid) {
		t.Errorf("an invalid tenant: %v, want an *InvalidTenantError", err)
	}
	if _, err := store.Import(ctx, []string{"lost"}); !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Errorf("COPY without a tenant: %v, want ErrNoTenant", err)
	}
	db := admin(t)
	for _, id := range ormtest.Tenants {
		if got := titlesIn(t, db, naming, id); len(got) != 0 {
			t.Errorf("%s's table holds %q after refused calls", id, got)
		}
	}
	// The pool still serves a tenant that exists.
	acme := tenantpath.WithTenant(ctx, "acme")
	if err := store.Add(acme, "kept"); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Titles(acme); err != nil || !slices.Equal(got, []string{"kept"}) {
		t.Errorf("acme after the refusals reads %q, %v", got, err)
	}
}

// The migrator works over stdlib.OpenDBFromPool of the configured pool
// (not wrapped again by tenantpath.OpenDB: the pool's hooks route
// database/sql's calls too), with schema.sql as the tenant migration.
// Tenants it creates are routed at once; a later migration reaches them.
func TestMigratorOverThePool(t *testing.T) {
	prefix := pgtest.UniquePrefix(t)
	naming := tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "shared", "public"}}
	pool := newPool(t, naming)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	schema, err := os.ReadFile("schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"tenant_migrations/0001_notes.up.sql": {Data: schema}}
	m, err := migrator.New(db, fsys, naming)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	// Sign-up code often runs in another tenant's request: the migrator
	// ignores the tenant in its context.
	if err := m.Create(tenantpath.WithTenant(ctx, "acme"), "globex"); err != nil {
		t.Fatal(err)
	}
	if ids, err := m.List(ctx); err != nil || !slices.Equal(ids, []string{"acme", "globex"}) {
		t.Fatalf("List: %q, %v", ids, err)
	}

	store := sqlcpgx.Store{Pool: pool}
	for _, id := range []string{"acme", "globex"} {
		if err := store.Add(tenantpath.WithTenant(ctx, id), id+"'s note"); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	for _, id := range []string{"acme", "globex"} {
		got, err := store.Titles(tenantpath.WithTenant(ctx, id))
		if err != nil || !slices.Equal(got, []string{id + "'s note"}) {
			t.Errorf("%s reads %q, %v", id, got, err)
		}
		// database/sql through the same pool is routed by its hooks.
		var title string
		if err := db.QueryRowContext(tenantpath.WithTenant(ctx, id), "SELECT title FROM notes").Scan(&title); err != nil || title != id+"'s note" {
			t.Errorf("%s through database/sql reads %q, %v", id, title, err)
		}
	}

	// A second migration, applied to every tenant over the same pool.
	fsys["tenant_migrations/0002_pinned.up.sql"] = &fstest.MapFile{Data: []byte(
		"ALTER TABLE notes ADD COLUMN pinned boolean NOT NULL DEFAULT false;")}
	m2, err := migrator.New(db, fsys, naming)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Migrate(tenantpath.WithTenant(ctx, "globex")); err != nil {
		t.Fatal(err)
	}
	rows, err := admin(t).Query(ctx, `SELECT table_schema FROM information_schema.columns
		WHERE table_name = 'notes' AND column_name = 'pinned' AND starts_with(table_schema, $1)
		ORDER BY 1`, prefix)
	if err != nil {
		t.Fatal(err)
	}
	where, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(where, []string{prefix + "acme", prefix + "globex"}) {
		t.Errorf("the second migration reached %q, want both tenants and nothing else", where)
	}
	var pinned sql.NullBool
	if err := db.QueryRowContext(tenantpath.WithTenant(ctx, "acme"), "SELECT pinned FROM notes").Scan(&pinned); err != nil || !pinned.Valid || pinned.Bool {
		t.Errorf("acme's note after the second migration: pinned %v, %v", pinned, err)
	}
}
