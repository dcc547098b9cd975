package bench

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// runStatements runs the first n statements of a request (1: the point
// select; 5: the whole request) for row id.
func runStatements(ctx context.Context, q querier, stmts *[5]string, n, id int) error {
	var name string
	if err := q.QueryRowContext(ctx, stmts[0], id).Scan(&name); err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	rows, err := q.QueryContext(ctx, stmts[1], id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var rid int
		if err := rows.Scan(&rid, &name); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var count int64
	if err := q.QueryRowContext(ctx, stmts[2], 1<<30).Scan(&count); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, stmts[3], id); err != nil {
		return err
	}
	var hits int
	return q.QueryRowContext(ctx, stmts[4], id).Scan(&hits)
}

// A contender is one way of running a tenant's request.
type contender struct {
	name string
	open func(tb testing.TB, dsn string) *sql.DB
	run  func(db *sql.DB, t *tenantSQL, n, id int) error
}

var bg = context.Background()

var contenders = []contender{
	{
		// 1. No routing at all: schema-qualified statements.
		name: "raw-pgx",
		open: func(tb testing.TB, dsn string) *sql.DB { return sql.OpenDB(pgxConnector(tb, dsn)) },
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			return runStatements(bg, db, &t.qualified, n, id)
		},
	},
	{
		// 2. Check out a connection, SET search_path, run, return it.
		name: "set-conn",
		open: func(tb testing.TB, dsn string) *sql.DB { return sql.OpenDB(pgxConnector(tb, dsn)) },
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			c, err := db.Conn(bg)
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.ExecContext(bg, t.set); err != nil {
				return err
			}
			return runStatements(bg, c, &t.plain, n, id)
		},
	},
	{
		// 3. A transaction with SET LOCAL search_path around the request.
		name: "set-local-tx",
		open: func(tb testing.TB, dsn string) *sql.DB { return sql.OpenDB(pgxConnector(tb, dsn)) },
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			tx, err := db.BeginTx(bg, nil)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(bg, t.setLocal); err != nil {
				tx.Rollback()
				return err
			}
			if err := runStatements(bg, tx, &t.plain, n, id); err != nil {
				tx.Rollback()
				return err
			}
			return tx.Commit()
		},
	},
	{
		// 4. tenantpath over pgx.
		name: "tenantpath-pgx",
		open: func(tb testing.TB, dsn string) *sql.DB {
			return openTenantpath(tb, pgxConnector(tb, dsn), fixtureNaming)
		},
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			return runStatements(t.ctx, db, &t.plain, n, id)
		},
	},
	{
		// 4, with the request's statements on one connection: db.Conn per
		// request, as contender 2 does, so a request switches at most once.
		name: "tenantpath-pgx-conn",
		open: func(tb testing.TB, dsn string) *sql.DB {
			return openTenantpath(tb, pgxConnector(tb, dsn), fixtureNaming)
		},
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			c, err := db.Conn(t.ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			return runStatements(t.ctx, c, &t.plain, n, id)
		},
	},
	{
		// The floor for lib/pq: schema-qualified statements over lib/pq.
		name: "raw-pq",
		open: func(tb testing.TB, dsn string) *sql.DB { return sql.OpenDB(pqConnector(tb, dsn)) },
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			return runStatements(bg, db, &t.qualified, n, id)
		},
	},
	{
		// 4. tenantpath over lib/pq.
		name: "tenantpath-pq",
		open: func(tb testing.TB, dsn string) *sql.DB {
			return openTenantpath(tb, pqConnector(tb, dsn), fixtureNaming)
		},
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			return runStatements(t.ctx, db, &t.plain, n, id)
		},
	},
}

// A tenantMix picks the tenant of each request; each worker has its own.
type tenantMix struct {
	name string
	new  func(r *rand.Rand) func() int
}

// zipfS is the skew of the 10,000-tenant traffic: P(rank k) ∝ (1+k)^-1.1,
// the smallest exponent math/rand/v2 allows near YCSB's 0.99. The busiest
// tenant gets about 15% of the requests and the busiest 100 about 65%.
const zipfS = 1.1

var tenantMixes = []tenantMix{
	{"one", func(*rand.Rand) func() int { return func() int { return 0 } }},
	{"uniform100", func(r *rand.Rand) func() int { return func() int { return r.IntN(100) } }},
	{"zipf10k", func(r *rand.Rand) func() int {
		z := rand.NewZipf(r, zipfS, 1, fixtureTenants-1)
		return func() int { return int(z.Uint64()) }
	}},
}

