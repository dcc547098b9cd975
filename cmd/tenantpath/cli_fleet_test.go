package main

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
)

type execDoc struct {
	Tenants []struct {
		Tenant   string   `json:"tenant"`
		Schema   string   `json:"schema"`
		Columns  []string `json:"columns"`
		Rows     [][]any  `json:"rows"`
		Error    string   `json:"error"`
		SQLState string   `json:"sqlstate"`
	} `json:"tenants"`
	Failed []string `json:"failed"`
	Error  string   `json:"error"`
}

// users inserts rows into a tenant's users table.
func (c *cli) users(tenant string, emails ...string) {
	c.t.Helper()
	for _, e := range emails {
		if _, err := c.db.Exec("INSERT INTO "+tenantpath.QuoteIdentifier(c.prefix+tenant)+".users (email) VALUES ($1)", e); err != nil {
			c.t.Fatal(err)
		}
	}
}

func (c *cli) countUsers(tenant string) int {
	c.t.Helper()
	var n int
	if err := c.db.QueryRow("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(c.prefix+tenant) + ".users").Scan(&n); err != nil {
		c.t.Fatal(err)
	}
	return n
}

func testExec(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a", "b")
	c.users("a", "a1@x", "a2@x")
	c.users("b", "b1@x")

	doc := decode[execDoc](t, c.mustRun(exitOK, "exec", "SELECT id, email, '\\x00ff'::bytea AS raw FROM users ORDER BY id", "--json"))
	if len(doc.Tenants) != 2 || doc.Tenants[0].Tenant != "a" || len(doc.Tenants[0].Rows) != 2 || len(doc.Tenants[1].Rows) != 1 ||
		!slices.Equal(doc.Tenants[0].Columns, []string{"id", "email", "raw"}) || doc.Tenants[1].Rows[0][1] != "b1@x" ||
		doc.Tenants[0].Rows[1][2] != `\x00ff` || doc.Tenants[1].Schema != c.prefix+"b" {
		t.Fatalf("exec --json: %+v", doc)
	}
	out := c.mustRun(exitOK, "exec", "SELECT email FROM users ORDER BY id", "--only", "b")
	if !strings.Contains(out, "== b ("+c.prefix+"b): 1 row(s)\nemail\nb1@x\n") || strings.Contains(out, "a1@x") || !strings.Contains(out, "1 tenant(s) ok") {
		t.Fatalf("exec --only b:\n%s", out)
	}

	// Read only unless --write: the server refuses, every tenant says so.
	insert := "INSERT INTO users (email) VALUES ('new@x') RETURNING id"
	doc = decode[execDoc](t, c.mustRun(exitPartial, "exec", insert, "--json", "--continue-on-error"))
	if !slices.Equal(doc.Failed, []string{"a", "b"}) || doc.Tenants[0].SQLState != "25006" || doc.Error == "" {
		t.Fatalf("a write without --write: %+v", doc)
	}
	if c.countUsers("a") != 2 || c.countUsers("b") != 1 {
		t.Fatal("a write without --write changed a tenant")
	}
	doc = decode[execDoc](t, c.mustRun(exitOK, "exec", insert, "--write", "--json"))
	if len(doc.Tenants) != 2 || len(doc.Tenants[0].Rows) != 1 || c.countUsers("a") != 3 || c.countUsers("b") != 2 {
		t.Fatalf("exec --write: %+v", doc)
	}
	code, out, _ := c.run("exec", "SELECT nope FROM users", "--only", "a")
	if code != exitPartial || !strings.Contains(out, "failed: a ("+c.prefix+"a)") || !strings.Contains(out, `column "nope" does not exist`) {
		t.Fatalf("a failing statement: exit %d\n%s", code, out)
	}
	if code, _, errs := c.run("status", "--write"); code != exitUsage || !strings.Contains(errs, "--write is for exec") {
		t.Fatalf("--write elsewhere: exit %d, %s", code, errs)
	}
}

func testSparesCLI(t *testing.T, bin string) {
	c := newCLI(t, bin)
	t.Cleanup(func() { c.run("tenants", "spares", "0") })
	c.mustRun(exitOK, "migrate", "shared")
	if out := c.mustRun(exitOK, "tenants", "spares", "2"); !strings.Contains(out, "2 spare(s) ready: 2 created") {
		t.Fatalf("tenants spares 2:\n%s", out)
	}
	c.mustRun(exitOK, "tenants", "create", "a")
	doc := decode[map[string]any](t, c.mustRun(exitOK, "tenants", "spares", "2", "--json"))
	if doc["ready"] != 2.0 || doc["created"] != 1.0 {
		t.Fatalf("after a create took a spare: %v", doc)
	}
	if list := decode[map[string][]string](t, c.mustRun(exitOK, "tenants", "list", "--json")); !slices.Equal(list["tenants"], []string{"a"}) {
		t.Fatalf("spares listed as tenants: %v", list)
	}
	c.mustRun(exitOK, "tenants", "check")
	if code, _, errs := c.run("tenants", "spares", "many"); code != exitUsage || !strings.Contains(errs, "N must be") {
		t.Fatalf("spares many: exit %d, %s", code, errs)
	}
	if out := c.mustRun(exitOK, "tenants", "spares", "0"); !strings.Contains(out, "0 spare(s) ready: 0 created, 0 migrated, 2 dropped") {
		t.Fatalf("tenants spares 0:\n%s", out)
	}
}

