package tenantotel_test

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	tenantotel "github.com/tenantpath/tenantpath/otel"
)

// runSequence makes db do a known sequence of calls, on one connection:
// 4 switches, at least 2 reuses, one call refused for each of the four
// reasons and one path put in doubt by the caller's SQL.
func runSequence(t *testing.T, db *sql.DB) {
	t.Helper()
	db.SetMaxOpenConns(1)
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	tptest.MustRead(t, ten, db, "10")    // switch
	tptest.MustRead(t, ten, db, "10")    // reuse
	tptest.MustRead(t, eleven, db, "11") // switch
	mustFail(t, tenantpath.ErrUnknownTenant)(tptest.ReadTenant(tenantpath.WithTenant(bg, "99"), db))
	mustFail(t, tenantpath.ErrInvalidTenant)(tptest.ReadTenant(tenantpath.WithTenant(bg, "Bad"), db))
	mustFail(t, tenantpath.ErrNoTenant)(tptest.ReadTenant(bg, db))
	tx, err := db.BeginTx(ten, nil) // switch
	if err != nil {
		t.Fatal(err)
	}
	mustFail(t, tenantpath.ErrTenantMismatch)(tptest.ReadTenant(eleven, tx))
	tx.Rollback()
	if _, err := db.ExecContext(ten, "SET search_path TO public"); err != nil { // puts the path in doubt
		t.Fatal(err)
	}
	tptest.MustRead(t, ten, db, "10") // switch
}

func mustFail(t *testing.T, want error) func(string, error) {
	t.Helper()
	return func(_ string, err error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}
}

// The Stats counters reach a ManualReader with the values the sequence of
// calls makes, each data point named by WithDBName.
func TestMetricsCountTheCalls(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		mp, reader := newReader(t)
		reg, err := tenantotel.RegisterMetrics(db, mp, tenantotel.WithDBName("notes"))
		if err != nil {
			t.Fatal(err)
		}
		defer reg.Unregister()

		before := collect(t, reader)
		named := tenantotel.PoolNameKey.String("notes")
		if v := before.value(t, "tenantpath.switches", true, named); v != 0 {
			t.Fatalf("tenantpath.switches = %v before any call", v)
		}

		runSequence(t, db)
		rd := collect(t, reader)
		st, _ := tenantpath.StatsOf(db)
		carried := 0.0
		if bd.Name == tptest.PGXWire.Name {
			carried = 4
		}
		for name, want := range map[string]float64{
			"tenantpath.switches":              4,
			"tenantpath.carried_switches":      carried,
			"tenantpath.reuses":                float64(st.Reuses),
			"tenantpath.discarded_connections": 0,
			"tenantpath.drift_retries":         0,
			"tenantpath.paths_in_doubt":        1,
		} {
			if got := rd.value(t, name, true, named); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		if got := rd.value(t, "tenantpath.reuses", true, named); got < 2 {
			t.Errorf("tenantpath.reuses = %v, want at least 2", got)
		}
		refusals := rd.points(t, "tenantpath.refusals", true, named, tenantotel.RefusalReasonKey)
		want := map[string]float64{"unknown_tenant": 1, "invalid_tenant": 1, "no_tenant": 1, "tenant_mismatch": 1}
		if !maps.Equal(refusals, want) {
			t.Errorf("tenantpath.refusals = %v, want %v", refusals, want)
		}
		if m := rd["tenantpath.switches"]; m.Unit != "{switch}" || m.Description == "" {
			t.Errorf("tenantpath.switches: unit %q, description %q", m.Unit, m.Description)
		}
		for name := range rd {
			if strings.HasPrefix(name, "tenantpath.pool.") {
				t.Errorf("%s reported for a *sql.DB without Pool", name)
			}
		}
	})
}

