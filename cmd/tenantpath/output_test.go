package main

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tenantpath/tenantpath/migrator"
)

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
	p := &printer{w: &tty, bar: true}
	for i := 1; i <= 4; i++ {
		r := migrator.Result{Tenant: strconv.Itoa(i), Schema: "org_" + strconv.Itoa(i)}
		if i == 2 {
			r.Err = errors.New("boom")
		}
		p.progress(migrator.Progress{Done: i, Total: 4, Failed: min(i/2, 1), Last: r})
	}
	p.endBar() // the bar already ended at 4/4: no second newline
	out := tty.String()
	if !strings.HasPrefix(out, "\r[") || !strings.HasSuffix(out, "4/4 tenants, 1 failed\n") || strings.Contains(out, "boom") {
		t.Fatalf("terminal progress: %q", out)
	}

	var plain bytes.Buffer
	p = &printer{w: &plain}
	p.progress(migrator.Progress{Done: 1, Total: 2, Last: migrator.Result{Tenant: "a", Schema: "org_a", From: 1, To: 2}})
	p.progress(migrator.Progress{Done: 2, Total: 2, Failed: 1, Last: migrator.Result{Tenant: "b", Schema: "org_b", Err: errors.New("boom")}})
	if got := plain.String(); got != "ok   a (org_a): 1 -> 2, 0 migration(s), 0s\nFAIL b (org_b)\n" {
		t.Fatalf("plain progress: %q", got)
	}
}

func TestExplain(t *testing.T) {
	pg := &pgconn.PgError{Severity: "ERROR", Code: "23505", Message: "duplicate key", Detail: "Key (id)=(1) already exists.", Hint: "use another id"}
	wrapped := &migrator.MigrationError{Schema: "org_a", Version: 2, Name: "x", Err: pg}
	if got := pgDetails(wrapped); len(got) != 2 || got[0] != "DETAIL: Key (id)=(1) already exists." || got[1] != "HINT: use another id" {
		t.Fatalf("pgDetails: %q", got)
	}
	if j := toErrorJSON("m", wrapped); j.SQLState != "23505" || j.Detail == "" || j.Hint == "" {
		t.Fatalf("toErrorJSON: %+v", j)
	}
	partial := &migrator.PartialError{Failed: []migrator.Result{{Tenant: "a", Err: wrapped}}, Skipped: []string{"b"}, Succeeded: 3}
	if msg, code, detailed := explain(partial); msg != "1 of 5 tenants failed, 1 not run" || code != exitPartial || !detailed {
		t.Fatalf("explain(partial) = %q, %d, %v", msg, code, detailed)
	}
	if msg, _, _ := explain(errors.New(`tenantpath: shared schema "x" listed twice`)); msg != `shared schema "x" listed twice` {
		t.Fatalf("prefix kept: %q", msg)
	}
	var stderr bytes.Buffer
	if code := report(&stderr, nil, wrapped, exitOK); code != exitFailure ||
		stderr.String() != "tenantpath: migrator: schema \"org_a\": migration 2 (x) up: ERROR: duplicate key (SQLSTATE 23505)\n  DETAIL: Key (id)=(1) already exists.\n  HINT: use another id\n" {
		t.Fatalf("report: %d %q", code, stderr.String())
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h/db":                 "postgres://u:xxxxx@h/db",
		"postgres://u@h/db":                        "postgres://u@h/db",
		"host=h password=secret user=u":            "host=h password=xxxxx user=u",
		"host=h password = 'se cret\\'x' dbname=d": "host=h password = xxxxx dbname=d",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
