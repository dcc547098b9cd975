package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func testHelpAndVersion(t *testing.T, bin string) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"status", "--help"}} {
		code, out, errs := runBinary(t, bin, nil, args...)
		if code != exitOK || errs != "" {
			t.Fatalf("%q: exit %d, stderr %q", args, code, errs)
		}
		first, _, _ := strings.Cut(out, "\n")
		if !strings.HasPrefix(first, "tenantpath runs the shared and tenant migrations") {
			t.Errorf("%q: first line %q does not say what the tool is", args, first)
		}
		want := []string{"-- +goose Up", "-- +goose Down", ".up.sql", ".down.sql",
			"-- +goose NO TRANSACTION", "-- tenantpath:no-transaction", "tenantpath.toml", "DATABASE_URL"}
		for _, c := range commands {
			want = append(want, c.usage())
		}
		for _, s := range settings {
			want = append(want, "--"+s.name, s.key())
			for _, e := range s.env {
				want = append(want, "$"+e)
			}
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%q: help does not mention %q", args, w)
			}
		}
	}

	// version: the module version and Go version that go version -m reads
	// from the binary itself.
	meta, err := exec.Command(goTool(t), "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var goVersion, modVersion string
	for _, l := range strings.Split(string(meta), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && strings.HasSuffix(f[0], ":") {
			goVersion = f[1]
		}
		if len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/tenantpath/tenantpath" {
			modVersion = f[2]
		}
	}
	if goVersion == "" || modVersion == "" {
		t.Fatalf("go version -m:\n%s", meta)
	}
	code, out, _ := runBinary(t, bin, nil, "version")
	if code != exitOK || !strings.HasPrefix(out, "tenantpath "+modVersion) || !strings.Contains(out, goVersion) {
		t.Fatalf("version: exit %d, %q; want module %s and %s", code, out, modVersion, goVersion)
	}
	v := decode[map[string]string](t, mustBinary(t, bin, "version", "--json"))
	if v["version"] != modVersion || v["go"] != goVersion {
		t.Fatalf("version --json: %v", v)
	}
}

func mustBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	code, out, errs := runBinary(t, bin, nil, args...)
	if code != exitOK {
		t.Fatalf("%q: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

func testUsageErrors(t *testing.T, bin string) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"migrate"},
		{"migrate", "everything"},
		{"migrate", "all", "extra"},
		{"rollback", "tenants", "--only", "a"},
		{"rollback", "tenants", "--only", "a", "--steps", "1", "--to", "0"},
		{"rollback", "tenants", "--steps", "1"},
		{"tenants", "drop", "1"},
		{"tenants", "rename", "1"},
		{"status", "--dry-run"},
		{"migrate", "all", "--check"},
		{"--no-such-flag", "status"},
		{"--parallel", "0", "status"},
		{"new", "tenant", "add users"},
	} {
		code, _, errs := runBinary(t, bin, []string{"DATABASE_URL=postgres://unused"}, append([]string{"--dir", dir}, args...)...)
		if code != exitUsage || !strings.HasPrefix(errs, "tenantpath: ") {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, code, exitUsage, errs)
		}
	}
	code, _, errs := runBinary(t, bin, nil, "--dir", dir, "tenants", "list")
	if code != exitUsage || !strings.Contains(errs, "DATABASE_URL") {
		t.Errorf("no database: exit %d, stderr %q", code, errs)
	}
	if err := os.Mkdir(filepath.Join(dir, "tenant_migrations"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runBinary(t, bin, nil, "--dir", dir, "--database-url", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2", "tenants", "list")
	if code != exitFailure || !strings.Contains(errs, "127.0.0.1") {
		t.Errorf("unreachable server: exit %d, want %d (stderr %q)", code, exitFailure, errs)
	}
	// An error of the root package once read "tenantpath: tenantpath: …";
	// runBinary fails the test on a doubled prefix.
	code, _, errs = runBinary(t, bin, []string{"DATABASE_URL=postgres://unused"}, "--shared-schemas", "x,x", "tenants", "list")
	if code != exitFailure || !strings.Contains(errs, `tenantpath: shared schema "x" listed twice`) {
		t.Errorf("bad naming: exit %d, stderr %q", code, errs)
	}
}

func testMissingFolders(t *testing.T, bin string) {
	c := newCLI(t, bin)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dir", filepath.Join(c.dir, "nope"), "status"}, "nope"},
		{[]string{"--tenant-dir", "tenant_migration", "status"}, "tenant_migration"},
		{[]string{"--shared-dir", "shared", "migrate", "all"}, "--shared-dir shared"},
		{[]string{"--dir", t.TempDir(), "migrate", "all"}, "no migrations"},
	} {
		code, _, errs := c.run(tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errs, exitUsage, tc.want)
		}
	}
	code, _, errs := c.exec(t, "--tenant-dir", "elsewhere", "--dir", c.dir, "status")
	if code != exitUsage || !strings.Contains(errs, "flag --tenant-dir") {
		t.Errorf("origin not named: %q", errs)
	}
	// Nothing was created by the refused commands.
	if rows := c.versionRows(c.prefix + "shared"); len(rows) != 1 || !strings.Contains(rows[0], "does not exist") {
		t.Errorf("a refused command touched the database: %v", rows)
	}
}
