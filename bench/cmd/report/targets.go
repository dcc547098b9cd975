package main

import (
	"fmt"
	"math"
	"strings"
)

// A target is a throughput ratio every matching scenario must reach.
// Zero fields match any scenario; a is "" for the routed contenders over
// pgx on the shared *sql.DB (tenantpath-pgx, and tenantpgx-pgx once it
// runs), one row each. With rounds, the row also shows the range of the
// per-round ratios and the lowest of them.
type target struct {
	label                string // with %s for the contender when a is ""
	delayed              bool   // over the delaying link (else loopback)
	tenants              string
	stmts, pool, workers int
	a, base              string
	min                  float64
	rounds               bool
}

// The targets of the switch that rides on the statement's round trip
// (issue 11): over the delaying link, then on loopback.
var roundTripTargets = []target{
	{label: "100 uniform, point select, pool 8, 8 workers: %s ≥ 1.6× hand-rolled SET", delayed: true,
		tenants: "uniform100", stmts: 1, pool: 8, workers: 8, base: setConn, min: 1.6},
	{label: "100 uniform, 5-stmt request on the shared `*sql.DB`, pool 8, 32 workers: %s ≥ 1.1× hand-rolled SET", delayed: true,
		tenants: "uniform100", stmts: 5, pool: 8, workers: 32, base: setConn, min: 1.1},
	{label: "1 tenant, point select: %s ≥ 0.97× raw pgx", delayed: true,
		tenants: "one", stmts: 1, base: rawPgx, min: 0.97},
	{label: "100 uniform, point select: %s ≥ 1.2× hand-rolled SET",
		tenants: "uniform100", stmts: 1, base: setConn, min: 1.2},
	{label: "same tenant: %s ≥ 0.97× raw pgx",
		tenants: "one", base: rawPgx, min: 0.97},
}

// Earlier targets, on loopback, for tenantpath-pgx and tenantpath-pgx-conn.
var loopbackTargets = []target{
	{label: "100 uniform: tenantpath-pgx ≥ 1.0× hand-rolled SET", tenants: "uniform100", a: tpPgx, base: setConn, min: 1.0},
	{label: "100 uniform: tenantpath-pgx ≥ 1.5× SET LOCAL in a transaction", tenants: "uniform100", a: tpPgx, base: setLocal, min: 1.5},
	{label: "10k Zipf: tenantpath-pgx ≥ 1.2× hand-rolled SET", tenants: "zipf10k", a: tpPgx, base: setConn, min: 1.2},
	{label: "same tenant, conn per request: tenantpath-pgx-conn ≥ 0.97× raw pgx", tenants: "one", a: tpPgxConn, base: rawPgx, min: 0.97},
	{label: "100 uniform, conn per request: tenantpath-pgx-conn ≥ 1.0× hand-rolled SET", tenants: "uniform100", a: tpPgxConn, base: setConn, min: 1.0},
	{label: "100 uniform, conn per request: tenantpath-pgx-conn ≥ 1.5× SET LOCAL in a transaction", tenants: "uniform100", a: tpPgxConn, base: setLocal, min: 1.5},
	{label: "10k Zipf, conn per request: tenantpath-pgx-conn ≥ 1.2× hand-rolled SET", tenants: "zipf10k", a: tpPgxConn, base: setConn, min: 1.2},
}

func (t target) matches(sc scenario) bool {
	return sc.link == loopbackLink != t.delayed &&
		(t.tenants == "" || sc.tenants == t.tenants) &&
		(t.stmts == 0 || sc.stmts == t.stmts) &&
		(t.pool == 0 || sc.pool == t.pool) &&
		(t.workers == 0 || sc.workers == t.workers)
}

