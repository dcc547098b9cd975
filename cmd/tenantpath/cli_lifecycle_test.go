package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
)

type runDoc struct {
	Shared  resultJSON   `json:"shared"`
	Tenants []resultJSON `json:"tenants"`
	Failed  []string     `json:"failed"`
	Skipped []string     `json:"skipped"`
	Error   string       `json:"error"`
}

type statusDoc struct {
	UpToDate bool         `json:"up_to_date"`
	Counts   counts       `json:"counts"`
	Shared   statusJSON   `json:"shared"`
	Tenants  []statusJSON `json:"tenants"`
}

func testLifecycleAndMigrate(t *testing.T, bin string) {
	c := newCLI(t, bin)
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
	doc := decode[runDoc](t, c.mustRun(exitPartial, "migrate", "tenants", "--continue-on-error", "--parallel", "2", "--json"))
	if !slices.Equal(doc.Failed, []string{"b"}) || len(doc.Tenants) != 4 || doc.Error == "" {
		t.Fatalf("migrate tenants: %+v", doc)
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

func testSharedFailureExitCode(t *testing.T, bin string) {
	c := newCLI(t, bin)
	c.mustRun(exitOK, "migrate", "all")
	c.mustRun(exitOK, "tenants", "create", "x")
	c.write("migrations/0002_bad.sql", "-- +goose Up\nSELECT 1/0;\n")
	c.write("tenant_migrations/0002_n.up.sql", "ALTER TABLE users ADD COLUMN n int;\n")
	code, out, errs := c.run("migrate", "all")
	if code != exitFailure || !strings.Contains(errs, "no tenant was migrated") || !strings.Contains(out, "FAIL (shared)") ||
		strings.Count(out+errs, "division by zero") != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if rows := c.versionRows(c.prefix + "x"); !slices.Equal(rows, []string{c.prefix + "x:1"}) {
		t.Fatalf("a tenant was touched after the shared migrations failed: %v", rows)
	}
	// An unparsable file fails before anything runs.
	c.write("tenant_migrations/notes.sql", "SELECT 1;\n")
	if code, _, errs := c.run("migrate", "tenants"); code != exitFailure || !strings.Contains(errs, "notes.sql") {
		t.Fatalf("bad file: exit %d, %s", code, errs)
	}
}

func testTenantsQuery(t *testing.T, bin string) {
	c := newCLI(t, bin)
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
	c.env = []string{"TENANTPATH_TENANTS_QUERY=" + q} // the same, from the environment
	doc := decode[runDoc](t, c.mustRun(exitOK, "migrate", "tenants", "--json"))
	if len(doc.Tenants) != 2 || doc.Tenants[0].To != 2 || doc.Tenants[1].To != 2 {
		t.Fatalf("migrate: %+v", doc)
	}
}
