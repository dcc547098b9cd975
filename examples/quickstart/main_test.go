package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestRun runs the demo against the test server and checks that each
// tenant's line lists its own notes and no other tenant's.
func TestRun(t *testing.T) {
	dsn := pgtest.DSN(t)
	prefix := pgtest.UniquePrefix(t)
	var out strings.Builder
	if err := run(context.Background(), dsn, prefix, &out); err != nil {
		t.Fatalf("run: %v\noutput so far:\n%s", err, out.String())
	}
	text := out.String()
	t.Logf("output:\n%s", text)

	for _, tenant := range tenants {
		line := lineStarting(text, tenant+" ", " sees ")
		if line == "" {
			t.Fatalf("no line saying what %s sees", tenant)
		}
		for _, other := range tenants {
			for _, body := range notes[other] {
				has := strings.Contains(line, `"`+body+`"`)
				if other == tenant && !has {
					t.Errorf("%s does not see its own note %q: %s", tenant, body, line)
				}
				if other != tenant && has {
					t.Errorf("%s sees %s's note %q: %s", tenant, other, body, line)
				}
			}
		}
		if !strings.Contains(text, "created tenant "+padded(tenant)+" in schema "+prefix+tenant) {
			t.Errorf("no line about creating %s in schema %s", tenant, prefix+tenant)
		}
	}
	for _, want := range []string{"inside a transaction begun for tenant", "unknown tenant \"umbrella\"", "invalid tenant", "no tenant in the call's context"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// run drops what it created.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, $1)", prefix).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d schemas %s* left behind", n, prefix)
	}
}

func lineStarting(text, prefix, contains string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, contains) {
			return line
		}
	}
	return ""
}

func padded(s string) string {
	for len(s) < 8 {
		s += " "
	}
	return s
}
