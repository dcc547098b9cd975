package bench

import (
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

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

// The loopback matrix.
var (
	poolSizes   = []int{4, 16}
	workerCount = []int{8, 64}
	stmtsPerOp  = []int{1, 5}
)

// The round-trip scenarios: one tenant and 100 uniform tenants, both
// kinds of request, pool 8 with 8 and 32 workers, over the delaying link.
var (
	linkTenantMixes = []string{"one", "uniform100"}
	linkPoolSizes   = []int{8}
	linkWorkerCount = []int{8, 32}
)

// BenchmarkRoute is the throughput matrix. One op is one request: a point
// select by primary key (stmts=1) or five statements (stmts=5), for the
// tenant the mix picks, run by `workers` goroutines sharing a pool of
// `pool` connections, over loopback or over the delaying link (-delay each
// way; see link_test.go). Contenders of a scenario run one after the
// other, so their ratios come from the same minute of the same machine;
// with -rounds n they take turns n times, in reverse order every other
// round.
//
// Besides ns/op it reports, from pg_stat_statements, the statements the
// server executed per op (stmts/op) and those beyond the request's own
// (extra/op: switches, SETs, BEGIN/COMMIT), and the CPU time per op of the
// client (this process, the delaying proxy included) and of the server's
// processes (from /proc): on a shared machine, CPU per op is the steadier
// measure of cost.
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
	r := &routeRun{admin: admin, dsn: map[string]string{}, dbs: map[string]*sql.DB{}, warmed: map[string]bool{}}
	b.Cleanup(func() {
		for _, db := range r.dbs {
			db.Close()
		}
	})
	for _, sc := range routeScenarios(*linkDelay) {
		if _, ok := r.dsn[sc.link.name]; !ok {
			r.dsn[sc.link.name] = sc.link.dsn(b, dsn)
			b.Logf("link %s: %s", sc.link.name, sc.link.describe())
		}
		for round := 1; round <= *rounds; round++ {
			// A B C … then … C B A: whoever runs second after a pause (or
			// first after the previous scenario) gains or loses alike.
			order := slices.Clone(contenders)
			if round%2 == 0 {
				slices.Reverse(order)
			}
			for _, c := range order {
				b.Run(fmt.Sprintf("%s/round=%d/%s", sc.name, round, c.name), func(b *testing.B) {
					r.measure(b, sc, c)
				})
			}
		}
	}
}

// routeRun is what BenchmarkRoute keeps across its scenarios: the DSN of
// each link, a *sql.DB per contender, pool size and link, and which
// scenario has warmed which contender.
type routeRun struct {
	admin  *sql.DB // statistics and CPU, on loopback
	dsn    map[string]string
	dbs    map[string]*sql.DB
	warmed map[string]bool
}

// measure runs one contender in one scenario for b.N requests and reports
// the statements and CPU time per request.
func (r *routeRun) measure(b *testing.B, sc routeScenario, c contender) {
	key := fmt.Sprintf("%s/%d/%s", c.name, sc.pool, sc.link.name)
	db := r.dbs[key]
	if db == nil {
		db = openContender(b, c, r.dsn[sc.link.name], sc.pool)
		r.dbs[key] = db
	}
	op := func(t *tenantSQL, id int) error { return c.run(db, t, sc.stmts, id) }
	if w := sc.name + "/" + c.name; !r.warmed[w] {
		r.warmed[w] = true
		if err := drive(max(200, 4*sc.workers), sc.workers, sc.mix, op); err != nil {
			b.Fatal(err)
		}
	}
	if err := resetStatements(bg, r.admin); err != nil {
		b.Fatal(err)
	}
	cpu0, err := snapshotCPU(bg, r.admin)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	err = drive(b.N, sc.workers, sc.mix, op)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	cpu1, err := snapshotCPU(bg, r.admin)
	if err != nil {
		b.Fatal(err)
	}
	client, server, ok := cpu0.since(cpu1)
	b.ReportMetric(float64(client.Microseconds())/float64(b.N), "client-cpu-µs/op")
	if ok {
		b.ReportMetric(float64(server.Microseconds())/float64(b.N), "server-cpu-µs/op")
	}
	counts, err := readStatements(bg, r.admin)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(counts.Total())/float64(b.N), "stmts/op")
	b.ReportMetric(float64(counts.Total()-counts.User)/float64(b.N), "extra/op")
}

type routeScenario struct {
	name                 string // link=…/tenants=…/stmts=…/pool=…/workers=…
	link                 link
	mix                  tenantMix
	stmts, pool, workers int
}

// routeScenarios is the loopback matrix followed by the round-trip
// scenarios over a link that delays each direction by delay.
func routeScenarios(delay time.Duration) []routeScenario {
	all := scenarioMatrix(loopback, tenantMixes, poolSizes, workerCount)
	var mixes []tenantMix
	for _, m := range tenantMixes {
		if slices.Contains(linkTenantMixes, m.name) {
			mixes = append(mixes, m)
		}
	}
	return append(all, scenarioMatrix(delayedLink(delay), mixes, linkPoolSizes, linkWorkerCount)...)
}

func scenarioMatrix(l link, mixes []tenantMix, pools, workers []int) []routeScenario {
	var all []routeScenario
	for _, mix := range mixes {
		for _, n := range stmtsPerOp {
			for _, pool := range pools {
				for _, w := range workers {
					all = append(all, routeScenario{
						name: fmt.Sprintf("link=%s/tenants=%s/stmts=%d/pool=%d/workers=%d", l.name, mix.name, n, pool, w),
						link: l, mix: mix, stmts: n, pool: pool, workers: w,
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
