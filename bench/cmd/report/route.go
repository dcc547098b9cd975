package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// roundsKey starts the round element of BenchmarkRoute's and
// BenchmarkPool's names.
const roundsKey = "round="

// The names of the benchmarks whose contenders take turns in rounds,
// without the Benchmark prefix, with the slash before their scenarios.
const (
	routePrefix = "Route/"
	poolPrefix  = "Pool/"
)

// scenario is one scenario of BenchmarkRoute or BenchmarkPool, parsed from
// its name: link=…/tenants=…/stmts=…/pool=…/workers=… (runs from before
// the delaying link, and BenchmarkPool's, have no link element: they ran
// on loopback).
type scenario struct {
	key                  string // the scenario part of the benchmark name, as written
	link                 string // loopback, delay250us
	tenants              string // one, uniform100, zipf10k
	stmts, pool, workers int
}

func parseScenario(key string) scenario {
	sc := scenario{key: key, link: loopbackLink}
	for _, p := range strings.Split(key, "/") {
		k, v, _ := strings.Cut(p, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "link":
			sc.link = v
		case "tenants":
			sc.tenants = v
		case "stmts":
			sc.stmts = n
		case "pool":
			sc.pool = n
		case "workers":
			sc.workers = n
		}
	}
	return sc
}

const loopbackLink = "loopback"

// tenantsTitle says what a tenants element of a benchmark's names means.
func tenantsTitle(tenants string) string {
	if t := map[string]string{"one": "1 tenant", "uniform100": "100 uniform", "zipf2k": "2k Zipf", "zipf10k": "10k Zipf"}[tenants]; t != "" {
		return t
	}
	return tenants
}

// title turns the scenario into a table row's title.
func (sc scenario) title() string {
	tenants := tenantsTitle(sc.tenants)
	op := "point select"
	if sc.stmts != 1 {
		op = fmt.Sprintf("%d-stmt request", sc.stmts)
	}
	return fmt.Sprintf("%s, %s, pool %d, %d workers", tenants, op, sc.pool, sc.workers)
}

// linkTitle says what a link element of BenchmarkRoute's names means.
func linkTitle(link string) string {
	if link == loopbackLink {
		return "Loopback"
	}
	if v, ok := strings.CutPrefix(link, "delay"); ok {
		v = strings.Replace(v, "us", " µs", 1)
		v = strings.Replace(v, "ns", " ns", 1)
		return "Over the delaying link (" + v + " each way)"
	}
	return link
}

// routeData holds the results of a benchmark run in rounds (BenchmarkRoute,
// BenchmarkPool): scenario → contender → one result per round, in round
// order; scenarios, links and contenders in the order they first appear.
type routeData struct {
	scenarios  []scenario
	links      []string
	contenders []string
	by         map[string]map[string][]result
}

// groupRounds groups the results of the benchmark named by prefix
// (routePrefix, poolPrefix): names prefix+scenario/round=…/contender.
func groupRounds(rs []result, prefix string) routeData {
	d := routeData{by: map[string]map[string][]result{}}
	for _, r := range rs {
		name, ok := strings.CutPrefix(r.name, prefix)
		if !ok {
			continue
		}
		parts := strings.Split(name, "/")
		n := len(parts)
		if n < 6 || !strings.HasPrefix(parts[n-2], roundsKey) {
			continue
		}
		key, c := strings.Join(parts[:n-2], "/"), parts[n-1]
		if d.by[key] == nil {
			d.by[key] = map[string][]result{}
			sc := parseScenario(key)
			d.scenarios = append(d.scenarios, sc)
			if !slices.Contains(d.links, sc.link) {
				d.links = append(d.links, sc.link)
			}
		}
		if !slices.Contains(d.contenders, c) {
			d.contenders = append(d.contenders, c)
		}
		d.by[key][c] = append(d.by[key][c], r)
	}
	return d
}

// onLink returns the scenarios run over link.
func (d routeData) onLink(link string) []scenario {
	var out []scenario
	for _, sc := range d.scenarios {
		if sc.link == link {
			out = append(out, sc)
		}
	}
	return out
}

// has reports whether contender c ran in any scenario.
func (d routeData) has(c string) bool { return slices.Contains(d.contenders, c) }

// ratio is a ratio of two contenders over the rounds both ran: the median
// of the per-round ratios, with their range.
type ratio struct {
	med, lo, hi float64
	n           int
}

// ratio is the throughput of a over that of b: the inverse of the ratio of
// their times per op.
func (d routeData) ratio(sc scenario, a, b string) ratio {
	return d.perRound(sc, a, b, func(r result) float64 { return r.metrics["ns/op"] })
}

// cpuRatio is how many times more CPU (client and server) b spends per op
// than a.
func (d routeData) cpuRatio(sc scenario, a, b string) ratio {
	return d.perRound(sc, a, b, cpuPerOp)
}

// perRound is the median and range over the rounds of cost(b)/cost(a),
// leaving out rounds where either cost is unknown (0).
func (d routeData) perRound(sc scenario, a, b string, cost func(result) float64) ratio {
	ra, rb := d.by[sc.key][a], d.by[sc.key][b]
	var xs []float64
	for i := 0; i < len(ra) && i < len(rb); i++ {
		ca, cb := cost(ra[i]), cost(rb[i])
		if ca > 0 && cb > 0 {
			xs = append(xs, cb/ca)
		}
	}
	if len(xs) == 0 {
		return ratio{med: math.NaN()}
	}
	r := ratio{n: len(xs), lo: slices.Min(xs), hi: slices.Max(xs)}
	r.med = median(xs)
	return r
}

// cpuPerOp is the client's and the server's CPU time per op, or 0 if the
// server's is unknown.
func cpuPerOp(r result) float64 {
	s, ok := r.metrics["server-cpu-µs/op"]
	if !ok {
		return 0
	}
	return s + r.metrics["client-cpu-µs/op"]
}

func (r ratio) String() string {
	if math.IsNaN(r.med) {
		return "–"
	}
	if r.n == 1 {
		return fmt.Sprintf("%.2f×", r.med)
	}
	return fmt.Sprintf("**%.2f×** (%.2f–%.2f)", r.med, r.lo, r.hi)
}

// metric returns the median of a metric over the rounds.
func (d routeData) metric(sc scenario, c, unit string) float64 {
	return median(d.rounds(sc, c, unit))
}

// rounds returns a metric of every round that reported it, in round order.
func (d routeData) rounds(sc scenario, c, unit string) []float64 {
	var xs []float64
	for _, r := range d.by[sc.key][c] {
		if v, ok := r.metrics[unit]; ok {
			xs = append(xs, v)
		}
	}
	return xs
}

// cpuMedian returns the median CPU per op (client and server) over the
// rounds.
func (d routeData) cpuMedian(sc scenario, c string) float64 {
	var xs []float64
	for _, r := range d.by[sc.key][c] {
		if v := cpuPerOp(r); v > 0 {
			xs = append(xs, v)
		}
	}
	return median(xs)
}
