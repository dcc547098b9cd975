package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// routeLine is one line of BenchmarkRoute's output.
func routeLine(scenario string, round int, contender string, nsPerOp float64) string {
	return fmt.Sprintf("BenchmarkRoute/%s/round=%d/%s-2 \t 1000\t %.0f ns/op\t 20.00 client-cpu-µs/op\t 30.00 server-cpu-µs/op\t 1.000 stmts/op\t 0 extra/op",
		scenario, round, contender, nsPerOp)
}

// routeOutput is BenchmarkRoute's output for scenarios where each
// contender takes the time per op given, in each of rounds rounds.
func routeOutput(rounds int, scenarios []string, nsPerOp map[string]float64) string {
	var b strings.Builder
	for _, sc := range scenarios {
		for r := 1; r <= rounds; r++ {
			for _, c := range []string{rawPgx, setConn, setLocal, tpPgx, tpPgxConn, tpgxPgx, rawPq, tpPq} {
				if ns, ok := nsPerOp[c]; ok {
					b.WriteString(routeLine(sc, r, c, ns) + "\n")
				}
			}
		}
	}
	return b.String()
}

const (
	delayedUniformSelect = "link=delay250us/tenants=uniform100/stmts=1/pool=8/workers=8"
	delayedUniformReq32  = "link=delay250us/tenants=uniform100/stmts=5/pool=8/workers=32"
	loopbackOneSelect    = "link=loopback/tenants=one/stmts=1/pool=4/workers=8"
)

func TestGroupRouteReadsBothNameForms(t *testing.T) {
	out := routeLine("tenants=one/stmts=1/pool=4/workers=8", 1, rawPgx, 100) + "\n" + // before the link element
		routeLine(delayedUniformSelect, 1, setConn, 200)
	rs, _ := parseBench(out)
	d := groupRounds(rs, routePrefix)
	if len(d.scenarios) != 2 {
		t.Fatalf("%d scenarios, want 2: %+v", len(d.scenarios), d.scenarios)
	}
	if got := d.scenarios[0]; got.link != loopbackLink || got.tenants != "one" || got.pool != 4 || got.workers != 8 || got.stmts != 1 {
		t.Errorf("old name read as %+v", got)
	}
	if got := d.scenarios[1]; got.link != "delay250us" || got.tenants != "uniform100" || got.pool != 8 {
		t.Errorf("link name read as %+v", got)
	}
	if want := []string{loopbackLink, "delay250us"}; strings.Join(d.links, ",") != strings.Join(want, ",") {
		t.Errorf("links %v, want %v", d.links, want)
	}
	if got := linkTitle("delay250us"); got != "Over the delaying link (250 µs each way)" {
		t.Errorf("linkTitle: %q", got)
	}
}

// TestRoundTripTargets: the targets over the delaying link are judged on
// their own scenarios only, met at or above the ratio, missed below it.
func TestRoundTripTargets(t *testing.T) {
	out := routeOutput(3, []string{delayedUniformSelect}, map[string]float64{
		rawPgx: 100, setConn: 170, tpPgx: 100, // tenantpath-pgx 1.7× SET: met
	}) + routeOutput(3, []string{delayedUniformReq32}, map[string]float64{
		rawPgx: 100, setConn: 105, tpPgx: 100, // 1.05×: missed against 1.1×
	}) + routeOutput(3, []string{loopbackOneSelect}, map[string]float64{
		rawPgx: 100, setConn: 100, tpPgx: 100,
	})
	rs, _ := parseBench(out)
	doc := render(renderInput{route: rs, rounds: 3})
	for _, want := range []string{
		"| 100 uniform, point select, pool 8, 8 workers: tenantpath-pgx ≥ 1.6× hand-rolled SET | delayed | 1.70 | **met** (lowest 1.70×) |",
		"| 100 uniform, 5-stmt request on the shared `*sql.DB`, pool 8, 32 workers: tenantpath-pgx ≥ 1.1× hand-rolled SET | delayed | 1.05 | **missed** (lowest 1.05×) |",
		"| 100 uniform, point select: tenantpath-pgx ≥ 1.2× hand-rolled SET | loopback |  | no data |",
		"| same tenant: tenantpath-pgx ≥ 0.97× raw pgx | loopback | 1.00 | **met** (lowest 1.00×) |",
		"### Over the delaying link (250 µs each way)",
		"| 100 uniform, point select, pool 8, 8 workers | **1.00×** (1.00–1.00) | **1.70×** (1.70–1.70) |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks\n%s\n%s", want, doc)
		}
	}
}

