package migrator_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
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

// archiveFS is a tenant schema with what an archive must carry across:
// identity and serial columns, a sequence of its own, a self-reference, a
// foreign-key cycle, a generated column, a trigger that stamps rows, a
// materialized view and values of many types.
func archiveFS() fstest.MapFS {
	return fstestOf(map[string]string{
		"migrations/0001_plans.up.sql": "CREATE TABLE plans (id text PRIMARY KEY);\nINSERT INTO plans VALUES ('free'), ('pro');",
		"tenant_migrations/0001_accounts.up.sql": `CREATE TABLE accounts (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email text NOT NULL UNIQUE,
	parent_id bigint REFERENCES accounts (id),
	plan text NOT NULL REFERENCES plans (id)
);`,
		"tenant_migrations/0002_invoices.up.sql": `CREATE TABLE invoices (
	id bigserial PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts (id),
	total numeric(12, 2),
	created_at timestamptz,
	due date,
	period interval,
	note text,
	blob bytea,
	tags text[],
	doc jsonb,
	ratio double precision,
	loud_note text GENERATED ALWAYS AS (upper(note)) STORED,
	touched_at timestamptz
);
ALTER TABLE accounts ADD COLUMN last_invoice bigint REFERENCES invoices (id);
CREATE SEQUENCE invoice_numbers START 1000;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched_at := clock_timestamp(); RETURN NEW; END $$;
CREATE TRIGGER invoices_touch BEFORE INSERT OR UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION touch();
CREATE MATERIALIZED VIEW account_totals AS SELECT account_id, sum(total) AS total FROM invoices GROUP BY account_id;`,
	})
}

// fillArchiveTenant writes rows of every kind into tenant's schema,
// including a blob of bigKB kilobytes and a text value of half as many.
func fillArchiveTenant(t *testing.T, e *env, tenant string, bigKB int) {
	t.Helper()
	s := tenantpath.QuoteIdentifier(e.schema(tenant))
	blob := make([]byte, bigKB<<10)
	rand.Read(blob)
	e.exec(fmt.Sprintf(`INSERT INTO %[1]s.accounts (email, plan) VALUES ('root@%[2]s', 'pro');
INSERT INTO %[1]s.accounts (email, parent_id, plan) SELECT 'user' || g || '@%[2]s', 1, 'free' FROM generate_series(1, 40) g;
SELECT nextval('%[1]s.invoice_numbers') FROM generate_series(1, 7)`, s, tenant))
	e.exec(fmt.Sprintf(`INSERT INTO %s.invoices (account_id, total, created_at, due, period, note, blob, tags, doc, ratio)
VALUES ($1, 12.5, '2024-02-29 23:59:59.123456+05:30', '2024-03-31', '1 year 2 mons 3 days 04:05:06.7',
        E'tab\there, newline\nhere, back\\slash, quote '' and \u00e9\u4e2d\U0001F600', $2, '{a,"b c",NULL}', '{"k": [1, "x\ny"]}', 0.1),
       ($1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'NaN'),
       (2, -0.01, now(), 'infinity', '-3 hours', $3, '\x00ff', '{}', 'null', 1e-300)`, s),
		1, blob, strings.Repeat("long text ", bigKB<<10/20))
	e.exec(fmt.Sprintf("UPDATE %[1]s.accounts SET last_invoice = (SELECT max(id) FROM %[1]s.invoices) WHERE id = 1; REFRESH MATERIALIZED VIEW %[1]s.account_totals", s))
	// Holes in the identity and serial sequences: the next values must
	// come after them, not after the highest id.
	e.exec(fmt.Sprintf("SELECT nextval(pg_get_serial_sequence('%[1]s.accounts', 'id')), nextval(pg_get_serial_sequence('%[1]s.invoices', 'id'))", s))
}

