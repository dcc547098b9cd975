package main

import (
	"fmt"
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
	d := groupRoute(rs)
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