// A *sql.DB opened with Pool reports the pool's counters and levels too.
// Two tenants taking turns on a pool of 2 open two connections, switch
// twice, and find every later connection on their path.
func TestMetricsOfAPool(t *testing.T) {
	ids := tptest.TenantIDs(2)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, ids...)
		db := e.Open(bd, tenantpath.Pool(2))
		mp, reader := newReader(t)
		reg, err := tenantotel.RegisterMetrics(db, mp, tenantotel.WithDBName("pooled"))
		if err != nil {
			t.Fatal(err)
		}
		defer reg.Unregister()

		bg := context.Background()
		// Two connections in use at once, so both exist.
		c1, err := db.Conn(tenantpath.WithTenant(bg, ids[0]))
		if err != nil {
			t.Fatal(err)
		}
		c2, err := db.Conn(tenantpath.WithTenant(bg, ids[1]))
		if err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, tenantpath.WithTenant(bg, ids[0]), c1, ids[0])
		tptest.MustRead(t, tenantpath.WithTenant(bg, ids[1]), c2, ids[1])

		named := tenantotel.PoolNameKey.String("pooled")
		busy := collect(t, reader)
		states := busy.points(t, "tenantpath.pool.connection.count", false, named, tenantotel.ConnectionStateKey)
		if want := map[string]float64{"used": 2, "idle": 0, "held": 0, "opening": 0}; !maps.Equal(states, want) {
			t.Fatalf("with two connections checked out, tenantpath.pool.connection.count = %v, want %v", states, want)
		}
		c1.Close()
		c2.Close()
		for i := range 20 {
			id := ids[i%2]
			tptest.MustRead(t, tenantpath.WithTenant(bg, id), db, id)
		}

		rd := collect(t, reader)
		for _, c := range []struct {
			name      string
			monotonic bool
			want      float64
		}{
			{"tenantpath.pool.connection.max", false, 2},
			{"tenantpath.pool.pending_requests", false, 0},
			{"tenantpath.pool.connection.opened", true, 2},
			{"tenantpath.pool.connection.closed", true, 0},
			{"tenantpath.pool.switches", true, 2},
			{"tenantpath.pool.checkouts", true, 22},             // 2 Conns and 20 reads
			{"tenantpath.pool.on_path_checkouts", true, 20},     // the 20 reads: each tenant has a connection of its own
			{"tenantpath.pool.same_request_checkouts", true, 0}, // no context could be cancelled: no request
			{"tenantpath.pool.waits", true, 0},
			{"tenantpath.pool.canceled_waits", true, 0},
			{"tenantpath.pool.wait_time", true, 0},
			{"tenantpath.pool.holds", true, 0}, // contexts that cannot be cancelled are never held for
			{"tenantpath.pool.statement_cache.hits", true, 0},
			{"tenantpath.pool.statement_cache.misses", true, 0},
			{"tenantpath.switches", true, 2},
		} {
			if got := rd.value(t, c.name, c.monotonic, named); got != c.want {
				t.Errorf("%s = %v, want %v", c.name, got, c.want)
			}
		}
		states = rd.points(t, "tenantpath.pool.connection.count", false, named, tenantotel.ConnectionStateKey)
		if want := map[string]float64{"used": 0, "idle": 2, "held": 0, "opening": 0}; !maps.Equal(states, want) {
			t.Errorf("tenantpath.pool.connection.count = %v, want %v", states, want)
		}
		if m := rd["tenantpath.pool.wait_time"]; m.Unit != "s" {
			t.Errorf("tenantpath.pool.wait_time: unit %q, want s", m.Unit)
		}

		// A statement prepared once and run for both tenants: each
		// connection prepares it once, later runs find it cached.
		checkStatementCache(t, db, reader, ids)
	})
}