// rounds is how many times each scenario runs its contenders, one after the
// other, in reverse order every other round: A B C … C B A ….
// bench/cmd/report takes the median of the per-round ratios.
var rounds = flag.Int("rounds", 1, "BenchmarkRoute: rounds of every scenario's contenders")

var (
	poolSizes   = []int{4, 16}
	workerCount = []int{8, 64}
	stmtsPerOp  = []int{1, 5}
)

// BenchmarkRoute is the throughput matrix. One op is one request: a point
// select by primary key (stmts=1) or five statements (stmts=5), for the
// tenant the mix picks, run by `workers` goroutines sharing a pool of
// `pool` connections. Contenders of a scenario run one after the other, so
// their ratios come from the same minute of the same machine; with
// -rounds n they take turns n times, in reverse order every other round.
//
// Besides ns/op it reports, from pg_stat_statements, the statements the
// server executed per op (stmts/op) and those beyond the request's own
// (extra/op: switches, SETs, BEGIN/COMMIT), and the CPU time per op of the
// client (this process) and of the server's processes (from /proc): on a
// shared machine, CPU per op is the steadier measure of cost.
func BenchmarkRoute(b *testing.B) {
	dsn := benchFixture(b)
	admin := sql.OpenDB(pgxConnector(b, dsn))
	admin.SetMaxOpenConns(1)
	b.Cleanup(func() { admin.Close() })
	var version string
	if err := admin.QueryRow(`SELECT version()`).Scan(&version); err != nil {
		b.Fatal(err)
	}
	b.Logf("server: %s", version)
	dbs := map[string]*sql.DB{}
	b.Cleanup(func() {
		for _, db := range dbs {
			db.Close()
		}
	})
	warmed := map[string]bool{}
	for _, sc := range routeScenarios() {
		for round := 1; round <= *rounds; round++ {
			// A B C … then … C B A: whoever runs second after a pause (or
			// first after the previous scenario) gains or loses alike.
			order := slices.Clone(contenders)
			if round%2 == 0 {
				slices.Reverse(order)
			}
			for _, c := range order {
				b.Run(fmt.Sprintf("%s/round=%d/%s", sc.name, round, c.name), func(b *testing.B) {
					key := fmt.Sprintf("%s/%d", c.name, sc.pool)
					db := dbs[key]
					if db == nil {
						db = c.open(b, dsn)
						db.SetMaxOpenConns(sc.pool)
						db.SetMaxIdleConns(sc.pool)
						dbs[key] = db
					}
					op := func(t *tenantSQL, id int) error { return c.run(db, t, sc.stmts, id) }
					if w := sc.name + "/" + c.name; !warmed[w] {
						warmed[w] = true
						if err := drive(max(200, 4*sc.workers), sc.workers, sc.mix, op); err != nil {
							b.Fatal(err)
						}
					}
					if err := resetStatements(bg, admin); err != nil {
						b.Fatal(err)
					}
					cpu0, err := snapshotCPU(bg, admin)
					if err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					err = drive(b.N, sc.workers, sc.mix, op)
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
					b.ReportMetric(float64(counts.Total()-counts.User)/float64(b.N), "extra/op")
				})
			}
		}
	}
}

type routeScenario struct {
	name                 string
	mix                  tenantMix
	stmts, pool, workers int
}

func routeScenarios() []routeScenario {
	var all []routeScenario
	for _, mix := range tenantMixes {
		for _, n := range stmtsPerOp {
			for _, pool := range poolSizes {
				for _, workers := range workerCount {
					all = append(all, routeScenario{
						name: fmt.Sprintf("tenants=%s/stmts=%d/pool=%d/workers=%d", mix.name, n, pool, workers),
						mix:  mix, stmts: n, pool: pool, workers: workers,
					})
				}
			}
		}
	}
	return all
}

// drive runs ops requests on workers goroutines. Worker w draws its
// tenants and rows from seed w, so every contender sees the same traffic.
func drive(ops, workers int, mix tenantMix, op func(t *tenantSQL, id int) error) error {
	ts := allTenants()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 0x7e4a47))
			pick := mix.new(rand.New(rand.NewPCG(uint64(w), 0x5c4e3a)))
			for next.Add(1) <= int64(ops) {
				if err := op(&ts[pick()], 1+r.IntN(rowsPerTenant)); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
