package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/migrator"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// cli runs the command in-process against the test server, with its own
// schema prefix and shared schema so tests never collide.
type cli struct {
	t      *testing.T
	dir    string
	dsn    string
	prefix string
	db     *sql.DB
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	c := &cli{t: t, dir: t.TempDir(), dsn: pgtest.DSN(t), prefix: pgtest.UniquePrefix(t)}
	db, err := sql.Open("pgx", c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.db = db
	c.write("migrations/0001_orgs.sql", "-- +goose Up\nCREATE TABLE organisations (id text PRIMARY KEY);\n-- +goose Down\nDROP TABLE organisations;\n")
	c.write("tenant_migrations/0001_users.up.sql", "CREATE TABLE users (id serial PRIMARY KEY, email text);\n")
	c.write("tenant_migrations/0001_users.down.sql", "DROP TABLE users;\n")
	return c
}

func (c *cli) write(name, data string) {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// run runs the command with the test's connection and naming flags; the
// database comes from DATABASE_URL, as a deployment would pass it.
func (c *cli) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"--dir", c.dir, "--prefix", c.prefix, "--shared-schemas", c.prefix + "shared,public"}, args...)
	env := func(k string) string {
		if k == "DATABASE_URL" {
			return c.dsn
		}
		return ""
	}
	code = run(context.Background(), full, &out, &errb, env)
	return code, out.String(), errb.String()
}

func (c *cli) mustRun(want int, args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(args...)
	if code != want {
		c.t.Fatalf("tenantpath %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, s)
	}
	return v
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"migrate"},
		{"migrate", "everything"},
		{"rollback", "tenants"},
		{"rollback", "tenants", "--steps", "1", "--to", "0"},
		{"tenants", "drop", "1"},
		{"tenants", "rename", "1"},
		{"--no-such-flag", "status"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"--database-url", "postgres://unused"}, args...), &out, &errb, func(string) string { return "" })
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %s)", args, code, exitUsage, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"status"}, &out, &errb, func(string) string { return "" }); code != exitUsage ||
		!strings.Contains(errb.String(), "DATABASE_URL") {
		t.Errorf("no database: exit %d, stderr %q", code, errb.String())
	}
	if code := run(context.Background(), []string{"--database-url", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2", "status"}, &out, &errb, func(string) string { return "" }); code != exitFailure {
		t.Errorf("unreachable server: exit %d, want %d", code, exitFailure)
	}
}

func TestLifecycleAndMigrate(t *testing.T) {
	c := newCLI(t)
	shared := decode[map[string]resultJSON](t, c.mustRun(exitOK, "migrate", "shared", "--json"))
	if shared["shared"].To != 1 || shared["shared"].Schema != c.prefix+"shared" {
		t.Fatalf("migrate shared: %+v", shared)
	}
	c.mustRun(exitOK, "tenants", "create", "a", "b", "c")
	out := c.mustRun(exitPartial, "tenants", "create", "c", "d")
	if !strings.Contains(out, "FAIL create c") || !strings.Contains(out, "ok   create d") {
		t.Fatalf("create c d:\n%s", out)
	}
	list := decode[map[string][]string](t, c.mustRun(exitOK, "tenants", "list", "--json"))
	if !slices.Equal(list["tenants"], []string{"a", "b", "c", "d"}) {
		t.Fatalf("list: %v", list)
	}

	// A new migration that fails in tenant b only.
	c.write("tenant_migrations/0002_nick.up.sql", "ALTER TABLE users ADD COLUMN nickname text;\n")
	c.write("tenant_migrations/0002_nick.down.sql", "ALTER TABLE users DROP COLUMN nickname;\n")
	if _, err := c.db.Exec("ALTER TABLE " + tenantpath.QuoteIdentifier(c.prefix+"b") + ".users ADD COLUMN nickname int"); err != nil {
		t.Fatal(err)
	}
	type runDoc struct {
		Tenants []resultJSON `json:"tenants"`
		Failed  []string     `json:"failed"`
		Skipped []string     `json:"skipped"`
		Error   string       `json:"error"`
	}
	doc := decode[runDoc](t, c.mustRun(exitPartial, "migrate", "tenants", "--continue-on-error", "--parallel", "2", "--json"))
	if !slices.Equal(doc.Failed, []string{"b"}) || len(doc.Tenants) != 4 || doc.Error == "" {
		t.Fatalf("migrate tenants: %+v", doc)
	}
	type statusDoc struct {
		Shared  statusJSON   `json:"shared"`
		Tenants []statusJSON `json:"tenants"`
	}
	st := decode[statusDoc](t, c.mustRun(exitOK, "status", "--json"))
	var behind []string
	for _, s := range st.Tenants {
		if !s.UpToDate {
			behind = append(behind, s.Tenant)
		}
	}
	if !st.Shared.UpToDate || !slices.Equal(behind, []string{"b"}) {
		t.Fatalf("status: %+v", st)
	}
	// Plain text, not a terminal: one line per tenant, no progress bar.
	out = c.mustRun(exitOK, "migrate", "all", "--except", "b")
	if strings.Contains(out, "\r") || !strings.Contains(out, "ok   (shared)") || !strings.Contains(out, "3 tenant(s) ok") {
		t.Fatalf("migrate all --except b:\n%q", out)
	}
	c.mustRun(exitOK, "rollback", "tenants", "--steps", "1", "--only", "a")
	if s := decode[statusDoc](t, c.mustRun(exitOK, "status", "--json", "--only", "a")); len(s.Tenants) != 1 || s.Tenants[0].Version != 1 {
		t.Fatalf("after rollback: %+v", s)
	}

	c.mustRun(exitOK, "tenants", "rename", "d", "e")
	c.mustRun(exitFailure, "tenants", "rename", "d", "f")
	c.mustRun(exitOK, "tenants", "check")
	if _, err := c.db.Exec("CREATE SCHEMA " + tenantpath.QuoteIdentifier(c.prefix+"stray")); err != nil {
		t.Fatal(err)
	}
	chk := decode[map[string]any](t, c.mustRun(exitFailure, "tenants", "check", "--json"))
	if chk["ok"] != false || !strings.Contains(c.mustRun(exitFailure, "tenants", "check"), c.prefix+"stray") {
		t.Fatalf("check: %v", chk)
	}
	c.mustRun(exitOK, "tenants", "drop", "--yes", "e")
	list = decode[map[string][]string](t, c.mustRun(exitOK, "tenants", "list", "--json"))
	if !slices.Equal(list["tenants"], []string{"a", "b", "c"}) {
		t.Fatalf("list after drop: %v", list)
	}
	c.mustRun(exitFailure, "tenants", "drop", "--yes", "e")
}