// TestNewContenderJoinsTheReport: tenantpgx-pgx, once it runs, is
// described, compared and judged against the targets beside
// tenantpath-pgx, with nothing else to change.
func TestNewContenderJoinsTheReport(t *testing.T) {
	out := routeOutput(1, []string{delayedUniformSelect}, map[string]float64{
		rawPgx: 100, setConn: 200, setLocal: 400, tpPgx: 190, tpgxPgx: 100,
	})
	rs, _ := parseBench(out)
	doc := render(renderInput{route: rs, rounds: 1})
	for _, want := range []string{
		"`tenantpgx-pgx`: pgx through `tenantpgx.OpenDB(cfg, opts...)`",
		"tenantpgx ÷ SET (2)",
		"| 100 uniform, point select, pool 8, 8 workers: tenantpgx-pgx ≥ 1.6× hand-rolled SET | delayed | 2.00 | **met** (lowest 2.00×) |",
		"| 100 uniform, point select, pool 8, 8 workers: tenantpath-pgx ≥ 1.6× hand-rolled SET | delayed | 1.05 | **missed** (lowest 1.05×) |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks\n%s\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "`tenantpath-pq`") {
		t.Error("a contender that did not run is described")
	}
}

func TestLinkSection(t *testing.T) {
	var out strings.Builder
	for _, floor := range []float64{10, 14, 30} {
		fmt.Fprintf(&out, "BenchmarkDelayLink-2 \t 2000\t 900000 ns/op\t 600.0 delayed-µs\t 50.00 direct-µs\t %.2f floor-µs\t 40.00 late-µs\t %.1f proxy0-µs\n", floor, 50+floor)
	}
	rs, _ := parseBench(out.String())
	doc := render(renderInput{link: rs, delay: "250us"})
	for _, want := range []string{
		"## The delaying link",
		"that holds every chunk it reads for a fixed delay (250µs) in each direction",
		"| **the proxy's floor**: its two extra hops per round trip (no delay − direct) | 14 (10–30) |",
		"| direct to the server | 50 |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks\n%s\n%s", want, doc)
		}
	}
}

