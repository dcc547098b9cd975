package main

import (
	"slices"
	"strings"
	"testing"
)

func testRollbackTenantsNeedsYes(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a", "b")
	before := c.versionRows(c.prefix+"a", c.prefix+"b")
	for _, args := range [][]string{
		{"rollback", "tenants", "--steps", "1"},
		{"rollback", "tenants", "--to", "0", "--except", "a"},
	} {
		code, _, errs := c.run(args...)
		if code != exitUsage || !strings.Contains(errs, "--yes") {
			t.Fatalf("%q: exit %d, stderr %q", args, code, errs)
		}
	}
	if after := c.versionRows(c.prefix+"a", c.prefix+"b"); !slices.Equal(before, after) {
		t.Fatalf("refused rollback changed versions: %v -> %v", before, after)
	}
	c.mustRun(exitOK, "rollback", "tenants", "--steps", "1", "--only", "a")
	c.mustRun(exitOK, "rollback", "tenants", "--steps", "1", "--yes")
	if rows := c.versionRows(c.prefix+"a", c.prefix+"b"); len(rows) != 0 {
		t.Fatalf("after rollbacks: %v", rows)
	}
}

func testStatusCheckAndJSON(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a", "b", "c")
	c.mustRun(exitOK, "status", "--check")
	st := decode[statusDoc](t, c.mustRun(exitOK, "status", "--check", "--json"))
	if !st.UpToDate || st.Counts != (counts{Tenants: 3, UpToDate: 3}) {
		t.Fatalf("up to date: %+v", st)
	}

	// A pending migration everywhere, a changed one in c, a missing
	// schema for b.
	c.write("tenant_migrations/0002_n.up.sql", "ALTER TABLE users ADD COLUMN n int;\n")
	if _, err := c.db.Exec(`UPDATE "` + c.prefix + `c".tenantpath_migrations SET checksum = 'x'`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.Exec(`DROP SCHEMA "` + c.prefix + `b" CASCADE`); err != nil {
		t.Fatal(err)
	}
	out := c.mustRun(exitNotReady, "status", "--check")
	if !strings.Contains(out, "3 tenant(s): 0 up to date, 1 pending, 1 drifted, 1 missing") {
		t.Fatalf("status --check:\n%s", out)
	}
	c.mustRun(exitOK, "status") // without --check, reading the state is success
	st = decode[statusDoc](t, c.mustRun(exitNotReady, "status", "--check", "--json"))
	if st.UpToDate || st.Counts != (counts{Tenants: 3, Pending: 1, Drifted: 1, Missing: 1}) || !st.Shared.UpToDate {
		t.Fatalf("status --json: %+v", st)
	}
	states := map[string]string{}
	for _, s := range st.Tenants {
		states[s.Tenant] = s.State
	}
	if states["a"] != statePending || states["b"] != stateMissing || states["c"] != stateDrifted {
		t.Fatalf("states: %v", states)
	}
	// The shared schema alone can make the whole not up to date.
	c.mustRun(exitOK, "migrate", "tenants", "--only", "a")
	c.write("migrations/0002_x.sql", "-- +goose Up\nCREATE TABLE x (id int);\n")
	st = decode[statusDoc](t, c.mustRun(exitNotReady, "status", "--check", "--json", "--only", "a"))
	if st.UpToDate || st.Shared.UpToDate || st.Counts != (counts{Tenants: 1, UpToDate: 1}) {
		t.Fatalf("shared pending: %+v", st)
	}
}

type dryRunDoc struct {
	DryRun    bool   `json:"dry_run"`
	Schemas   []plan `json:"schemas"`
	WouldFail int    `json:"would_fail"`
}

func testDryRun(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a", "b")
	c.write("migrations/0002_audit.sql", "-- +goose Up\nCREATE TABLE audit (id int);\n")
	c.write("tenant_migrations/0002_notes.up.sql", "CREATE TABLE notes (id int);\n")
	c.write("tenant_migrations/0003_notes_idx.up.sql", "-- tenantpath:no-transaction\nCREATE INDEX CONCURRENTLY notes_id ON notes (id);\n")
	schemas := []string{c.prefix + "shared", c.prefix + "a", c.prefix + "b"}
	before := c.versionRows(schemas...)

	out := c.mustRun(exitOK, "migrate", "all", "--dry-run")
	for _, want := range []string{
		"(shared) (" + c.prefix + "shared): would apply 1 migration(s)\n  2 audit\n",
		"a (" + c.prefix + "a): would apply 2 migration(s)\n  2 notes\n  3 notes_idx (no transaction)\n",
		"b (" + c.prefix + "b): would apply 2 migration(s)\n",
		"dry run: 3 schema(s) to migrate, 0 up to date, 0 would fail; nothing was changed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	doc := decode[dryRunDoc](t, c.mustRun(exitOK, "migrate", "tenants", "--dry-run", "--json", "--only", "b"))
	want := []planned{{2, "notes", false}, {3, "notes_idx", true}}
	if !doc.DryRun || len(doc.Schemas) != 1 || doc.Schemas[0].Tenant != "b" || !slices.Equal(doc.Schemas[0].Apply, want) {
		t.Fatalf("dry run --json: %+v", doc)
	}
	// A schema whose applied migration changed would fail: exit 1.
	if _, err := c.db.Exec(`UPDATE "` + c.prefix + `a".tenantpath_migrations SET checksum = 'x'`); err != nil {
		t.Fatal(err)
	}
	code, out, errs := c.run("migrate", "tenants", "--dry-run")
	if code != exitFailure || !strings.Contains(out, "a ("+c.prefix+"a): would fail: an applied migration was changed") ||
		!strings.Contains(errs, "1 schema(s) would fail") {
		t.Fatalf("drifted dry run: exit %d\n%s%s", code, out, errs)
	}
	if _, err := c.db.Exec(`UPDATE "`+c.prefix+`a".tenantpath_migrations m SET checksum = encode(sha256(convert_to($1, 'UTF8')), 'hex')`,
		"CREATE TABLE users (id serial PRIMARY KEY, email text);\n"); err != nil {
		t.Fatal(err)
	}
	if after := c.versionRows(schemas...); !slices.Equal(before, after) {
		t.Fatalf("dry runs changed the version tables: %v -> %v", before, after)
	}
	// The real run does what the dry run said.
	c.mustRun(exitOK, "migrate", "all")
	if after := c.versionRows(schemas...); len(after) != len(before)+5 {
		t.Fatalf("after migrate: %v", after)
	}
	if out := c.mustRun(exitOK, "migrate", "all", "--dry-run"); !strings.Contains(out, "0 schema(s) to migrate, 3 up to date") {
		t.Fatalf("dry run after migrate:\n%s", out)
	}
}