// tenantDigest describes a tenant's data: every table's rows (as text, in
// id order), its sequences' states, its version rows and its foreign keys,
// triggers and materialized view rows.
func tenantDigest(t *testing.T, e *env, tenant string) map[string]string {
	t.Helper()
	s := tenantpath.QuoteIdentifier(e.schema(tenant))
	out := map[string]string{}
	for name, q := range map[string]string{
		"accounts":  "SELECT md5(string_agg(a::text, '|' ORDER BY id)) FROM %[1]s.accounts a",
		"invoices":  "SELECT md5(string_agg(i::text, '|' ORDER BY id)) FROM %[1]s.invoices i",
		"totals":    "SELECT md5(string_agg(v::text, '|' ORDER BY account_id)) FROM %[1]s.account_totals v",
		"seq":       "SELECT last_value || ':' || is_called FROM %[1]s.invoice_numbers",
		"idseq":     "SELECT last_value || ':' || is_called FROM %[1]s.accounts_id_seq",
		"serial":    "SELECT last_value || ':' || is_called FROM %[1]s.invoices_id_seq",
		"versions":  "SELECT string_agg(version || ':' || checksum, ',' ORDER BY version) FROM %[1]s.tenantpath_migrations",
		"fks":       "SELECT string_agg(conname || ' ' || replace(pg_get_constraintdef(oid), '%[2]s.', ''), ',' ORDER BY conname) FROM pg_constraint WHERE connamespace = '%[1]s'::regnamespace AND contype = 'f'",
		"triggers":  "SELECT string_agg(tgname || tgenabled::text, ',') FROM pg_trigger WHERE tgrelid = '%[1]s.invoices'::regclass AND NOT tgisinternal",
		"populated": "SELECT relispopulated::text FROM pg_class WHERE oid = '%[1]s.account_totals'::regclass",
	} {
		var v *string
		if err := e.db.QueryRow(fmt.Sprintf(q, s, e.schema(tenant))).Scan(&v); err != nil {
			t.Fatalf("%s of %s: %v", name, tenant, err)
		}
		if v != nil {
			out[name] = *v
		}
	}
	return out
}