func checkStatementCache(t *testing.T, db *sql.DB, reader *sdkmetric.ManualReader, ids []string) {
	t.Helper()
	bg := context.Background()
	st, err := db.PrepareContext(tenantpath.WithTenant(bg, ids[0]), tptest.TenantsSeen+" WHERE $1::int >= 0")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 6 {
		id := ids[i%2]
		var got sql.NullString
		if err := st.QueryRowContext(tenantpath.WithTenant(bg, id), i).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got.String != id {
			t.Fatalf("tenant %s read %q", id, got.String)
		}
	}
	rd := collect(t, reader)
	ps, _ := tenantpath.PoolStatsOf(db)
	named := tenantotel.PoolNameKey.String("pooled")
	hits := rd.value(t, "tenantpath.pool.statement_cache.hits", true, named)
	misses := rd.value(t, "tenantpath.pool.statement_cache.misses", true, named)
	if hits != float64(ps.StmtHits) || misses != float64(ps.StmtPrepare) {
		t.Fatalf("statement cache: %v hits, %v misses reported; PoolStats says %d, %d", hits, misses, ps.StmtHits, ps.StmtPrepare)
	}
	if misses < 1 || misses > 2 || hits+misses != 7 {
		t.Fatalf("statement cache: %v hits, %v misses for 7 prepares on 2 connections", hits, misses)
	}
}

// Each registration reports under its own name; after Unregister, a
// *sql.DB reports nothing, while the other goes on.
func TestMetricsUnregister(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	a, b := e.Open(tptest.PGX), e.Open(tptest.PGX)
	mp, reader := newReader(t)
	regA, err := tenantotel.RegisterMetrics(a, mp, tenantotel.WithDBName("a"))
	if err != nil {
		t.Fatal(err)
	}
	regB, err := tenantotel.RegisterMetrics(b, mp, tenantotel.WithDBName("b"),
		tenantotel.WithAttributes(attribute.String("service.part", "billing")))
	if err != nil {
		t.Fatal(err)
	}
	defer regB.Unregister()

	tptest.MustRead(t, tenantpath.WithTenant(context.Background(), "10"), a, "10")
	rd := collect(t, reader)
	if got := rd.value(t, "tenantpath.switches", true, tenantotel.PoolNameKey.String("a")); got != 1 {
		t.Fatalf("a: tenantpath.switches = %v, want 1", got)
	}
	if got := rd.value(t, "tenantpath.switches", true, attribute.String("service.part", "billing")); got != 0 {
		t.Fatalf("b (with service.part=billing): tenantpath.switches = %v, want 0", got)
	}

	if err := regA.Unregister(); err != nil {
		t.Fatal(err)
	}
	tptest.MustRead(t, tenantpath.WithTenant(context.Background(), "10"), b, "10")
	rd = collect(t, reader)
	if pts := rd.points(t, "tenantpath.switches", true, tenantotel.PoolNameKey.String("a"), ""); len(pts) != 0 {
		t.Fatalf("a still reports after Unregister: %v", pts)
	}
	if got := rd.value(t, "tenantpath.switches", true, tenantotel.PoolNameKey.String("b")); got != 1 {
		t.Fatalf("b: tenantpath.switches = %v, want 1", got)
	}
}

// A *sql.DB opened with sql.Open over a driver from tenantpath.Wrap
// reports the driver's counts: those of every *sql.DB it opened.
func TestMetricsOfAWrappedDriver(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	d, err := tenantpath.Wrap(stdlib.GetDefaultDriver(), tenantpath.WithNaming(e.Naming))
	if err != nil {
		t.Fatal(err)
	}
	name := "tenantotel-" + e.Prefix
	sql.Register(name, d)
	open := func() *sql.DB {
		db, err := sql.Open(name, pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	first, second := open(), open()
	mp, reader := newReader(t)
	reg, err := tenantotel.RegisterMetrics(first, mp, tenantotel.WithDBName("wrapped"))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()

	ctx := tenantpath.WithTenant(context.Background(), "10")
	tptest.MustRead(t, ctx, first, "10")
	tptest.MustRead(t, ctx, second, "10")
	rd := collect(t, reader)
	if got := rd.value(t, "tenantpath.switches", true, tenantotel.PoolNameKey.String("wrapped")); got != 2 {
		t.Fatalf("tenantpath.switches = %v, want 2 (one connection of each *sql.DB switched)", got)
	}
}
