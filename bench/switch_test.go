package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath"
)

// BenchmarkSwitchStatement compares, on one pgx connection, statements that
// move a session to another tenant's path: tenantpath's switch (an existence
// check through to_regnamespace, simple protocol), the form tenantpgx
// carries in front of a statement (a cast to regnamespace) and that form
// prepared, the earlier form that looked the schema up in pg_namespace
// (parsed and planned on every switch), that form with parameters (prepared
// once per connection by pgx's statement cache), a plain SET, and the two
// halves of the pg_namespace form alone. Each op moves to the next of 100
// tenants.
// server-cpu-µs/op is the backend's CPU per op.
func BenchmarkSwitchStatement(b *testing.B) {
	dsn := benchFixture(b)
	ctx := context.Background()
	const n = 100
	type target struct{ simple, regns, carried, set, setConfig, lookup, path, schema string }
	targets := make([]target, n)
	for i := range targets {
		schema := fixturePrefix + fmt.Sprint(i)
		path := tenantpath.QuoteIdentifier(schema) + ", " + tenantpath.QuoteIdentifier("public")
		targets[i] = target{
			simple: "SELECT pg_catalog.set_config('search_path', " + tenantpath.QuoteLiteral(path) +
				", false) FROM pg_catalog.pg_namespace WHERE nspname = " + tenantpath.QuoteLiteral(schema),
			regns: "SELECT pg_catalog.set_config('search_path', " + tenantpath.QuoteLiteral(path) +
				", false) WHERE pg_catalog.to_regnamespace(" + tenantpath.QuoteLiteral(tenantpath.QuoteIdentifier(schema)) + ") IS NOT NULL",
			carried: "SELECT pg_catalog.set_config('search_path', " + tenantpath.QuoteLiteral(path) +
				", false), " + tenantpath.QuoteLiteral(tenantpath.QuoteIdentifier(schema)) + "::pg_catalog.regnamespace",
			set:       "SET search_path TO " + path,
			setConfig: "SELECT pg_catalog.set_config('search_path', " + tenantpath.QuoteLiteral(path) + ", false)",
			lookup:    "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = " + tenantpath.QuoteLiteral(schema),
			path:      path,
			schema:    schema,
		}
	}
	const (
		prepared        = "SELECT pg_catalog.set_config('search_path', $1, false) FROM pg_catalog.pg_namespace WHERE nspname = $2"
		carriedPrepared = "SELECT pg_catalog.set_config('search_path', $1, false), $2::pg_catalog.regnamespace"
	)
	variants := []struct {
		name string
		run  func(c *pgx.Conn, t *target) error
	}{
		{"namespace-scan", func(c *pgx.Conn, t *target) error { _, err := c.Exec(ctx, t.simple); return err }},
		{"prepared", func(c *pgx.Conn, t *target) error { _, err := c.Exec(ctx, prepared, t.path, t.schema); return err }},
		// tenantpath's switch: the check through the catalog cache, no
		// row (RowsAffected 0) when the schema is missing.
		{"tenantpath", func(c *pgx.Conn, t *target) error {
			tag, err := c.Exec(ctx, t.regns)
			if err == nil && tag.RowsAffected() != 1 {
				err = fmt.Errorf("%s: %d rows", t.regns, tag.RowsAffected())
			}
			return err
		}},
		{"set", func(c *pgx.Conn, t *target) error { _, err := c.Exec(ctx, t.set); return err }},
		// The form tenantpgx sends in front of a statement (a missing
		// schema fails the cast), here on its own; then the same with
		// parameters, parsed and planned once per connection.
		{"tenantpath-carried", func(c *pgx.Conn, t *target) error { _, err := c.Exec(ctx, t.carried); return err }},
		{"tenantpath-carried-prepared", func(c *pgx.Conn, t *target) error {
			_, err := c.Exec(ctx, carriedPrepared, t.path, tenantpath.QuoteIdentifier(t.schema))
			return err
		}},
		// The two halves of tenantpath's switch on their own (the lookup
		// leaves the path as it is).
		{"set_config-alone", func(c *pgx.Conn, t *target) error { _, err := c.Exec(ctx, t.setConfig); return err }},
		{"namespace-lookup-alone", func(c *pgx.Conn, t *target) error { _, err := c.Exec(ctx, t.lookup); return err }},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(ctx)
			var pid int
			if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				b.Fatal(err)
			}
			for i := range 2 * n { // warm the caches and the prepared statement
				if err := v.run(c, &targets[i%n]); err != nil {
					b.Fatal(err)
				}
			}
			cpu0, ok0 := procCPU(pid)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := v.run(c, &targets[i%n]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if cpu1, ok1 := procCPU(pid); ok0 && ok1 {
				b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "server-cpu-µs/op")
			}
		})
	}
}