// TestRerenderKeepsTheDelay renders from a saved -raw file: the link's
// delay and results come back.
func TestRerenderKeepsTheDelay(t *testing.T) {
	dir := t.TempDir()
	raw := rawHeader + "throughput go test -bench ^BenchmarkRoute$ ./bench/ -args -rounds 1 -delay 250us\n" +
		routeOutput(1, []string{delayedUniformSelect}, map[string]float64{rawPgx: 100, setConn: 200, tpPgx: 100}) + "\n" +
		rawHeader + "link go test -bench ^BenchmarkDelayLink$ ./bench/\n" +
		"BenchmarkDelayLink-2 \t 2000\t 900000 ns/op\t 600.0 delayed-µs\t 50.00 direct-µs\t 12.00 floor-µs\t 40.00 late-µs\t 62.0 proxy0-µs\n" +
		rawHeader + "info 1 300ms 2026-01-02T03:04:05Z 20m0s 1.0_1.0_1.0 250us\n"
	from, out := filepath.Join(dir, "raw.txt"), filepath.Join(dir, "BENCHMARKS.md")
	if err := os.WriteFile(from, []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rerender(from, out, ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{"-delay 250us", "| **the proxy's floor**: its two extra hops per round trip (no delay − direct) | 12 |", "| 1.00× | 2.00× |"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks %q", want)
		}
	}
}

// poolLine is one line of BenchmarkPool's output.
func poolLine(scenario string, round int, contender string, nsPerOp, switches, stmts float64) string {
	return fmt.Sprintf("BenchmarkPool/%s/round=%d/%s-2 \t 1000\t %.0f ns/op\t 20.00 client-cpu-µs/op\t 30.00 server-cpu-µs/op\t %.3f stmts/op\t %.4f switches/op",
		scenario, round, contender, nsPerOp, stmts, switches)
}

// poolRun is what one contender of BenchmarkPool does in a scenario: its
// time per op in each round, and its switches per op in every round.
type poolRun struct {
	ns       []float64
	switches float64
}

// poolOutput is BenchmarkPool's output, rounds in the order of each
// contender's ns.
func poolOutput(scenario string, runs map[string]poolRun) string {
	var b strings.Builder
	for round := 1; ; round++ {
		wrote := false
		for _, c := range []string{setConn, setConnReq, tpPgx, tpPgxPool, tpPqPool} {
			if r, ok := runs[c]; ok && round <= len(r.ns) {
				b.WriteString(poolLine(scenario, round, c, r.ns[round-1], r.switches, 1+r.switches) + "\n")
				wrote = true
			}
		}
		if !wrote {
			return b.String()
		}
	}
}

// poolMemoryOutput is BenchmarkPoolBackendMemory's output with the memory
// contexts given, without and with Pool.
func poolMemoryOutput(without, with float64) string {
	const line = "BenchmarkPoolBackendMemory/tenants=zipf10k/conns=16/workers=64/%s-2 \t 1\t 4688385022 ns/op\t 16.00 backends\t %.4f switches/op\t %.1f total-backend-MB\t %.1f total-rss-anon-MB\t 227.7 µs/request\n"
	return fmt.Sprintf(line, "database-sql", 0.9671, without, 273.3) + fmt.Sprintf(line, "pool", 0.7001, with, 137.6)
}

const (
	poolZipf2kSelect  = "tenants=zipf2k/stmts=1/pool=16/workers=64"
	poolZipf2kReq     = "tenants=zipf2k/stmts=5/pool=16/workers=64"
	poolZipf10kSelect = "tenants=zipf10k/stmts=1/pool=16/workers=64"
	poolZipf10kReq    = "tenants=zipf10k/stmts=5/pool=16/workers=64"
)

// samplePool is BenchmarkPool's output for three rounds of the four
// scenarios; tenantpath-pgx-pool misses the point select target (0.700
// switches per op), meets the request target (0.624), and on 10k Zipf
// requests runs at 1000/900, 1000/1100 and 1000/800 of set-conn's time:
// 1.11×, 0.91×, 1.25×.
func samplePool() string {
	steady := func(ns float64) []float64 { return []float64{ns, ns, ns} }
	return poolOutput(poolZipf2kSelect, map[string]poolRun{
		setConn: {steady(1000), 1}, setConnReq: {steady(1000), 1}, tpPgx: {steady(1000), 0.957},
		tpPgxPool: {steady(800), 0.700}, tpPqPool: {steady(1250), 0.627},
	}) + poolOutput(poolZipf2kReq, map[string]poolRun{
		setConn: {steady(5000), 1}, setConnReq: {steady(5000), 1}, tpPgx: {steady(10000), 4.781},
		tpPgxPool: {steady(4000), 0.624}, tpPqPool: {steady(5000), 0.636},
	}) + poolOutput(poolZipf10kSelect, map[string]poolRun{
		setConn: {steady(1000), 1}, tpPgxPool: {steady(1000), 0.779},
	}) + poolOutput(poolZipf10kReq, map[string]poolRun{
		setConn: {steady(1000), 1}, setConnReq: {steady(1000), 1}, tpPgxPool: {[]float64{900, 1100, 800}, 0.677},
	})
}

// TestPoolSection: BenchmarkPool's ratios, switches and statements, and
// BenchmarkPoolBackendMemory's table, in a section of their own.
func TestPoolSection(t *testing.T) {
	rs, _ := parseBench(samplePool())
	mem, _ := parseBench(poolMemoryOutput(347.4, 126.2))
	doc := render(renderInput{pool: rs, poolMemory: mem, rounds: 3})
	sec := section(doc, "## Tenant-affine pool (`Pool(n)`)")
	for _, want := range []string{
		"| scenario | pgx ÷ SET (2) | pgx Pool ÷ SET (2) | pgx Pool ÷ SET per request | pgx Pool ÷ pgx | pq Pool ÷ SET (2) | pq Pool ÷ SET per request |",
		"| 2k Zipf, point select, pool 16, 64 workers | **1.00×** (1.00–1.00) | **1.25×** (1.25–1.25) | **1.25×** (1.25–1.25) | **1.25×** (1.25–1.25) | **0.80×** (0.80–0.80) | **0.80×** (0.80–0.80) |",
		"| 10k Zipf, 5-stmt request, pool 16, 64 workers | – | **1.11×** (0.91–1.25) | **1.11×** (0.91–1.25) | – | – | – |",
		"| 2k Zipf, 5-stmt request, pool 16, 64 workers | 1.000 (2) | 1.000 (2) | 4.781 (5.78) | 0.624 (1.62) | 0.636 (1.64) |",
		"- `tenantpath-pgx-pool`: `tenantpath.OpenDB` over `stdlib.GetConnector` with `tenantpath.Pool(n)`",
		"`BenchmarkPoolBackendMemory`: 100,000 point selects",
		"| 10k Zipf, 16 connections, 64 workers | `database/sql`'s | 0.967 | 347.4 | 273.3 | 16 | 228 |",
		"| `Pool(16)` | 0.700 | 126.2 | 137.6 | 16 | 228 |",
		"| | Pool ÷ `database/sql` | | **0.36×** | **0.50×** | | |",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("the pool's section lacks\n%s\n%s", want, sec)
		}
	}
	if strings.Contains(section(doc, "## Contenders"), "tenantpath-pgx-pool") {
		t.Error("a contender of BenchmarkPool only is described among BenchmarkRoute's")
	}
	if strings.Contains(section(doc, "## Throughput ratios"), "2k Zipf") {
		t.Error("BenchmarkPool's scenarios are in BenchmarkRoute's tables")
	}
}

