package tenantotel_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"

	"github.com/XSAM/otelsql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tenantpath/tenantpath"
	tenantotel "github.com/tenantpath/tenantpath/otel"
)

func ExampleRegisterMetrics() {
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	db, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg), tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
	if err != nil {
		panic(err)
	}
	defer db.Close()

	// In an application, the MeterProvider has a periodic reader with an
	// exporter; a ManualReader shows what it would export.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	reg, err := tenantotel.RegisterMetrics(db, mp, tenantotel.WithDBName("main"))
	if err != nil {
		panic(err)
	}
	defer reg.Unregister()

	// No statement has run yet: every count is zero.
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "tenantpath.switches" {
			dp := m.Data.(metricdata.Sum[int64]).DataPoints[0]
			name, _ := dp.Attributes.Value(tenantotel.PoolNameKey)
			fmt.Println(m.Name, m.Unit, dp.Value, name.AsString())
		}
	}
	// Output:
	// tenantpath.switches {switch} 0 main
}

func ExampleRegisterConnectorMetrics() {
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	conn, err := tenantpath.NewConnector(stdlib.GetConnector(*cfg), tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
	if err != nil {
		panic(err)
	}
	// otelsql's *sql.DB wraps the Connector: its spans name the tenant
	// through the SpanProcessor, and the Connector reports the counts.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tenantotel.NewSpanProcessor()))
	db := otelsql.OpenDB(conn, otelsql.WithTracerProvider(tp))
	defer db.Close()

	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	_, err = tenantotel.RegisterMetrics(db, mp)
	fmt.Println(errors.Is(err, tenantotel.ErrNotTenantpath))
	reg, err := tenantotel.RegisterConnectorMetrics(conn, mp, tenantotel.WithDBName("main"))
	if err != nil {
		panic(err)
	}
	defer reg.Unregister()
	// Output:
	// true
}

func ExampleSpanProcessor() {
	// A recorder stands in for the exporter here.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(tenantotel.NewSpanProcessor()),
		sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	ctx := tenantpath.WithTenant(context.Background(), "acme")
	_, span := tp.Tracer("notes").Start(ctx, "list notes")
	span.End()

	for _, kv := range rec.Ended()[0].Attributes() {
		fmt.Println(kv.Key, kv.Value.String())
	}
	// Output:
	// tenantpath.tenant acme
}

func ExampleAttributes() {
	for _, ctx := range []context.Context{
		tenantpath.WithTenant(context.Background(), "acme"),
		tenantpath.WithShared(context.Background()),
		context.Background(),
	} {
		attrs := tenantotel.Attributes(ctx)
		if len(attrs) == 0 {
			fmt.Println("(none)")
		}
		for _, kv := range attrs {
			fmt.Printf("%s=%s\n", kv.Key, kv.Value.String())
		}
	}

	// For otelsql, which asks a function for each span's attributes:
	_ = otelsql.WithAttributesGetter(func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) []attribute.KeyValue {
		return tenantotel.Attributes(ctx)
	})
	// Output:
	// tenantpath.tenant=acme
	// tenantpath.scope=shared
	// (none)
}
