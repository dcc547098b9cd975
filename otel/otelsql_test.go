package tenantotel_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	tenantotel "github.com/tenantpath/tenantpath/otel"
)

// otelsql wrapped around a tenantpath Connector: its spans name the tenant
// of the call through the SpanProcessor, and the Connector's counts are
// reported through RegisterConnectorMetrics (RegisterMetrics cannot see
// them through otelsql's *sql.DB, and says so).
func TestOtelsqlSpansCarryTheTenant(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		conn := newConnector(t, e, bd.Connector(t, pgtest.DSN(t), false))
		tp, rec := newTracer(t, tenantotel.NewSpanProcessor())
		db := otelsql.OpenDB(conn, otelsql.WithTracerProvider(tp))
		t.Cleanup(func() { db.Close() })
		db.SetMaxOpenConns(1)

		mp, reader := newReader(t)
		if _, err := tenantotel.RegisterMetrics(db, mp); !errors.Is(err, tenantotel.ErrNotTenantpath) {
			t.Fatalf("RegisterMetrics on otelsql's *sql.DB: %v, want ErrNotTenantpath", err)
		}
		reg, err := tenantotel.RegisterConnectorMetrics(conn, mp, tenantotel.WithDBName("traced"))
		if err != nil {
			t.Fatal(err)
		}
		defer reg.Unregister()

		bg := context.Background()
		tptest.MustRead(t, tenantpath.WithTenant(bg, "10"), db, "10")
		tptest.MustRead(t, tenantpath.WithTenant(bg, "11"), db, "11")
		if _, err := tptest.ReadTenant(tenantpath.WithTenant(bg, "99"), db); !errors.Is(err, tenantpath.ErrUnknownTenant) {
			t.Fatalf("tenant 99: %v, want ErrUnknownTenant", err)
		}
		if _, err := tptest.ReadTenant(bg, db); !errors.Is(err, tenantpath.ErrNoTenant) {
			t.Fatalf("no tenant: %v, want ErrNoTenant", err)
		}

		queries := spansByScope(rec.Ended(), string(otelsql.MethodConnQuery))
		want := map[string]int{"tenantpath.tenant=10": 1, "tenantpath.tenant=11": 1, "tenantpath.tenant=99": 1, "": 1}
		if !maps.Equal(queries, want) {
			t.Fatalf("otelsql's query spans by tenant: %v, want %v", queries, want)
		}
		if rows := spansByScope(rec.Ended(), string(otelsql.MethodRows)); rows["tenantpath.tenant=10"] != 1 || rows["tenantpath.tenant=11"] != 1 {
			t.Fatalf("otelsql's rows spans by tenant: %v, want one for 10 and one for 11", rows)
		}

		rd := collect(t, reader)
		named := tenantotel.PoolNameKey.String("traced")
		if got := rd.value(t, "tenantpath.switches", true, named); got != 2 {
			t.Errorf("tenantpath.switches = %v, want 2", got)
		}
		refusals := rd.points(t, "tenantpath.refusals", true, named, tenantotel.RefusalReasonKey)
		if refusals["unknown_tenant"] != 1 || refusals["no_tenant"] != 1 {
			t.Errorf("tenantpath.refusals = %v, want one unknown tenant and one call without a tenant", refusals)
		}
	})
}

// otelsql's attributes getter takes Attributes as it is, with no
// SpanProcessor installed.
func TestOtelsqlAttributesGetter(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	conn := newConnector(t, e, tptest.PGX.Connector(t, pgtest.DSN(t), false))
	tp, rec := newTracer(t)
	db := otelsql.OpenDB(conn, otelsql.WithTracerProvider(tp),
		otelsql.WithAttributesGetter(func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) []attribute.KeyValue {
			return tenantotel.Attributes(ctx)
		}))
	t.Cleanup(func() { db.Close() })

	tptest.MustRead(t, tenantpath.WithTenant(context.Background(), "10"), db, "10")
	var shared int
	if err := db.QueryRowContext(tenantpath.WithShared(context.Background()), "SELECT 1").Scan(&shared); err != nil {
		t.Fatal(err)
	}
	queries := spansByScope(rec.Ended(), string(otelsql.MethodConnQuery))
	if want := map[string]int{"tenantpath.tenant=10": 1, "tenantpath.scope=shared": 1}; !maps.Equal(queries, want) {
		t.Fatalf("otelsql's query spans by scope: %v, want %v", queries, want)
	}
}

func newConnector(t testing.TB, e *tptest.Env, base driver.Connector) *tenantpath.Connector {
	t.Helper()
	c, err := tenantpath.NewConnector(base, tenantpath.WithNaming(e.Naming))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// spansByScope counts the spans named name by their tenantpath
// attributes ("" for none).
func spansByScope(spans []sdktrace.ReadOnlySpan, name string) map[string]int {
	out := map[string]int{}
	for _, s := range spans {
		if s.Name() != name {
			continue
		}
		attrs := scopeAttrs(s)
		slices.Sort(attrs)
		key := ""
		if len(attrs) > 0 {
			key = attrs[0]
			for _, a := range attrs[1:] {
				key += "," + a
			}
		}
		out[key]++
	}
	return out
}
