package main

import (
	"fmt"
	"slices"
	"strings"
)

// The section of the tenant-affine pool, Pool(n): BenchmarkPool, run in
// rounds like BenchmarkRoute and shown with its tables, and
// BenchmarkPoolBackendMemory.

func poolSection(w *writer, in renderInput, _ routeData) {
	w.p("## Tenant-affine pool (`Pool(n)`)\n\n")
	d := groupRounds(in.pool, poolPrefix)
	if len(d.scenarios) == 0 && len(in.poolMemory) == 0 {
		w.p("Not measured in this run.\n\n")
		return
	}
	w.p("With `tenantpath.Pool(n)` tenantpath owns the server connections and hands each call one already on the caller's tenant when it can ([pool.md](pool.md)). ")
	w.p("`BenchmarkPool` runs it on the fixture above against the hand-rolled `db.Conn` + `SET` and against tenantpath on `database/sql`'s pool; ")
	w.p("the contenders take turns in rounds as above. Switches per op are counted by the server (`pg_stat_statements`: tenantpath's `set_config` calls and the hand-rolled `SET`s alike).\n\n")
	if len(d.scenarios) > 0 {
		poolContenders(w, d)
		w.p("Scenarios: %s.\n\n", scenarioSpan(d.scenarios))
		w.p("### Throughput ratios (Pool)\n\nThroughput of the first contender divided by the second's, same scenario, same round.\n\n")
		throughputTable(w, d, d.scenarios)
		w.p("\n### CPU cost ratios (Pool)\n\nThe other contender's CPU per op (client and server) divided by the first one's, as in \"CPU cost ratios\".\n\n")
		cpuTable(w, d, d.scenarios)
		w.p("\n### Switches and statements per op (Pool)\n\n")
		w.p("Switches the server ran per op, and in brackets all the statements it ran per op (median over the rounds).\n\n")
		switchesTable(w, d, d.scenarios)
		w.p("\n### Absolute throughput (Pool)\n\nRequests per second (median over the rounds; `1e9 / ns/op`).\n\n")
		absoluteTable(w, d, d.scenarios)
		w.p("\n")
	}
	poolMemoryTable(w, in)
}

// poolContenders lists the contenders BenchmarkPool ran.
func poolContenders(w *writer, d routeData) {
	for _, c := range d.contenders {
		if info, ok := infoOf(c); ok {
			w.p("- `%s`: %s\n", c, info.doc)
		} else {
			w.p("- `%s`\n", c)
		}
	}
	w.p("\n")
}

// switchesTable writes, per scenario and contender, the switches the
// server ran per op and, in brackets, all the statements it ran per op.
func switchesTable(w *writer, d routeData, scs []scenario) {
	contenderHeader(w, d, " ---: |")
	for _, sc := range scs {
		w.p("| %s |", sc.title())
		for _, c := range d.contenders {
			w.p(" %s (%s) |", num3(d.metric(sc, c, "switches/op")), num(d.metric(sc, c, "stmts/op")))
		}
		w.p("\n")
	}
}

// poolMemoryPair is one load of BenchmarkPoolBackendMemory with the
// medians of its metrics on database/sql's pool (without) and on
// Pool(n) (with); nil when that run is missing.
type poolMemoryPair struct {
	load          string // the name without the pool element: tenants=…/conns=…/workers=…
	without, with map[string]float64
}

// poolMemoryPairs groups BenchmarkPoolBackendMemory's results by load, in
// order of first appearance.
func poolMemoryPairs(rs []result) []poolMemoryPair {
	var out []poolMemoryPair
	for _, g := range groupPrefix(rs, "PoolBackendMemory/") {
		i := strings.LastIndex(g.name, "/")
		load, which := g.name[:max(i, 0)], g.name[i+1:]
		j := slices.IndexFunc(out, func(p poolMemoryPair) bool { return p.load == load })
		if j < 0 {
			out = append(out, poolMemoryPair{load: load})
			j = len(out) - 1
		}
		switch which {
		case "database-sql":
			out[j].without = g.m
		case "pool":
			out[j].with = g.m
		}
	}
	return out
}