// TestPoolTargets: the four rows of the pool, computed from the run, each
// met or missed with its number; none is left out when missed.
func TestPoolTargets(t *testing.T) {
	rs, _ := parseBench(samplePool())
	mem, _ := parseBench(poolMemoryOutput(347.4, 126.2))
	doc := render(renderInput{pool: rs, poolMemory: mem, rounds: 3})
	for _, want := range []string{
		"| 2k Zipf, point select, pool 16, 64 workers: tenantpath-pgx-pool ≤ 0.65 switches per op | loopback | 0.700 (rounds 0.700–0.700) | **missed** (highest round 0.700) | – |",
		"| 2k Zipf, 5-stmt request on the shared `*sql.DB`, pool 16, 64 workers: tenantpath-pgx-pool ≤ 1.2 switches per request | loopback | 0.624 (rounds 0.624–0.624) | **met** (highest round 0.624) | – |",
		"| 10k Zipf, 5-stmt request on the shared `*sql.DB`, pool 16, 64 workers: tenantpath-pgx-pool ≥ 1.0× hand-rolled SET | loopback | 1.11 (rounds 0.91–1.25) | **met** (lowest 1.11×, lowest round 0.91×) | met (lowest 1.00×, lowest round 1.00×) |",
		"| backend memory, 10k Zipf through 16 connections: with `Pool(16)` ≤ 0.5× without (memory contexts; no `MaxTenantsPerConn`) | loopback | contexts 126.2 ÷ 347.4 MB = 0.36× (RssAnon 137.6 ÷ 273.3 MB = 0.50×) | **met** (highest 0.36×) | – |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the targets lack\n%s\n%s", want, section(doc, "## Targets"))
		}
	}

	// Slower than set-conn in two rounds of three, and half the memory
	// plus a little: both missed.
	slow := poolOutput(poolZipf10kReq, map[string]poolRun{
		setConn: {[]float64{1000, 1000, 1000}, 1}, tpPgxPool: {[]float64{1100, 900, 1250}, 0.677},
	})
	rs, _ = parseBench(slow)
	mem, _ = parseBench(poolMemoryOutput(200, 100.2))
	doc = render(renderInput{pool: rs, poolMemory: mem, rounds: 3})
	for _, want := range []string{
		"| 10k Zipf, 5-stmt request on the shared `*sql.DB`, pool 16, 64 workers: tenantpath-pgx-pool ≥ 1.0× hand-rolled SET | loopback | 0.91 (rounds 0.80–1.11) | **missed** (lowest 0.91×, lowest round 0.80×) |",
		"| loopback | contexts 100.2 ÷ 200.0 MB = 0.50× (RssAnon 137.6 ÷ 273.3 MB = 0.50×) | **missed** (highest 0.50×) | – |",
		"| 2k Zipf, point select, pool 16, 64 workers: tenantpath-pgx-pool ≤ 0.65 switches per op | loopback |  | no data | – |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the targets lack\n%s\n%s", want, section(doc, "## Targets"))
		}
	}
}

// TestPoolNotRun: without the pool's benchmarks the section says so and
// the pool's targets say "no data".
func TestPoolNotRun(t *testing.T) {
	doc := render(renderInput{})
	if got := section(doc, "## Tenant-affine pool (`Pool(n)`)"); !strings.Contains(got, "Not measured in this run.") {
		t.Errorf("the pool's section is\n%s", got)
	}
	if n := strings.Count(section(doc, "## Targets"), "tenantpath-pgx-pool"); n != 3 {
		t.Errorf("%d rows of tenantpath-pgx-pool in the targets, want 3", n)
	}
	if !strings.Contains(doc, "with `Pool(16)` ≤ 0.5× without (memory contexts; no `MaxTenantsPerConn`) | loopback |  | no data |") {
		t.Errorf("the memory target is missing or judged without data:\n%s", section(doc, "## Targets"))
	}
}

