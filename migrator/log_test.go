package migrator_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
)

// records is a slog.Handler that keeps every record.
type records struct {
	mu   sync.Mutex
	list []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rec.Clone())
	return nil
}

// find returns the records with message msg, as attribute maps.
func (r *records) find(msg string) []map[string]slog.Value {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]slog.Value
	for _, rec := range r.list {
		if rec.Message != msg {
			continue
		}
		attrs := map[string]slog.Value{"level": slog.StringValue(rec.Level.String())}
		rec.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value
			return true
		})
		out = append(out, attrs)
	}
	return out
}

// The Migrator logs each run's start and end, each schema's start, result
// and duration, each failure with its cause, and the tenants it creates,
// renames and drops.
func TestLogger(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var rec records
	m := e.migrator(basicFS(), migrator.WithLogger(slog.New(&rec)), migrator.WithDrop(nil))
	createTenants(t, m, 3)
	if got := len(rec.find("migrator: tenant created")); got != 3 {
		t.Fatalf("%d creations logged, want 3", got)
	}
	// Tenant 1 fails the new migration: its column is there already.
	e.exec("ALTER TABLE " + tenantpath.QuoteIdentifier(e.schema("1")) + ".users ADD COLUMN nickname text")
	mt := e.migrator(withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;"),
		migrator.WithLogger(slog.New(&rec)))
	if _, err := mt.MigrateTenants(ctx, migrator.ContinueOnError(), migrator.Workers(2)); !errors.Is(err, migrator.ErrPartial) {
		t.Fatalf("MigrateTenants: %v", err)
	}

	started := rec.find("migrator: run started")
	if len(started) != 1 || started[0]["tenants"].Int64() != 3 || started[0]["workers"].Int64() != 2 || started[0]["op"].String() != "migrate" {
		t.Fatalf("run started: %v", started)
	}
	if got := rec.find("migrator: schema started"); len(got) != 3 || got[0]["level"].String() != "DEBUG" {
		t.Fatalf("schema started: %v", got)
	}
	done := rec.find("migrator: schema done")
	if len(done) != 2 {
		t.Fatalf("schema done: %v", done)
	}
	var dones []int64
	for _, d := range done {
		if d["tenant"].String() == "1" || d["schema"].String() != e.schema(d["tenant"].String()) ||
			d["from"].Int64() != 2 || d["to"].Int64() != 3 || d["applied"].Int64() != 1 || d["duration"].Duration() <= 0 ||
			d["total"].Int64() != 3 {
			t.Fatalf("schema done: %v", d)
		}
		dones = append(dones, d["done"].Int64())
	}
	if failed := rec.find("migrator: schema failed"); len(failed) == 1 {
		dones = append(dones, failed[0]["done"].Int64())
	}
	slices.Sort(dones)
	if !slices.Equal(dones, []int64{1, 2, 3}) {
		t.Fatalf("progress counts %v, want 1, 2, 3", dones)
	}
	failed := rec.find("migrator: schema failed")
	var me *migrator.MigrationError
	if len(failed) != 1 || failed[0]["tenant"].String() != "1" || failed[0]["level"].String() != "ERROR" ||
		!errors.As(failed[0]["err"].Any().(error), &me) || me.Version != 3 {
		t.Fatalf("schema failed: %v", failed)
	}
	end := rec.find("migrator: run done")
	if len(end) != 1 || end[0]["succeeded"].Int64() != 2 || end[0]["failed"].Int64() != 1 || end[0]["level"].String() != "WARN" ||
		end[0]["duration"].Duration() <= 0 || end[0]["duration"].Duration() > time.Minute {
		t.Fatalf("run done: %v", end)
	}

	if err := m.Rename(ctx, "2", "two"); err != nil {
		t.Fatal(err)
	}
	if err := m.Drop(ctx, "two"); err != nil {
		t.Fatal(err)
	}
	renamed, dropped := rec.find("migrator: tenant renamed"), rec.find("migrator: tenant dropped")
	if len(renamed) != 1 || renamed[0]["old_tenant"].String() != "2" || renamed[0]["tenant"].String() != "two" ||
		len(dropped) != 1 || dropped[0]["schema"].String() != e.schema("two") {
		t.Fatalf("renamed %v, dropped %v", renamed, dropped)
	}
}