// ratio is metric unit with Pool over without it, if both runs report it.
func (p poolMemoryPair) ratio(unit string) (float64, bool) {
	a, oka := p.with[unit]
	b, okb := p.without[unit]
	if !oka || !okb || b <= 0 {
		return 0, false
	}
	return a / b, true
}

// title says what the load is, and conns the size of the pool.
func (p poolMemoryPair) title() (title, conns string) {
	var tenants, workers string
	for _, part := range strings.Split(p.load, "/") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "tenants":
			tenants = tenantsTitle(v)
		case "conns":
			conns = v
		case "workers":
			workers = v
		}
	}
	return tenants + ", " + conns + " connections, " + workers + " workers", conns
}

func poolMemoryTable(w *writer, in renderInput) {
	pairs := poolMemoryPairs(in.poolMemory)
	if len(pairs) == 0 {
		return
	}
	w.p("### Backend memory (Pool)\n\n")
	w.p("`BenchmarkPoolBackendMemory`: %s point selects (64 workers, Zipf over the 10,000 tenants, BenchmarkRoute's seeds) through the connections named, ", poolMemRequests(in.cmds))
	w.p("once on `database/sql`'s pool and once on `Pool(n)`, each on new server processes, no `MaxTenantsPerConn`; then the sum over those processes of their memory contexts ")
	w.p("(`pg_backend_memory_contexts`) and of their private resident memory (`RssAnon`). Nothing retires a connection, so the end is the peak.\n\n")
	w.p("| load | pool | switches per op | memory contexts (MB) | RssAnon (MB) | server processes | µs per request |\n")
	w.p("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range pairs {
		title, conns := p.title()
		for _, run := range []struct {
			name string
			m    map[string]float64
		}{{"`database/sql`'s", p.without}, {"`Pool(" + conns + ")`", p.with}} {
			if run.m == nil {
				w.p("| %s | %s | – | – | – | – | – |\n", title, run.name)
			} else {
				w.p("| %s | %s | %s | %s | %s | %s | %s |\n", title, run.name, num3(run.m["switches/op"]), mb(run.m["total-backend-MB"]),
					mbOrDash(run.m, "total-rss-anon-MB"), num(run.m["backends"]), num(run.m["µs/request"]))
			}
			title = ""
		}
		w.p("| | Pool ÷ `database/sql` | | %s | %s | | |\n", ratioOrDash(p, "total-backend-MB"), ratioOrDash(p, "total-rss-anon-MB"))
	}
	w.p("\n")
}

// poolMemRequests is the -pool-mem-requests the pool's memory benchmark
// ran with, as its command gives it, or its default.
func poolMemRequests(cmds []command) string {
	for _, c := range cmds {
		if c.what != kindPoolMemory {
			continue
		}
		for i, a := range c.args {
			if v, ok := strings.CutPrefix(a, "-pool-mem-requests="); ok {
				return thousands(v)
			}
			if a == "-pool-mem-requests" && i+1 < len(c.args) {
				return thousands(c.args[i+1])
			}
		}
	}
	return "100,000"
}

// mb formats megabytes to a tenth.
func mb(v float64) string { return fmt.Sprintf("%.1f", v) }

func mbOrDash(m map[string]float64, unit string) string {
	if v, ok := m[unit]; ok {
		return mb(v)
	}
	return "–"
}

func ratioOrDash(p poolMemoryPair, unit string) string {
	if r, ok := p.ratio(unit); ok {
		return fmt.Sprintf("**%.2f×**", r)
	}
	return "–"
}

// thousands puts commas between the thousands of a count written in
// digits, and leaves anything else as it is.
func thousands(s string) string {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
