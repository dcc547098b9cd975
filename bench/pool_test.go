package bench

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tenantpath/tenantpath"
)

// The benchmarks of tenantpath.Pool: the targets of its issue, on the
// throughput fixture (BenchmarkRoute's), against the same contenders.

// zipf2k is the load the switch targets are stated for: Zipf over the
// first 2,000 tenants, with BenchmarkRoute's skew.
var zipf2k = tenantMix{"zipf2k", func(r *rand.Rand) func() int {
	z := rand.NewZipf(r, zipfS, 1, 1999)
	return func() int { return int(z.Uint64()) }
}}

// poolContenders are the ways of running a request compared here: the
// hand-rolled db.Conn + SET (with context.Background, as in BenchmarkRoute,
// and, as set-conn-req, with a context per request like the pooled
// contenders: pgx watches a cancellable context during every query, which
// costs CPU of its own), tenantpath on database/sql's pool, and
// tenantpath.Pool over pgx and lib/pq. The pooled ones give each request a
// context of its own that is cancelled when the request ends, as net/http
// does for a handler.
func poolContenders() []contender {
	byName := func(name string) contender {
		return contenders[slices.IndexFunc(contenders, func(c contender) bool { return c.name == name })]
	}
	return []contender{
		byName("set-conn"),
		{name: "set-conn-req", open: byName("set-conn").open, run: runSetConnRequest},
		byName("tenantpath-pgx"),
		{name: "tenantpath-pgx-pool", run: runRequest, openPool: func(tb testing.TB, dsn string, size int) *sql.DB {
			return openTenantpath(tb, pgxConnector(tb, dsn), fixtureNaming, tenantpath.Pool(size))
		}},
		{name: "tenantpath-pq-pool", run: runRequest, openPool: func(tb testing.TB, dsn string, size int) *sql.DB {
			return openTenantpath(tb, pqConnector(tb, dsn), fixtureNaming, tenantpath.Pool(size))
		}},
	}
}

// runRequest runs one request on a pooled *sql.DB with a context of its
// own, cancelled when the request is over.
func runRequest(db *sql.DB, t *tenantSQL, n, id int) error {
	ctx, done := context.WithCancel(t.ctx)
	defer done()
	return runStatements(ctx, db, &t.plain, n, id)
}

// runSetConnRequest is the hand-rolled db.Conn + SET with a context of the
// request's own, cancelled when the request is over.
func runSetConnRequest(db *sql.DB, t *tenantSQL, n, id int) error {
	ctx, done := context.WithCancel(context.Background())
	defer done()
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, t.set); err != nil {
		return err
	}
	return runStatements(ctx, c, &t.plain, n, id)
}

// openContender opens contender c's *sql.DB for a pool of size: a
// contender that owns its pool (tenantpath.Pool) through openPool (OpenDB
// then leaves database/sql's own pool off), the others with database/sql's
// pool at size.
func openContender(tb testing.TB, c contender, dsn string, size int) *sql.DB {
	if c.openPool != nil {
		return c.openPool(tb, dsn, size)
	}
	db := c.open(tb, dsn)
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	return db
}

// BenchmarkPool runs the loads: 64 workers on 16 connections,
// point selects and 5-statement requests, Zipf over 2,000 tenants (the
// switch targets) and over 10,000 (the throughput target). Contenders take
// turns as in BenchmarkRoute (-rounds). Besides ns/op it reports, from
// pg_stat_statements, the switches the server ran per op (switches/op:
// tenantpath's set_config calls and hand-rolled SETs alike), all
// statements per op, and the CPU per op of client and server.
func BenchmarkPool(b *testing.B) {
	dsn := benchFixture(b)
	admin := sql.OpenDB(pgxConnector(b, dsn))
	admin.SetMaxOpenConns(1)
	b.Cleanup(func() { admin.Close() })
	dbs := map[string]*sql.DB{}
	b.Cleanup(func() {
		for _, db := range dbs {
			db.Close()
		}
	})
	warmed := map[string]bool{}
	cs := poolContenders()
	for _, sc := range poolScenarios() {
		for round := 1; round <= *rounds; round++ {
			order := slices.Clone(cs)
			if round%2 == 0 {
				slices.Reverse(order)
			}
			for _, c := range order {
				b.Run(fmt.Sprintf("%s/round=%d/%s", sc.name, round, c.name), func(b *testing.B) {
					key := fmt.Sprintf("%s/%d", c.name, sc.pool)
					db := dbs[key]
					if db == nil {
						db = openContender(b, c, dsn, sc.pool)
						dbs[key] = db
					}
					op := func(t *tenantSQL, id int) error { return c.run(db, t, sc.stmts, id) }
					if w := sc.name + "/" + c.name; !warmed[w] {
						warmed[w] = true
						if err := drive(max(200, 4*sc.workers), sc.workers, sc.mix, op); err != nil {
							b.Fatal(err)
						}
					}
					measure(b, admin, sc.workers, sc.mix, op)
				})
			}
		}
	}
}

func poolScenarios() []routeScenario {
	var all []routeScenario
	for _, mix := range []tenantMix{zipf2k, tenantMixes[2]} {
		for _, n := range stmtsPerOp {
			all = append(all, routeScenario{
				name: fmt.Sprintf("tenants=%s/stmts=%d/pool=16/workers=64", mix.name, n),
				mix:  mix, stmts: n, pool: 16, workers: 64,
			})
		}
	}
	return all
}

// measure times b.N requests and reports what the server ran for them.
func measure(b *testing.B, admin *sql.DB, workers int, mix tenantMix, op func(t *tenantSQL, id int) error) {
	if err := resetStatements(bg, admin); err != nil {
		b.Fatal(err)
	}
	cpu0, err := snapshotCPU(bg, admin)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	err = drive(b.N, workers, mix, op)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	cpu1, err := snapshotCPU(bg, admin)
	if err != nil {
		b.Fatal(err)
	}
	client, server, ok := cpu0.since(cpu1)
	b.ReportMetric(float64(client.Microseconds())/float64(b.N), "client-cpu-µs/op")
	if ok {
		b.ReportMetric(float64(server.Microseconds())/float64(b.N), "server-cpu-µs/op")
	}
	counts, err := readStatements(bg, admin)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(counts.Total())/float64(b.N), "stmts/op")
	b.ReportMetric(float64(counts.Switch+counts.Set)/float64(b.N), "switches/op")
}
