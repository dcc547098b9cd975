package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func testNewMigration(t *testing.T, bin string) {
	c := newCLI(t, bin)
	// golang-migrate pairs, 4-digit sequence (the tenant folder).
	out := c.mustRun(exitOK, "new", "tenant", "add_notes")
	want := []string{filepath.Join(c.dir, "tenant_migrations", "0002_add_notes.up.sql"), filepath.Join(c.dir, "tenant_migrations", "0002_add_notes.down.sql")}
	if got := strings.Fields(out); !slices.Equal(got, want) {
		t.Fatalf("new tenant: %q, want %q", got, want)
	}
	// goose files (the shared folder), 4-digit sequence.
	out = c.mustRun(exitOK, "new", "shared", "audit-log", "--json")
	if doc := decode[map[string][]string](t, out); !slices.Equal(doc["files"], []string{filepath.Join(c.dir, "migrations", "0002_audit-log.sql")}) {
		t.Fatalf("new shared: %v", doc)
	}
	// Timestamps, 14 digits, above the newest.
	c.write("tenant_migrations/20991231235959_future.up.sql", "SELECT 1;\n")
	out = c.mustRun(exitOK, "new", "tenant", "after_future")
	if !strings.Contains(out, "21000101000000_after_future.up.sql") { // the second after 2099-12-31 23:59:59
		t.Fatalf("timestamp after the newest: %q", out)
	}
	os.Remove(filepath.Join(c.dir, "tenant_migrations", "20991231235959_future.up.sql"))
	os.Remove(strings.Fields(out)[0])
	os.Remove(strings.Fields(out)[1])

	// Refused names change nothing.
	entries := func() int {
		e, _ := os.ReadDir(filepath.Join(c.dir, "tenant_migrations"))
		return len(e)
	}
	n := entries()
	for _, bad := range []string{"add notes", "../escape", "x.up", "", "é", strings.Repeat("a", 101)} {
		code, _, errs := c.run("new", "tenant", bad)
		if code != exitUsage || !strings.Contains(errs, "migration name") {
			t.Errorf("new tenant %q: exit %d, stderr %q", bad, code, errs)
		}
	}
	if entries() != n {
		t.Fatal("a refused name wrote a file")
	}
	// The files written are valid migrations.
	c.write("tenant_migrations/0002_add_notes.up.sql", "CREATE TABLE notes (id int);\n")
	c.mustRun(exitOK, "migrate", "all")
	c.mustRun(exitOK, "tenants", "create", "a")
	if rows := c.versionRows(c.prefix+"shared", c.prefix+"a"); len(rows) != 4 {
		t.Fatalf("versions after migrating the new files: %v", rows)
	}
}

func TestNewLayout(t *testing.T) {
	dir := t.TempDir()
	write := func(names ...string) {
		for _, n := range names {
			os.WriteFile(filepath.Join(dir, n), nil, 0o644)
		}
	}
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	l, err := readLayout(filepath.Join(dir, "missing"))
	if err != nil || l.found || l.nextVersion(now) != "0001" || l.goose {
		t.Fatalf("empty: %+v %v", l, err)
	}
	write("001_a.sql", "002_b.up.sql", "002_b.down.sql", "README.md")
	if l, _ = readLayout(dir); l.goose || l.timestamp || l.nextVersion(now) != "003" {
		t.Fatalf("sequence pair: %+v", l)
	}
	write("20240101000000_c.sql")
	if l, _ = readLayout(dir); !l.goose || !l.timestamp || l.nextVersion(now) != "20250304050607" {
		t.Fatalf("timestamp goose: %+v %s", l, l.nextVersion(now))
	}
	if got := l.files("7", "x"); len(got) != 1 || got[0].name != "7_x.sql" || !strings.HasPrefix(got[0].data, "-- +goose Up\n") {
		t.Fatalf("goose file: %+v", got)
	}
}

// testFailureOutput: failures sorted by tenant and printed once, with
// PostgreSQL's DETAIL and HINT, in text and in JSON.
func testFailureOutput(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "z", "m", "a")
	c.write("tenant_migrations/0002_boom.up.sql", `DO $$ BEGIN
  IF current_schema() <> '`+c.prefix+`m' THEN
    RAISE EXCEPTION 'boom in %', current_schema() USING DETAIL = 'the detail', HINT = 'the hint';
  END IF;
END $$;
`)
	c.write("tenant_migrations/0002_boom.down.sql", "SELECT 1;\n")
	code, out, errs := c.run("migrate", "tenants", "--continue-on-error", "--parallel", "3")
	if code != exitPartial {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, s := range []string{"boom in " + c.prefix + "a", "boom in " + c.prefix + "z"} {
		if n := strings.Count(out+errs, s); n != 1 {
			t.Errorf("%q printed %d times:\n%s%s", s, n, out, errs)
		}
	}
	ia, iz := strings.Index(out, "failed: a ("), strings.Index(out, "failed: z (")
	if ia < 0 || iz < ia || strings.Count(out, "DETAIL: the detail") != 2 || strings.Count(out, "HINT: the hint") != 2 {
		t.Errorf("failures not sorted, or without DETAIL and HINT:\n%s", out)
	}
	if !strings.Contains(out, "1 tenant(s) ok, 2 failed") || errs != "tenantpath: 2 of 3 tenants failed\n" {
		t.Errorf("summary:\nstdout %s\nstderr %q", out, errs)
	}
	c.mustRun(exitOK, "rollback", "tenants", "--to", "1", "--only", "m")
	doc := decode[runDoc](t, c.mustRun(exitPartial, "migrate", "tenants", "--continue-on-error", "--json"))
	if !slices.Equal(doc.Failed, []string{"a", "z"}) {
		t.Fatalf("failed: %v", doc.Failed)
	}
	for _, r := range doc.Tenants {
		if r.Tenant != "m" && (r.Detail != "the detail" || r.Hint != "the hint" || r.SQLState != "P0001") {
			t.Errorf("JSON result without the server's details: %+v", r)
		}
	}
}

// testProgressForced: --progress draws the bar into a pipe, ends it with a
// newline, and the summary starts on a line of its own, also when the run
// stopped early.
func testProgressForced(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a", "b", "c")
	c.write("tenant_migrations/0002_n.up.sql", "ALTER TABLE users ADD COLUMN n int;\n")
	out := c.mustRun(exitOK, "migrate", "tenants", "--progress")
	if !strings.HasPrefix(out, "\r[") || !strings.Contains(out, "3/3 tenants\n3 tenant(s) ok\n") {
		t.Fatalf("forced bar: %q", out)
	}
	c.env = []string{"TENANTPATH_PROGRESS=true"}
	c.write("tenant_migrations/0003_bad.up.sql", "SELECT 1/0;\n")
	code, out, _ := c.run("migrate", "tenants", "--parallel", "1")
	if code != exitPartial || !strings.HasPrefix(out, "\r[") || !strings.Contains(out, "1 failed\n0 tenant(s) ok, 1 failed, 2 not run\n") {
		t.Fatalf("bar of a stopped run: exit %d %q", code, out)
	}
	if out := c.mustRun(exitOK, "tenants", "list", "--progress=false"); out != "a\nb\nc\n" {
		t.Fatalf("list: %q", out)
	}
}