func archiveEnv(t *testing.T) (*env, *migrator.Migrator) {
	t.Helper()
	e := newEnv(t)
	m := e.migrator(archiveFS())
	if _, err := m.MigrateShared(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, m
}

// An exported tenant imports under another id with the same rows,
// sequences, foreign keys (enforced), triggers (not fired by the load, on
// again after) and refreshed materialized view, on plain and routed pgx
// pools.
func TestExportImport(t *testing.T) {
	ctx := context.Background()
	e, m := archiveEnv(t)
	if err := m.Create(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	fillArchiveTenant(t, e, "src", 2<<10) // 2 MB of bytea, 1 MB of text
	want := tenantDigest(t, e, "src")
	routed := tptest.OpenWrapped(t, tptest.PGX.Connector(t, pgtest.DSN(t), false), tenantpath.WithNaming(e.naming))
	for i, db := range []*fleetPool{{name: "plain", db: e.db}, {name: "routed", db: routed, ctx: tenantpath.WithShared(ctx)}} {
		t.Run(db.name, func(t *testing.T) {
			cctx := ctx
			if db.ctx != nil {
				cctx = db.ctx
			}
			mm := e.migratorOn(db.db, archiveFS())
			var buf bytes.Buffer
			info, err := mm.Export(cctx, "src", &buf)
			if err != nil {
				t.Fatal(err)
			}
			if info.Version != 2 || len(info.Tables) != 2 || info.Tables[0] != (migrator.TableRows{Table: "accounts", Rows: 41}) ||
				info.Tables[1].Rows != 3 || info.Sequences != 3 {
				t.Fatalf("export info %+v", info)
			}
			id := fmt.Sprint("copy", i)
			got, err := mm.Import(cctx, id, bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if got.Tenant != "src" || got.Version != 2 || !slices.Equal(got.Tables, info.Tables) {
				t.Fatalf("import info %+v", got)
			}
			if d := tenantDigest(t, e, id); !mapsEqual(d, want) {
				t.Fatalf("imported tenant differs:\n got %v\nwant %v", d, want)
			}
			s := tenantpath.QuoteIdentifier(e.schema(id))
			if err := e.db.QueryRow(fmt.Sprintf("INSERT INTO %s.invoices (account_id) VALUES (999)", s)).Err(); err == nil {
				t.Fatal("the foreign key is not enforced after the import")
			}
			var acct, inv int64
			var touched bool
			e.db.QueryRow(fmt.Sprintf("INSERT INTO %s.accounts (email, plan) VALUES ('new', 'free') RETURNING id", s)).Scan(&acct)
			e.db.QueryRow(fmt.Sprintf("INSERT INTO %s.invoices (account_id) VALUES (1) RETURNING id, touched_at IS NOT NULL", s)).Scan(&inv, &touched)
			// 41 accounts and a hole; 3 invoices, a hole, and the id the
			// refused insert took.
			if acct != 43 || inv != 6 || !touched {
				t.Fatalf("after the import: new account %d (want 43), invoice %d (want 6), trigger fired %v", acct, inv, touched)
			}
		})
	}
	if ids, _ := m.List(ctx); !slices.Equal(ids, []string{"copy0", "copy1", "src"}) {
		t.Fatalf("List = %v", ids)
	}
	if n := e.count(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenantpath\_import\_%'`); n != 0 {
		t.Fatalf("%d reserved import schemas left", n)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Several tenants export and import at once, each into its own copy.
func TestExportImportConcurrent(t *testing.T) {
	ctx := context.Background()
	e, m := archiveEnv(t)
	ids := []string{"a", "b", "c", "d"}
	for _, id := range ids {
		if err := m.Create(ctx, id); err != nil {
			t.Fatal(err)
		}
		fillArchiveTenant(t, e, id, 200)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, pw := io.Pipe()
			go func() {
				_, err := m.Export(ctx, id, pw)
				pw.CloseWithError(err)
			}()
			_, err := m.Import(ctx, id+"2", pr)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if a, b := tenantDigest(t, e, id), tenantDigest(t, e, id+"2"); !mapsEqual(a, b) {
			t.Fatalf("tenant %s and its copy differ:\n%v\n%v", id, a, b)
		}
	}
}

// Import refuses, before creating anything, an archive whose history the
// local migrations do not reproduce, an archive it cannot read, and a
// tenant that exists; a cut archive fails the load and leaves nothing.
func TestImportRefusals(t *testing.T) {
	ctx := context.Background()
	e, m := archiveEnv(t)
	if err := m.Create(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	fillArchiveTenant(t, e, "src", 64)
	var buf bytes.Buffer
	if _, err := m.Export(ctx, "src", &buf); err != nil {
		t.Fatal(err)
	}
	archive := buf.Bytes()

	older := e.migrator(fstestOf(map[string]string{"tenant_migrations/0001_accounts.up.sql": string(archiveFS()["tenant_migrations/0001_accounts.up.sql"].Data)}))
	var ve *migrator.ArchiveVersionError
	if _, err := older.Import(ctx, "x", bytes.NewReader(archive)); !errors.As(err, &ve) || !slices.Equal(ve.Unknown, []int64{2}) || ve.Version != 2 {
		t.Fatalf("archive newer than the files: %v", err)
	}
	changed := e.migrator(withFile(archiveFS(), "tenant_migrations/0001_accounts.up.sql", "CREATE TABLE accounts (id int);"))
	if _, err := changed.Import(ctx, "x", bytes.NewReader(archive)); !errors.As(err, &ve) || !slices.Equal(ve.Changed, []int64{1}) || !errors.Is(err, migrator.ErrArchiveVersion) {
		t.Fatalf("archive of changed files: %v", err)
	}
	if _, err := m.Import(ctx, "src", bytes.NewReader(archive)); !errors.Is(err, migrator.ErrTenantExists) {
		t.Fatalf("import over an existing tenant: %v", err)
	}
	for name, data := range map[string][]byte{
		"not gzip":  []byte("hello"),
		"empty":     nil,
		"cut short": archive[:len(archive)/2],
		"cut end":   archive[:len(archive)-4],
	} {
		if _, err := m.Import(ctx, "x", bytes.NewReader(data)); !errors.Is(err, migrator.ErrInvalidArchive) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if e.schemaExists(e.schema("x")) || e.count(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenantpath\_import\_%'`) != 0 {
		t.Fatal("a refused import left a schema behind")
	}
	if ids, _ := m.List(ctx); !slices.Equal(ids, []string{"src"}) {
		t.Fatalf("List = %v", ids)
	}

	// An archive of an older version imports at that version; the
	// migrations take it further.
	var old bytes.Buffer
	if err := older.Create(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if _, err := older.Export(ctx, "old", &old); err != nil {
		t.Fatal(err)
	}
	if info, err := m.Import(ctx, "old2", &old); err != nil || info.Version != 1 || !equal(e.versions(e.schema("old2")), []int64{1}) {
		t.Fatalf("older archive: %+v, %v, versions %v", info, err, e.versions(e.schema("old2")))
	}
	if _, err := m.MigrateTenant(ctx, "old2"); err != nil || !equal(e.versions(e.schema("old2")), []int64{1, 2}) {
		t.Fatalf("migrating the import: %v", err)
	}
}

// With lib/pq, Export and Import refuse before sending anything: COPY
// needs pgx.
func TestArchiveNeedsPgx(t *testing.T) {
	ctx := context.Background()
	e, m := archiveEnv(t)
	if err := m.Create(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.Export(ctx, "src", &buf); err != nil {
		t.Fatal(err)
	}
	routedPQ := tptest.OpenWrapped(t, tptest.PQ.Connector(t, pgtest.DSN(t), false), tenantpath.WithNaming(e.naming))
	for name, db := range map[string]*sql.DB{"pq": openDB(t, "postgres"), "routed-pq": routedPQ} {
		pm := e.migratorOn(db, archiveFS())
		if _, err := pm.Export(ctx, "src", io.Discard); !errors.Is(err, migrator.ErrCopyUnsupported) {
			t.Errorf("%s: Export: %v", name, err)
		}
		if _, err := pm.Import(ctx, "x", bytes.NewReader(buf.Bytes())); !errors.Is(err, migrator.ErrCopyUnsupported) {
			t.Errorf("%s: Import: %v", name, err)
		}
	}
	if e.schemaExists(e.schema("x")) || e.count(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenantpath\_import\_%'`) != 0 {
		t.Fatal("a refused import left a schema behind")
	}
}

// Move copies a tenant to another fleet (here another naming and shared
// schema in the same database, as another server would be), verifies the
// counts, and drops the source only when asked; a row written to the
// source meanwhile keeps the source.
func TestMove(t *testing.T) {
	ctx := context.Background()
	e, m := archiveEnv(t)
	src := e.migrator(archiveFS(), migrator.WithDrop(nil))
	dstNaming := tenantpath.Naming{Prefix: e.prefix + "d_", Shared: []string{e.prefix + "dshared"}}
	dst, err := migrator.New(e.db, archiveFS(), dstNaming)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := m.Create(ctx, id); err != nil {
			t.Fatal(err)
		}
		fillArchiveTenant(t, e, id, 64)
	}
	want := tenantDigest(t, e, "a")
	if _, err := m.Move(ctx, "a", dst, migrator.DropSource()); !errors.Is(err, migrator.ErrDropDisabled) {
		t.Fatalf("DropSource without WithDrop: %v", err)
	}
	rep, err := src.Move(ctx, "a", dst)
	if err != nil || rep.Dropped || len(rep.Counts) != 2 || rep.Counts[0] != (migrator.TableCount{Table: "accounts", Archive: 41, Destination: 41, Source: 41}) {
		t.Fatalf("Move = %+v, %v", rep, err)
	}
	moved := &env{t: t, db: e.db, prefix: e.prefix + "d_"}
	got := tenantDigest(t, moved, "a")
	got["fks"] = strings.ReplaceAll(got["fks"], e.prefix+"dshared.", e.prefix+"shared.") // plans is the destination's
	if !mapsEqual(got, want) {
		t.Fatalf("moved tenant differs:\n got %v\nwant %v", got, want)
	}
	if !e.schemaExists(e.schema("a")) {
		t.Fatal("the source was dropped without DropSource")
	}
	if _, err := src.Move(ctx, "a", dst); !errors.Is(err, migrator.ErrTenantExists) {
		t.Fatalf("second move: %v", err)
	}

	// A row added to the source between the export and the drop keeps it.
	var once sync.Once
	dst.Watch(func(tenant string, exists bool) {
		once.Do(func() {
			e.exec("INSERT INTO " + tenantpath.QuoteIdentifier(e.schema("b")) + ".accounts (email, plan) VALUES ('late', 'free')")
		})
	})
	_, err = src.Move(ctx, "b", dst, migrator.DropSource())
	var mm *migrator.MoveMismatchError
	if !errors.As(err, &mm) || len(mm.Tables) != 1 || mm.Tables[0].Source != 42 || mm.Tables[0].Destination != 41 {
		t.Fatalf("move with a late write: %v", err)
	}
	if !e.schemaExists(e.schema("b")) {
		t.Fatal("the source was dropped although its counts changed")
	}
	e.exec("DELETE FROM " + tenantpath.QuoteIdentifier(e.schema("b")) + ".accounts WHERE email = 'late'")
	if err := dst.Drop(ctx, "b"); !errors.Is(err, migrator.ErrDropDisabled) {
		t.Fatal(err)
	}
	e.exec("DROP SCHEMA " + tenantpath.QuoteIdentifier(e.prefix+"d_b") + " CASCADE; DELETE FROM " +
		tenantpath.QuoteIdentifier(e.prefix+"dshared") + ".tenantpath_tenants WHERE tenant = 'b'")
	rep, err = src.Move(ctx, "b", dst, migrator.DropSource())
	if err != nil || !rep.Dropped || e.schemaExists(e.schema("b")) {
		t.Fatalf("move with DropSource: %+v, %v", rep, err)
	}
	if ids, _ := m.List(ctx); !slices.Equal(ids, []string{"a"}) {
		t.Fatalf("source tenants %v", ids)
	}
	if ids, _ := dst.List(ctx); !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("destination tenants %v", ids)
	}
}

// Export and Import hold one connection at a time: a pool of one serves.
func TestArchiveOnPoolOfOne(t *testing.T) {
	ctx := context.Background()
	e, _ := archiveEnv(t)
	db := openDB(t, "pgx")
	db.SetMaxOpenConns(1)
	m := e.migratorOn(db, archiveFS())
	if err := m.Create(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	fillArchiveTenant(t, e, "a", 16)
	var buf bytes.Buffer
	if _, err := m.Export(ctx, "a", &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Import(ctx, "b", &buf); err != nil {
		t.Fatal(err)
	}
	if a, b := tenantDigest(t, e, "a"), tenantDigest(t, e, "b"); !mapsEqual(a, b) {
		t.Fatalf("copy differs:\n%v\n%v", a, b)
	}
}
