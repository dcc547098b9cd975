package migrator_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
)

// Edge cases of the fleet operations (Export, Import, Move), found by an
// adversarial review. Tests marked "FAILS today" show a problem of the
// current code; the others pin behaviour that holds.

// edgeCtx bounds a test, so a hang fails instead of stalling the run.
func edgeCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rezip returns archive with its uncompressed text rewritten by edit.
func rezip(t *testing.T, archive []byte, edit func(string) string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	edited := edit(string(text))
	if edited == string(text) {
		t.Fatal("rezip: the edit changed nothing")
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write([]byte(edited))
	zw.Close()
	return out.Bytes()
}

func (e *env) importSchemasLeft() int {
	e.t.Helper()
	return e.count(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenantpath\_import\_%'`)
}

// seededFS is a tenant schema whose migration writes rows, as migrations
// that seed defaults (roles, settings) do: one table without a key, one
// with a primary key.
func seededFS() map[string]string {
	return map[string]string{
		"migrations/0001_base.up.sql": "CREATE TABLE plans (id text PRIMARY KEY);",
		"tenant_migrations/0001_settings.up.sql": `CREATE TABLE settings (k text NOT NULL, v text);
INSERT INTO settings VALUES ('theme', 'light');`,
	}
}

// An import of a tenant whose migrations seed rows holds the archive's rows
// only: the staging schema is built by the migrations, and its tables are
// emptied before the archive's rows are loaded, so a table without a key
// does not end up with the seeded rows twice.
func TestFleetImportSeededRowsDoubled(t *testing.T) {
	ctx := edgeCtx(t)
	e := newEnv(t)
	m, buf := exportedSource(ctx, t, e, fstestOf(seededFS()), func(src string) string { return "UPDATE " + src + ".settings SET v = 'dark'" })
	if _, err := m.Import(ctx, "copy", buf); err != nil {
		t.Fatalf("Import: %v", err)
	}
	var rows []string
	r, err := e.db.QueryContext(ctx, "SELECT k || '=' || v FROM "+tenantpath.QuoteIdentifier(e.schema("copy"))+".settings ORDER BY v")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var s string
		r.Scan(&s)
		rows = append(rows, s)
	}
	if len(rows) != 1 || rows[0] != "theme=dark" {
		t.Fatalf("the imported tenant's settings are %v, the source's [theme=dark]", rows)
	}
}

// The same with a keyed table: the import of a tenant whose migrations
// seed a keyed table does not fail with a duplicate key.
func TestFleetImportSeededKeyedTable(t *testing.T) {
	ctx := edgeCtx(t)
	e := newEnv(t)
	files := seededFS()
	files["tenant_migrations/0001_settings.up.sql"] = `CREATE TABLE roles (name text PRIMARY KEY);
INSERT INTO roles VALUES ('admin'), ('member');`
	m, buf := exportedSource(ctx, t, e, fstestOf(files))
	if _, err := m.Import(ctx, "copy", buf); err != nil {
		t.Fatalf("Import of a whole archive: %v", err)
	}
	if n := e.count("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.schema("copy")) + ".roles"); n != 2 {
		t.Fatalf("%d roles imported, want 2", n)
	}
}

// Move of a tenant with table inheritance verifies: COPY moves a parent's
// own rows, and the counts compared are of the parent's own rows (FROM
// ONLY), not of the parent with its children.
func TestFleetMoveInheritedTable(t *testing.T) {
	ctx := edgeCtx(t)
	e := newEnv(t)
	files := fstestOf(map[string]string{
		"migrations/0001_base.up.sql": "CREATE TABLE plans (id text PRIMARY KEY);",
		"tenant_migrations/0001_events.up.sql": `CREATE TABLE events (id bigint PRIMARY KEY, kind text);
CREATE TABLE special_events (extra text) INHERITS (events);`,
	})
	src := e.migrator(files, migrator.WithDrop(nil))
	if _, err := src.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	dst, err := migrator.New(e.db, files, tenantpath.Naming{Prefix: e.prefix + "d_", Shared: []string{e.prefix + "dshared"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	if err := src.Create(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	s := tenantpath.QuoteIdentifier(e.schema("a"))
	e.exec(fmt.Sprintf("INSERT INTO %[1]s.events VALUES (1, 'x'), (2, 'y'); INSERT INTO %[1]s.special_events VALUES (3, 'z', 'e')", s))
	rep, err := src.Move(ctx, "a", dst, migrator.DropSource())
	if err != nil {
		t.Fatalf("Move of a quiescent tenant: %v (counts %+v)", err, rep.Counts)
	}
	if !rep.Dropped || e.schemaExists(e.schema("a")) {
		t.Fatalf("source not dropped: %+v", rep)
	}
	if n := e.count("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.prefix+"d_a") + ".events"); n != 3 {
		t.Fatalf("destination holds %d events, want 3", n)
	}
}

// An archive whose COPY data does not fit its own header (a row with a
// column too many, a value of the wrong type) is refused with an
// ArchiveError (errors.Is(err, ErrInvalidArchive)), the server's error
// inside it, and nothing is left.
func TestFleetImportBadCopyDataIsInvalidArchive(t *testing.T) {
	ctx := edgeCtx(t)
	e := newEnv(t)
	m, buf := exportedSource(ctx, t, e, basicFS(), func(src string) string { return "INSERT INTO " + src + ".users (email) VALUES ('a@x'), ('b@x')" })
	for name, edit := range map[string]func(string) string{
		"extra column": func(s string) string { return strings.Replace(s, "\ta@x\n", "\ta@x\tsurplus\n", 1) },
		"bad integer":  func(s string) string { return strings.Replace(s, "1\ta@x\n", "one\ta@x\n", 1) },
	} {
		bad := rezip(t, buf.Bytes(), edit)
		_, err := m.Import(ctx, "x", bytes.NewReader(bad))
		if err == nil {
			t.Fatalf("%s: imported", name)
		}
		if e.schemaExists(e.schema("x")) || e.importSchemasLeft() != 0 {
			t.Fatalf("%s: a refused import left a schema", name)
		}
		if !errors.Is(err, migrator.ErrInvalidArchive) {
			t.Errorf("%s: error %v does not match ErrInvalidArchive", name, err)
		}
	}
}

// A tampered header naming a table the local migrations do not make
// at that version, or a column they do not make, is an ArchiveError, and
// nothing is created.
func TestFleetImportTamperedHeader(t *testing.T) {
	ctx := edgeCtx(t)
	e := newEnv(t)
	m, buf := exportedSource(ctx, t, e, basicFS())
	for name, edit := range map[string]func(string) string{
		"unknown table": func(s string) string {
			return strings.Replace(s, `{"name":"posts","columns"`, `{"name":"ghosts","columns"`, 1)
		},
		"unknown column": func(s string) string {
			return strings.Replace(s, `"columns":["id","email"]`, `"columns":["id","mail"]`, 1)
		},
	} {
		_, err := m.Import(ctx, "x", bytes.NewReader(rezip(t, buf.Bytes(), edit)))
		var ae *migrator.ArchiveError
		if !errors.As(err, &ae) {
			t.Errorf("%s: %v", name, err)
		}
		if e.schemaExists(e.schema("x")) || e.importSchemasLeft() != 0 {
			t.Fatalf("%s: a refused import left a schema", name)
		}
	}
}

// An import failing late (a foreign key to a shared row the
// destination lacks, checked when the keys are added back) makes Move fail
// with DropSource: the source is kept whole, the destination has no tenant
// and no staging schema.
func TestFleetMoveImportFailsKeepsSource(t *testing.T) {
	ctx := edgeCtx(t)
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
	e.exec("DELETE FROM " + tenantpath.QuoteIdentifier(e.prefix+"dshared") + ".plans WHERE id = 'pro'")
	if err := m.Create(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	fillArchiveTenant(t, e, "a", 16)
	want := tenantDigest(t, e, "a")
	rep, err := src.Move(ctx, "a", dst, migrator.DropSource())
	if err == nil || rep.Dropped {
		t.Fatalf("Move = %+v, %v", rep, err)
	}
	if got := tenantDigest(t, e, "a"); !mapsEqual(got, want) {
		t.Fatal("the source changed")
	}
	if e.schemaExists(e.prefix+"d_a") || e.importSchemasLeft() != 0 {
		t.Fatal("the failed move left a schema in the destination")
	}
	if ids, _ := dst.List(ctx); len(ids) != 0 {
		t.Fatalf("destination lists %v", ids)
	}
}

// Import and Create of the same id at once: exactly one wins, the
// other gets ErrTenantExists, the registry lists the tenant once and no
// staging schema is left.
func TestFleetImportRacesCreate(t *testing.T) {
	ctx := edgeCtx(t)
	e := newEnv(t)
	m, buf := exportedSource(ctx, t, e, basicFS(), func(src string) string { return "INSERT INTO " + src + ".users (email) VALUES ('a@x')" })
	for i := range 4 {
		id := fmt.Sprint("x", i)
		var wg sync.WaitGroup
		var ierr, cerr error
		wg.Add(2)
		go func() { defer wg.Done(); _, ierr = m.Import(ctx, id, bytes.NewReader(buf.Bytes())) }()
		go func() { defer wg.Done(); cerr = m.Create(ctx, id) }()
		wg.Wait()
		if (ierr == nil) == (cerr == nil) {
			t.Fatalf("%s: import %v, create %v: want exactly one to win", id, ierr, cerr)
		}
		if lost := errors.Join(ierr, cerr); !errors.Is(lost, migrator.ErrTenantExists) {
			t.Fatalf("%s: the loser's error %v", id, lost)
		}
		if n := e.count("SELECT count(*) FROM "+tenantpath.QuoteIdentifier(e.shared())+".tenantpath_tenants WHERE tenant = $1", id); n != 1 {
			t.Fatalf("%s registered %d times", id, n)
		}
	}
	if e.importSchemasLeft() != 0 {
		t.Fatal("staging schemas left")
	}
}

// A CHECK constraint added NOT VALID (the usual way to add one to a table
// with legacy rows without a long lock) does not stop the import of the
// tenant's own archive: it is set aside for the load and added back NOT
// VALID, as it was.
func TestFleetImportNotValidCheck(t *testing.T) {
	ctx := edgeCtx(t)
	e := newEnv(t)
	v1 := fstestOf(map[string]string{
		"migrations/0001_base.up.sql":         "CREATE TABLE plans (id text PRIMARY KEY);",
		"tenant_migrations/0001_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);",
	})
	m1 := e.migrator(v1)
	if _, err := m1.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m1.Create(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	e.exec("INSERT INTO " + tenantpath.QuoteIdentifier(e.schema("src")) + ".users VALUES (1, 'Legacy@X')")
	m2 := e.migrator(withFile(v1, "tenant_migrations/0002_lower.up.sql",
		"ALTER TABLE users ADD CONSTRAINT email_lower CHECK (email = lower(email)) NOT VALID;"))
	if _, err := m2.MigrateTenants(ctx); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m2.Export(ctx, "src", &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Import(ctx, "copy", &buf); err != nil {
		t.Fatalf("Import of the tenant's own archive: %v", err)
	}
	if n := e.count("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.schema("copy")) + ".users"); n != 1 {
		t.Fatalf("%d users imported, want 1", n)
	}
}

// Create and CreateTx racing EnsureSpares that tops the pool up and
// empties it: every tenant is created once, complete (at every version)
// and registered, and the registry and the schemas agree.
func TestFleetCreatesRaceSpares(t *testing.T) {
	ctx := edgeCtx(t)
	e, m := spareEnv(t, basicFS())
	if _, err := m.EnsureSpares(ctx, 3); err != nil {
		t.Fatal(err)
	}
	const creates = 8
	var wg sync.WaitGroup
	errs := make(chan error, creates+4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := m.EnsureSpares(ctx, []int{0, 4, 0, 2}[i])
			errs <- err
		}()
	}
	for i := range creates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("t", i)
			if i%2 == 0 {
				errs <- inTx(ctx, e.db, func(tx *sql.Tx) error { return m.CreateTx(ctx, tx, id) })
				return
			}
			errs <- m.Create(ctx, id)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ids, err := m.List(ctx)
	if err != nil || len(ids) != creates {
		t.Fatalf("List = %v, %v", ids, err)
	}
	for _, id := range ids {
		if !equal(e.versions(e.schema(id)), []int64{1, 2}) {
			t.Fatalf("%s at %v", id, e.versions(e.schema(id)))
		}
	}
	if n := e.count(`SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, $1) AND nspname <> $2`, e.prefix, e.shared()); n != creates {
		t.Fatalf("%d tenant schemas, %d tenants", n, creates)
	}
}

// ForEachTenant with Write while one tenant is renamed back and
// forth: fn always runs on its own tenant's schema (never on a schema that
// moved to another id meanwhile); a tenant renamed away fails with
// ErrUnknownTenant.
func TestFleetForEachTenantRenameChurn(t *testing.T) {
	ctx := edgeCtx(t)
	e := newEnv(t)
	m := e.migrator(basicFS())
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := m.Create(ctx, fmt.Sprint("t", i)); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	churned := make(chan error, 1)
	go func() {
		var err error
		for n := 0; err == nil; n++ {
			select {
			case <-stop:
				churned <- nil
				return
			default:
			}
			if n%2 == 0 {
				err = m.Rename(ctx, "t0", "moved")
			} else {
				err = m.Rename(ctx, "moved", "t0")
			}
		}
		churned <- err
	}()
	var wrong []string
	var mu sync.Mutex
	for range 10 {
		_, err := m.ForEachTenant(ctx, func(ctx context.Context, tenant string, tx *sql.Tx) error {
			var cur string
			if err := tx.QueryRowContext(ctx, "SELECT current_schema()").Scan(&cur); err != nil {
				return err
			}
			time.Sleep(2 * time.Millisecond)
			if cur != e.schema(tenant) {
				mu.Lock()
				wrong = append(wrong, tenant+" ran on "+cur)
				mu.Unlock()
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO users (email) VALUES ($1)", tenant+fmt.Sprint(time.Now().UnixNano()))
			return err
		}, migrator.Write(), migrator.Workers(3), migrator.ContinueOnError())
		var pe *migrator.PartialError
		if err != nil && !errors.As(err, &pe) {
			t.Fatal(err)
		}
		if pe != nil {
			for _, r := range pe.Failed {
				if !errors.Is(r.Err, tenantpath.ErrUnknownTenant) {
					t.Fatalf("%s failed: %v", r.Tenant, r.Err)
				}
			}
		}
	}
	close(stop)
	if err := <-churned; err != nil {
		t.Fatal(err)
	}
	if len(wrong) > 0 {
		t.Fatalf("work ran on the wrong schema: %v", wrong)
	}
}

// IDs at the edge of the naming rules. An import into an id whose
// schema takes the full 63 bytes works; one byte more is ErrInvalidTenant
// before anything is built; a Move to a destination whose longer prefix
// makes the id too long is refused before anything is sent, and the source
// is kept.
func TestFleetIDLengthLimits(t *testing.T) {
	ctx := edgeCtx(t)
	e := newEnv(t)
	m := e.migrator(basicFS(), migrator.WithDrop(nil))
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 63-len(e.prefix))
	if err := m.Create(ctx, long); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.Export(ctx, long, &buf); err != nil {
		t.Fatal(err)
	}
	archive := buf.Bytes()
	if _, err := m.Import(ctx, long+"y", bytes.NewReader(archive)); !errors.Is(err, tenantpath.ErrInvalidTenant) {
		t.Fatalf("import into a 64-byte schema: %v", err)
	}
	long2 := strings.Repeat("z", 63-len(e.prefix))
	if _, err := m.Import(ctx, long2, bytes.NewReader(archive)); err != nil {
		t.Fatalf("import into a 63-byte schema: %v", err)
	}
	if !e.schemaExists(e.prefix+long2) || e.importSchemasLeft() != 0 {
		t.Fatal("the 63-byte import is not where it should be")
	}
	dst, err := migrator.New(e.db, basicFS(), tenantpath.Naming{Prefix: e.prefix + "dd_", Shared: []string{e.prefix + "dshared"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Move(ctx, long, dst, migrator.DropSource()); !errors.Is(err, tenantpath.ErrInvalidTenant) {
		t.Fatalf("move to a naming where the id is too long: %v", err)
	}
	if !e.schemaExists(e.schema(long)) {
		t.Fatal("the source is gone")
	}
}

// exportedSource makes a migrator on fsys, migrates the shared schema,
// creates tenant "src", runs fill's SQL on it (given src's quoted schema)
// and returns the migrator and src's archive.
func exportedSource(ctx context.Context, t *testing.T, e *env, fsys fs.FS, fill ...func(src string) string) (*migrator.Migrator, *bytes.Buffer) {
	t.Helper()
	m := e.migrator(fsys)
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	for _, f := range fill {
		e.exec(f(tenantpath.QuoteIdentifier(e.schema("src"))))
	}
	var buf bytes.Buffer
	if _, err := m.Export(ctx, "src", &buf); err != nil {
		t.Fatal(err)
	}
	return m, &buf
}