func testExportImportCLI(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a")
	c.users("a", "a1@x", "a2@x", "tab\there")
	file := filepath.Join(t.TempDir(), "a.tpa")
	out := c.mustRun(exitOK, "tenants", "export", "a", file)
	if !strings.Contains(out, "ok   export a to "+file+": version 1, 1 table(s), 3 row(s), 1 sequence(s)") {
		t.Fatalf("export:\n%s", out)
	}
	out = c.mustRun(exitOK, "tenants", "import", "b", file)
	if !strings.Contains(out, "ok   import b from "+file+": version 1, 1 table(s), 3 row(s)") || !strings.Contains(out, "(exported as a)") || c.countUsers("b") != 3 {
		t.Fatalf("import:\n%s", out)
	}
	// Through stdout: the archive on stdout, the summary on stderr.
	code, archive, errs := c.run("tenants", "export", "b", "-", "--json")
	if code != exitOK || !strings.Contains(errs, `"rows": 3`) || len(archive) < 20 || archive[0] != 0x1f {
		t.Fatalf("export to stdout: exit %d, stderr %s", code, errs)
	}
	cmd := exec.Command(c.bin, "--dir", c.dir, "--prefix", c.prefix, "--shared-schemas", c.prefix+"shared,public", "tenants", "import", "c", "-")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + c.dsn}
	cmd.Stdin = strings.NewReader(archive)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "ok   import c from -") {
		t.Fatalf("import from stdin: %v\n%s", err, out)
	}
	if c.countUsers("c") != 3 {
		t.Fatal("the archive written to stdout and read from stdin lost rows")
	}
	if err := os.WriteFile(file, []byte(archive), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := c.run("tenants", "import", "c", file); code != exitFailure || !strings.Contains(errs, "already exists") {
		t.Fatalf("import over c: exit %d, %s", code, errs)
	}

	// An archive newer than the files is refused.
	c.write("tenant_migrations/0002_nick.up.sql", "ALTER TABLE users ADD COLUMN nick text;\n")
	c.mustRun(exitOK, "migrate", "tenants")
	c.mustRun(exitOK, "tenants", "export", "a", file)
	os.Remove(filepath.Join(c.dir, "tenant_migrations", "0002_nick.up.sql"))
	code, _, errs = c.run("tenants", "import", "d", file)
	if code != exitFailure || !strings.Contains(errs, "do not reproduce") || !strings.Contains(errs, "[2]") {
		t.Fatalf("import of a newer archive: exit %d, %s", code, errs)
	}
	if code, _, errs := c.run("tenants", "export", "nope", file); code != exitFailure || !strings.Contains(errs, "nope") {
		t.Fatalf("export of an unknown tenant: exit %d, %s", code, errs)
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Fatalf("a failed export left files behind: %v", entries)
	}
}

func testMoveCLI(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a", "b")
	c.users("a", "a1@x")
	c.users("b", "b1@x", "b2@x")
	other := c.otherDatabase()
	c.mustRun(exitOK, "migrate", "shared", "--database-url", other)
	if code, _, errs := c.run("tenants", "move", "a"); code != exitUsage || !strings.Contains(errs, "--to URL") {
		t.Fatalf("move without --to: exit %d, %s", code, errs)
	}
	out := c.mustRun(exitOK, "tenants", "move", "a", "--to", other)
	if !strings.Contains(out, "users  1         1            1") || !strings.Contains(out, "the source was kept") {
		t.Fatalf("move a:\n%s", out)
	}
	doc := decode[map[string]any](t, c.mustRun(exitOK, "tenants", "move", "b", "--to", other, "--yes", "--json"))
	if doc["source_dropped"] != true {
		t.Fatalf("move b --yes: %v", doc)
	}
	if list := decode[map[string][]string](t, c.mustRun(exitOK, "tenants", "list", "--json")); !slices.Equal(list["tenants"], []string{"a"}) {
		t.Fatalf("source tenants after the moves: %v", list)
	}
	list := decode[map[string][]string](t, c.mustRun(exitOK, "tenants", "list", "--json", "--database-url", other))
	if !slices.Equal(list["tenants"], []string{"a", "b"}) {
		t.Fatalf("destination tenants: %v", list)
	}
	doc = decode[map[string]any](t, c.mustRun(exitOK, "exec", "SELECT count(*) AS n FROM users", "--json", "--database-url", other, "--only", "b"))
	if fmt.Sprint(doc["tenants"]) != fmt.Sprintf("[map[columns:[n] rows:[[2]] schema:%sb tenant:b]]", c.prefix) {
		t.Fatalf("moved rows: %v", doc)
	}
	if code, _, errs := c.run("tenants", "move", "a", "--to", other); code != exitFailure || !strings.Contains(errs, "already exists") {
		t.Fatalf("second move of a: exit %d, %s", code, errs)
	}
}

// otherDatabase creates a database on the test server for the test and
// returns its URL.
func (c *cli) otherDatabase() string {
	c.t.Helper()
	name := strings.TrimSuffix(c.prefix, "_") + "_other"
	if _, err := c.db.Exec("CREATE DATABASE " + tenantpath.QuoteIdentifier(name)); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { c.db.Exec("DROP DATABASE " + tenantpath.QuoteIdentifier(name) + " WITH (FORCE)") })
	u, err := url.Parse(c.dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func testCheckShadowed(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a")
	if _, err := c.db.Exec("CREATE TABLE " + tenantpath.QuoteIdentifier(c.prefix+"shared") + ".users (id int)"); err != nil {
		t.Fatal(err)
	}
	out := c.mustRun(exitFailure, "tenants", "check")
	if !strings.Contains(out, "shared table shadows tenant tables: "+c.prefix+"shared.users (in 1 tenant(s)") {
		t.Fatalf("check:\n%s", out)
	}
	doc := decode[map[string]any](t, c.mustRun(exitFailure, "tenants", "check", "--json"))
	if fmt.Sprint(doc["shadowed_tables"]) != fmt.Sprintf("[map[schema:%sshared table:users tenants:1]]", c.prefix) {
		t.Fatalf("check --json: %v", doc)
	}
}
