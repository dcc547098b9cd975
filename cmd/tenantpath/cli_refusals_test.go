package main

import (
	"slices"
	"strings"
	"testing"
)

// testNamingMismatch: a forgotten --prefix is named, for status too, and
// exits 1 (not status --check's 4).
func testNamingMismatch(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a", "b")
	before := c.versionRows(c.prefix+"a", c.prefix+"b")
	for _, args := range [][]string{{"status"}, {"status", "--check"}, {"migrate", "tenants"}, {"tenants", "list"}} {
		full := append([]string{"--dir", c.dir, "--shared-schemas", c.prefix + "shared,public"}, args...)
		code, _, errs := c.exec(t, full...)
		if code != exitFailure || !strings.Contains(errs, "did you forget --prefix "+c.prefix+"?") {
			t.Errorf("%q without --prefix: exit %d, stderr %q", args, code, errs)
		}
	}
	if after := c.versionRows(c.prefix+"a", c.prefix+"b"); !slices.Equal(before, after) {
		t.Fatalf("versions changed: %v -> %v", before, after)
	}
}

func testUnknownTenants(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a")
	c.write("tenant_migrations/0002_n.up.sql", "ALTER TABLE users ADD COLUMN n int;\n")
	before := c.versionRows(c.prefix + "a")
	for _, args := range [][]string{
		{"migrate", "tenants", "--only", "a,nope"},
		{"migrate", "tenants", "--except", "nope"},
		{"status", "--only", "nope"},
		{"rollback", "tenants", "--steps", "1", "--only", "nope"},
	} {
		code, _, errs := c.run(args...)
		if code != exitUsage || !strings.Contains(errs, "not tenants: nope") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
	}
	if after := c.versionRows(c.prefix + "a"); !slices.Equal(before, after) {
		t.Fatalf("versions changed: %v -> %v", before, after)
	}
}

func testNoTenantsFound(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "a")
	q := `SELECT id FROM "` + c.prefix + `shared".organisations` // empty
	for _, args := range [][]string{{"status"}, {"migrate", "tenants"}} {
		code, _, errs := c.run(append(args, "--tenants-query", q)...)
		if code != exitFailure || !strings.Contains(errs, "listed no tenants") || !strings.Contains(errs, c.prefix+"a") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
	}
}

func testVerbose(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "shared")
	c.mustRun(exitOK, "tenants", "create", "t1x", "t2x")
	c.write("tenant_migrations/0002_n.up.sql", "ALTER TABLE users ADD COLUMN n int;\n")
	code, _, errs := c.run("migrate", "tenants", "--verbose")
	if code != exitOK || !strings.Contains(errs, "level=") || !strings.Contains(errs, "t1x") || !strings.Contains(errs, "t2x") {
		t.Fatalf("--verbose: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := c.run("migrate", "tenants"); code != exitOK || errs != "" {
		t.Fatalf("without --verbose: exit %d, stderr %q", code, errs)
	}
}