func TestSharedFailureExitCode(t *testing.T) {
	c := newCLI(t)
	c.mustRun(exitOK, "migrate", "all")
	c.mustRun(exitOK, "tenants", "create", "x")
	c.write("migrations/0002_bad.sql", "-- +goose Up\nSELECT 1/0;\n")
	c.write("tenant_migrations/0002_n.up.sql", "ALTER TABLE users ADD COLUMN n int;\n")
	code, out, errs := c.run("migrate", "all")
	if code != exitFailure || !strings.Contains(errs, "no tenant was migrated") || !strings.Contains(out, "FAIL (shared)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	// An unparsable file fails before anything runs.
	c.write("tenant_migrations/notes.sql", "SELECT 1;\n")
	if code, _, errs := c.run("migrate", "tenants"); code != exitFailure || !strings.Contains(errs, "notes.sql") {
		t.Fatalf("bad file: exit %d, %s", code, errs)
	}
}

func TestTenantsQuery(t *testing.T) {
	c := newCLI(t)
	c.mustRun(exitOK, "migrate", "shared")
	orgs := tenantpath.QuoteIdentifier(c.prefix+"shared") + ".organisations"
	if _, err := c.db.Exec("INSERT INTO " + orgs + " VALUES ('p'), ('q')"); err != nil {
		t.Fatal(err)
	}
	q := "SELECT id FROM " + orgs
	c.mustRun(exitOK, "tenants", "create", "p", "q", "--tenants-query", q)
	list := decode[map[string][]string](t, c.mustRun(exitOK, "tenants", "list", "--json", "--tenants-query", q))
	if !slices.Equal(list["tenants"], []string{"p", "q"}) {
		t.Fatalf("list: %v", list)
	}
	c.write("tenant_migrations/0002_n.up.sql", "ALTER TABLE users ADD COLUMN n int;\n")
	doc := decode[map[string]any](t, c.mustRun(exitOK, "migrate", "tenants", "--json", "--tenants-query", q))
	if ts, _ := doc["tenants"].([]any); len(ts) != 2 {
		t.Fatalf("migrate: %v", doc)
	}
}

func TestProgressOutput(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) || isTerminal(&bytes.Buffer{}) {
		t.Fatal("a file or a buffer taken for a terminal")
	}
	if dev, err := os.Open(os.DevNull); err == nil {
		defer dev.Close()
		if !isTerminal(dev) { // a character device, as a terminal is
			t.Fatal("character device not detected")
		}
	}

	var tty bytes.Buffer
	p := &printer{w: &tty, tty: true}
	for i := 1; i <= 4; i++ {
		r := migrator.Result{Tenant: strconv.Itoa(i), Schema: "org_" + strconv.Itoa(i)}
		if i == 2 {
			r.Err = errors.New("boom")
		}
		p.progress(migrator.Progress{Done: i, Total: 4, Failed: min(i/2, 1), Last: r})
	}
	out := tty.String()
	if !strings.HasPrefix(out, "\r[") || !strings.Contains(out, "4/4 tenants, 1 failed") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("terminal progress: %q", out)
	}

	var plain bytes.Buffer
	p = &printer{w: &plain}
	p.progress(migrator.Progress{Done: 1, Total: 2, Last: migrator.Result{Tenant: "a", Schema: "org_a", From: 1, To: 2}})
	p.progress(migrator.Progress{Done: 2, Total: 2, Failed: 1, Last: migrator.Result{Tenant: "b", Schema: "org_b", Err: errors.New("boom")}})
	if got := plain.String(); strings.Contains(got, "\r") || !strings.Contains(got, "ok   a (org_a): 1 -> 2") || !strings.Contains(got, "FAIL b (org_b): boom") {
		t.Fatalf("plain progress: %q", got)
	}
}