// TestBenchCommands: the pool's benchmarks run with the rounds and
// benchtime of BenchmarkRoute; -skip-pool leaves both out, -skip-memory
// both memory benchmarks.
func TestBenchCommands(t *testing.T) {
	strs := func(set runSettings) string {
		var out []string
		for _, c := range benchCommands(set) {
			out = append(out, c.what+": "+c.String())
		}
		return strings.Join(out, "\n")
	}
	set := runSettings{rounds: 5, benchtime: "300ms", delay: "250us"}
	all := strs(set)
	for _, want := range []string{
		"throughput: go test -v -run '^$' -bench '^BenchmarkRoute$' -benchtime 300ms -timeout 90m ./bench/ -args -rounds 5 -delay 250us",
		"pool: go test -v -run '^$' -bench '^BenchmarkPool$' -benchtime 300ms -timeout 90m ./bench/ -args -rounds 5",
		"pool-memory: go test -run '^$' -bench '^BenchmarkPoolBackendMemory$' -benchtime 1x -timeout 60m ./bench/",
		"memory: go test -run '^$' -bench '^BenchmarkBackendMemory$'",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the commands lack\n%s\n%s", want, all)
		}
	}
	set.skipPool = true
	if got := strs(set); strings.Contains(got, "BenchmarkPool") || !strings.Contains(got, "BenchmarkBackendMemory") {
		t.Errorf("-skip-pool:\n%s", got)
	}
	set.skipPool, set.skipMemory = false, true
	if got := strs(set); strings.Contains(got, "Memory") || !strings.Contains(got, "^BenchmarkPool$") {
		t.Errorf("-skip-memory:\n%s", got)
	}
}

// TestRerenderIncludesThePool renders from a saved -raw file with the
// pool's output: its commands, section and targets come back.
func TestRerenderIncludesThePool(t *testing.T) {
	dir := t.TempDir()
	poolCmd := "go test -v -run '^$' -bench '^BenchmarkPool$' -benchtime 300ms -timeout 90m ./bench/ -args -rounds 3"
	memCmd := "go test -run '^$' -bench '^BenchmarkPoolBackendMemory$' -benchtime 1x -timeout 60m ./bench/ -args -pool-mem-requests 20000"
	raw := rawHeader + "pool " + poolCmd + "\n" + samplePool() + "\n" +
		rawHeader + "pool-memory " + memCmd + "\n" + poolMemoryOutput(101.3, 69.3) +
		rawHeader + "info 3 300ms 2026-01-02T03:04:05Z 20m0s 1.0_1.0_1.0 250us\n"
	from, out := filepath.Join(dir, "raw.txt"), filepath.Join(dir, "BENCHMARKS.md")
	if err := os.WriteFile(from, []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rerender(from, out, ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{
		poolCmd + "\n" + memCmd + "\n",
		"## Tenant-affine pool (`Pool(n)`)",
		"`BenchmarkPoolBackendMemory`: 20,000 point selects",
		"| 0.700 (rounds 0.700–0.700) | **missed** (highest round 0.700) |",
		"| contexts 69.3 ÷ 101.3 MB = 0.68× (RssAnon 137.6 ÷ 273.3 MB = 0.50×) | **missed** (highest 0.68×) |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks\n%s", want)
		}
	}
}

// TestProfiledFunctionsExist: the summary's cumulative shares name
// functions of package tenantpath; a rename there must not leave them
// reading 0% (go/parser over the root package's files).
func TestProfiledFunctionsExist(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("../../../*.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			name := fn.Name.Name
			if fn.Recv != nil && len(fn.Recv.List) == 1 {
				if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
					if id, ok := star.X.(*ast.Ident); ok {
						name = "(*" + id.Name + ")." + name
					}
				}
			}
			declared[name] = true
		}
	}
	if len(declared) == 0 {
		t.Fatal("no function found in the root package")
	}
	for _, fn := range []string{routeFunc, scanFunc} {
		if !declared[fn] {
			t.Errorf("package tenantpath has no function %s, which the profile summary reports", fn)
		}
	}
}
