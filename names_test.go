package tenantpath_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// anyName accepts every name the mandatory rules allow, so quoting is tested
// on the most hostile input the naming can let through.
func anyName(string) error { return nil }

// checkNameRoundTrip checks one tenant id end to end: either the naming
// refuses it and nothing at all reaches the server, or a schema created under
// that exact name (quoted by the server's own format('%I')) is what the
// driver routes to, as current_schemas reports it.
func checkNameRoundTrip(t *testing.T, e *tptest.Env, rec *tptest.Recorder, db tptest.Querier, exec func(ctx context.Context) error, id string) {
	t.Helper()
	ctx := tenantpath.WithTenant(context.Background(), id)
	schema, err := e.Naming.Schema(id)
	if err != nil {
		rec.Take()
		if err := exec(ctx); !errors.Is(err, tenantpath.ErrInvalidTenant) {
			t.Fatalf("refused id %q: call returned %v, want ErrInvalidTenant", id, err)
		}
		if sent := rec.Take(); len(sent) != 0 {
			t.Fatalf("refused id %q reached the server: %q", id, sent)
		}
		return
	}
	var create, drop string
	if err := e.Admin.QueryRow("SELECT format('CREATE SCHEMA %I', $1::text), format('DROP SCHEMA %I', $1::text)", schema).Scan(&create, &drop); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Admin.Exec(create); err != nil {
		t.Fatalf("%s: %v", create, err)
	}
	defer func() {
		if _, err := e.Admin.Exec(drop); err != nil {
			t.Errorf("%s: %v", drop, err)
		}
	}()
	var first string
	if err := db.QueryRowContext(ctx, "SELECT (pg_catalog.current_schemas(false))[1]").Scan(&first); err != nil {
		t.Fatalf("id %q (schema %q): %v", id, schema, err)
	}
	if first != schema {
		t.Fatalf("id %q: routed to schema %q, want %q", id, first, schema)
	}
}

var hostileNames = []string{
	"10", `a"b`, `""`, `"; DROP SCHEMA public; --`, "a b", " lead", "trail ", "tab\there",
	"O'Brien", `back\slash`, `\'`, "é", "Ωmega", "日本語", "emoji😀", "UPPER", "MiXeD",
	"$1", "%s", "a.b", "..", "-", "_", strings.Repeat("x", 50), strings.Repeat("é", 25),
	// Refused: NUL, too long in bytes, invalid UTF-8, empty, reserved.
	"a\x00b", strings.Repeat("é", 30), "\xff\xfe", "", "pg_toast",
}

func TestHostileNamesRoundTripExactly(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t)
		e.Naming.Validate = anyName
		rec := &tptest.Recorder{Connector: bd.Connector(t, dsn(t), false)}
		db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(e.Naming))
		db.SetMaxOpenConns(1)
		exec := func(ctx context.Context) error { _, err := db.ExecContext(ctx, "SELECT 1"); return err }
		for _, id := range hostileNames {
			checkNameRoundTrip(t, e, rec, db, exec, id)
		}
	})
}

// FuzzNameRoundTrip: any id the naming accepts round-trips through
// PostgreSQL exactly; any id it refuses sends nothing. The seeds run in
// every `go test`; `go test -fuzz FuzzNameRoundTrip` explores further.
func FuzzNameRoundTrip(f *testing.F) {
	for _, id := range hostileNames {
		f.Add(id)
	}
	e := tptest.NewEnv(f)
	e.Naming.Validate = anyName
	rec := &tptest.Recorder{Connector: tptest.PGX.Connector(f, dsn(f), false)}
	db := tptest.OpenWrapped(f, rec, tenantpath.WithNaming(e.Naming))
	db.SetMaxOpenConns(1)
	exec := func(ctx context.Context) error { _, err := db.ExecContext(ctx, "SELECT 1"); return err }
	f.Fuzz(func(t *testing.T, id string) {
		checkNameRoundTrip(t, e, rec, db, exec, id)
	})
}
