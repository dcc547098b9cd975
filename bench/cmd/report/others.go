package main

import (
	"math"
	"strings"
)

// The sections of the benchmarks other than BenchmarkRoute.

func fakeSection(w *writer, in renderInput, _ routeData) {
	w.p("## The wrapper's own cost (in-memory driver)\n\n")
	w.p("`BenchmarkFake`: database/sql over a driver that answers at once without allocating, bare and wrapped, one connection. ")
	w.p("`tenantpath` stays on one tenant; `tenantpath-switch` alternates two tenants, so every statement also sends a switch (one Exec on the fake). Median of 3 runs.\n\n")
	w.p("| statement | variant | ns/op | B/op | allocs/op |\n| --- | --- | ---: | ---: | ---: |\n")
	for _, g := range groupFake(in.fake) {
		w.p("| %s | %s | %.0f | %.0f | %.0f |\n", g.op, g.variant, g.m["ns/op"], g.m["B/op"], g.m["allocs/op"])
	}
	w.p("\n`TestWrapperAddsNoAllocations` (run by `make test`) asserts the same with `testing.AllocsPerRun`: the wrapped same-tenant statement allocates no more than the bare one.\n\n")
}

func switchSection(w *writer, in renderInput, _ routeData) {
	w.p("## The cost of one switch\n\n")
	if len(in.switches) == 0 {
		w.p("Not measured in this run.\n\n")
		return
	}
	w.p("`BenchmarkSwitchStatement`: one pgx connection, one statement per op, moving to the next of 100 tenants: ")
	w.p("`tenantpath` is tenantpath's switch (`SELECT set_config(…) WHERE to_regnamespace(…) IS NOT NULL`, simple protocol: the existence check reads the catalog cache); ")
	w.p("`tenantpath-carried` the form `tenantpgx` sends in the statement's write, here on its own (`SELECT set_config(…), '…'::regnamespace`: a missing schema fails the cast), and `tenantpath-carried-prepared` that form with parameters, parsed and planned once per connection; ")
	w.p("`namespace-scan` the earlier form, `SELECT set_config(…) FROM pg_namespace WHERE nspname = …`; ")
	w.p("`prepared` that form with parameters (prepared once per connection by pgx's statement cache); ")
	w.p("`set` a plain `SET search_path`; `set_config-alone` and `namespace-lookup-alone` the two halves of the earlier form on their own. ")
	w.p("Server CPU is the backend's, from `/proc/<pid>/stat`. Median of 3 runs.\n\n")
	w.p("| statement | µs per op (wall) | server CPU µs per op |\n| --- | ---: | ---: |\n")
	for _, g := range groupPrefix(in.switches, "SwitchStatement/") {
		w.p("| %s | %s | %s |\n", g.name, num(g.m["ns/op"]/1000), num(g.m["server-cpu-µs/op"]))
	}
	w.p("\n")
}

func memorySection(w *writer, in renderInput, _ routeData) {
	w.p("## Backend memory after serving many tenants\n\n")
	if len(in.memory) == 0 {
		w.p("Not measured in this run.\n\n")
		return
	}
	w.p("One `*sql.DB` with one connection serves tenants 0…n-1 in turn, one statement each that reads a row by primary key from all 20 tables of the tenant's schema ")
	w.p("(`t01`…`t20`, each `id int PRIMARY KEY, ref int, v int`). Then, on the same backend: `sum(total_bytes)` of `pg_backend_memory_contexts`, and `RssAnon` ")
	w.p("(private resident memory) from `/proc/<pid>/status`. A fresh backend has %s MB of contexts. ", num(firstMetric(in.memory, "fresh-backend-MB")))
	w.p("With `MaxTenantsPerConn(k)` the pool retires a connection after k tenants; the peak is measured on each connection just before its last tenant (the most any backend held), ")
	w.p("and the end value is the replacement connection left open. Time per tenant is wall time under this run's load: compare it within a row group, not across runs.\n\n")
	w.p("| tenants served | MaxTenantsPerConn | peak backend contexts (MB) | peak RssAnon (MB) | at the end: contexts / RssAnon (MB) | connections opened | time per tenant (µs) |\n")
	w.p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range in.memory {
		n, limit := memName(r.name)
		lim := "off"
		if limit != "0" {
			lim = limit
		}
		peak, ok := r.metrics["peak-backend-MB"]
		peakRSS := r.metrics["peak-rss-anon-MB"]
		if !ok { // a run from before the peak was measured
			peak, peakRSS = math.NaN(), math.NaN()
		}
		w.p("| %s | %s | %s | %s | %s / %s | %s | %.0f |\n", n, lim, num(peak), num(peakRSS),
			num(r.metrics["backend-MB"]), num(r.metrics["rss-anon-MB"]), num(r.metrics["conns"]), r.metrics["µs/tenant"])
	}
	w.p("\n")
}

func profilesSection(w *writer, in renderInput, _ routeData) {
	if len(in.profiles) == 0 {
		return
	}
	w.p("## Where the time goes (client CPU profiles)\n\n")
	w.p("`go test -cpuprofile` of the benchmark binary, i.e. the Go client only. Full top lists and their reading: [%s](%s).\n\n", in.profDir, strings.TrimPrefix(in.profDir, "docs/"))
	w.p("| profile | what | flat in package tenantpath | cum. `(*conn).pathFor` | cum. `sqlEffects` |\n| --- | --- | ---: | ---: | ---: |\n")
	for _, pr := range in.profiles {
		w.p("| [%s](%s) | %s | %.1f%% | %.1f%% | %.1f%% |\n", pr.name, strings.TrimPrefix(pr.file, "docs/"), pr.what, pr.wrapperFlat, pr.routeCum, pr.scanCum)
	}
	w.p("\n")
}

type fakeGroup struct {
	op, variant string
	m           map[string]float64
}

// groupFake returns BenchmarkFake's results with the median of each metric
// over the runs, in order of first appearance.
func groupFake(rs []result) []fakeGroup {
	var out []fakeGroup
	for _, g := range groupPrefix(rs, "Fake/") {
		op, variant, _ := strings.Cut(g.name, "/")
		out = append(out, fakeGroup{op: op, variant: variant, m: g.m})
	}
	return out
}

func memName(name string) (n, limit string) {
	for _, p := range strings.Split(name, "/") {
		if v, ok := strings.CutPrefix(p, "tenants="); ok {
			n = v
		}
		if v, ok := strings.CutPrefix(p, "max-tenants-per-conn="); ok {
			limit = v
		}
	}
	return n, limit
}

func firstMetric(rs []result, unit string) float64 {
	var xs []float64
	for _, r := range rs {
		if v, ok := r.metrics[unit]; ok {
			xs = append(xs, v)
		}
	}
	return median(xs)
}
