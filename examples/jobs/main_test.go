package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestRun runs the program's code and checks that each tenant's jobs wrote
// to that tenant's schema only.
func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), pgtest.DSN(t), pgtest.UniquePrefix(t), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	t.Logf("output:\n%s", text)
	for _, want := range []string{
		`acme   "rocket skates ship on monday": 5 words, touched=true`,
		`acme   "anvils": 1 words, touched=true`,
		`globex "the hammock district needs zoning approval before spring": 8 words, touched=false`,
		"worker ran 3 jobs",
		"failed jobs: 0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Count(text, "words,") != 3 {
		t.Errorf("want exactly 3 stats lines (a tenant seeing another's rows would add some)")
	}
}

// TestWorkerUsesTheJobsTenant checks the queue directly: a worker whose
// context names one tenant still runs each job under the job's own tenant,
// and a job whose tenant has gone fails instead of running elsewhere.
func TestWorkerUsesTheJobsTenant(t *testing.T) {
	ctx := context.Background()
	prefix := pgtest.UniquePrefix(t)
	naming := tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "shared"}}
	cfg, err := pgx.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	db, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg), tenantpath.WithNaming(naming))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	admin := tenantpath.WithShared(ctx)
	for _, s := range []string{"shared", "a", "b"} {
		if _, err := db.ExecContext(admin, "CREATE SCHEMA "+tenantpath.QuoteIdentifier(prefix+s)); err != nil {
			t.Fatal(err)
		}
	}
	q := NewQueue(db, naming)
	if err := q.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"a", "b", "gone"} {
		tctx := tenantpath.WithTenant(ctx, tenant)
		tx, err := db.BeginTx(admin, nil) // a shared transaction is fine for enqueueing
		if err != nil {
			t.Fatal(err)
		}
		if err := q.EnqueueTx(tctx, tx, "whoami", ""); err == nil {
			// tctx names a tenant, the transaction the shared scope: the
			// driver refuses to mix them.
			t.Fatal("EnqueueTx with a tenant context in a shared transaction succeeded")
		} else if !errors.Is(err, tenantpath.ErrTenantMismatch) {
			t.Fatalf("EnqueueTx: %v, want ErrTenantMismatch", err)
		}
		tx.Rollback()
		if _, err := db.ExecContext(admin, "INSERT INTO "+q.table+" (tenant, kind, payload) VALUES ($1, 'whoami', '')", tenant); err != nil {
			t.Fatal(err)
		}
	}

	var ran []string
	workerCtx := tenantpath.WithTenant(ctx, "b") // the worker's own context names b
	n, err := q.Drain(workerCtx, func(ctx context.Context, j Job) error {
		var schema string
		if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return err
		}
		ran = append(ran, j.Tenant+"->"+schema)
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("Drain: %d jobs, %v", n, err)
	}
	want := []string{"a->" + prefix + "a", "b->" + prefix + "b"}
	if strings.Join(ran, ",") != strings.Join(want, ",") {
		t.Fatalf("jobs ran as %q, want %q", ran, want)
	}
	var msg string
	if err := db.QueryRowContext(admin, "SELECT error FROM "+q.table+" WHERE tenant = 'gone'").Scan(&msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "unknown tenant") {
		t.Fatalf("job for a missing tenant recorded %q, want an unknown-tenant error", msg)
	}
}