// targetsTable writes the Targets section's table: every target, one row
// per contender it applies to, the allocation target, and the targets of
// Pool(n).
func targetsTable(w *writer, in renderInput, d routeData) {
	w.p("| target | link | measured per scenario (order of the tables below) | met | by CPU per op |\n| --- | --- | --- | --- | --- |\n")
	routed := d.sharedPgx()
	if len(routed) == 0 {
		routed = []string{tpPgx} // its rows say "no data"
	}
	for _, t := range roundTripTargets {
		for _, c := range routed {
			row := t
			row.a, row.label = c, fmt.Sprintf(t.label, c)
			targetRow(w, d, row)
		}
	}
	allocRow(w, in.fake)
	for _, t := range loopbackTargets {
		targetRow(w, d, t)
	}
	poolTargetRows(w, in)
}

func targetRow(w *writer, d routeData, t target) {
	parts, verdict := targetVerdict(d, t, d.ratio)
	if verdict == "" {
		verdict = "no data"
	} else {
		verdict = "**" + strings.Replace(verdict, " ", "** ", 1)
	}
	_, cpuVerdict := targetVerdict(d, t, d.cpuRatio) // the same by CPU per op
	if cpuVerdict == "" {
		cpuVerdict = "–"
	}
	link := "loopback"
	if t.delayed {
		link = "delayed"
	}
	w.p("| %s | %s | %s | %s | %s |\n", t.label, link, strings.Join(parts, ", "), verdict, cpuVerdict)
}

// targetVerdict checks every matching scenario against the target with one
// kind of ratio: the medians, and "met (lowest x×)" or "missed (lowest
// x×)", or "" when no scenario has data.
//
// With t.rounds each part also gives the range of the rounds, and the
// verdict the lowest round: "met (lowest x×, lowest round y×)".
func targetVerdict(d routeData, t target, ratioOf func(sc scenario, a, b string) ratio) (parts []string, verdict string) {
	met, any := true, false
	worst, worstRound := math.Inf(1), math.Inf(1)
	for _, sc := range d.scenarios {
		if !t.matches(sc) {
			continue
		}
		r := ratioOf(sc, t.a, t.base)
		if math.IsNaN(r.med) {
			continue
		}
		any = true
		worst, worstRound = math.Min(worst, r.med), math.Min(worstRound, r.lo)
		if r.med < t.min {
			met = false
		}
		if t.rounds && r.n > 1 {
			parts = append(parts, fmt.Sprintf("%.2f (rounds %.2f–%.2f)", r.med, r.lo, r.hi))
		} else {
			parts = append(parts, fmt.Sprintf("%.2f", r.med))
		}
	}
	if !any {
		return parts, ""
	}
	if t.rounds {
		return parts, fmt.Sprintf("%s (lowest %.2f×, lowest round %.2f×)", metWord(met), worst, worstRound)
	}
	return parts, fmt.Sprintf("%s (lowest %.2f×)", metWord(met), worst)
}

func metWord(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}

// allocRow is the target of 0 allocations added per same-tenant statement
// over the in-memory driver.
func allocRow(w *writer, fake []result) {
	var parts []string
	met, any := true, false
	byOp := map[string]map[string]float64{}
	var ops []string
	for _, g := range groupFake(fake) {
		if byOp[g.op] == nil {
			byOp[g.op] = map[string]float64{}
			ops = append(ops, g.op)
		}
		byOp[g.op][g.variant] = g.m["allocs/op"]
	}
	for _, op := range ops {
		bare, okb := byOp[op]["bare"]
		wrapped, okw := byOp[op]["tenantpath"]
		if !okb || !okw {
			continue
		}
		any = true
		added := wrapped - bare
		if added > 0 {
			met = false
		}
		parts = append(parts, fmt.Sprintf("%s %+.0f", op, added))
	}
	verdict := "no data"
	if any {
		verdict = "**" + metWord(met) + "**"
	}
	w.p("| 0 allocations added per statement, same tenant (in-memory driver, `-benchmem`) | – | %s | %s | |\n", strings.Join(parts, ", "), verdict)
}
