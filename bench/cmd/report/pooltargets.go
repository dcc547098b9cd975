package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The targets of the tenant-affine pool, Pool(n), for tenantpath over pgx
// (tenantpath-pgx-pool), on the loads of BenchmarkPool and
// BenchmarkPoolBackendMemory: 64 workers on 16 connections.

// A switchTarget bounds the switches the server ran per op for contender
// a: in every scenario where matches, the median over the rounds is at
// most max.
type switchTarget struct {
	label string
	where target // the scenarios (only its scenario fields count)
	a     string
	max   float64
}

var poolSwitchTargets = []switchTarget{
	{label: "2k Zipf, point select, pool 16, 64 workers: tenantpath-pgx-pool ≤ 0.65 switches per op",
		where: target{tenants: "zipf2k", stmts: 1, pool: 16, workers: 64}, a: tpPgxPool, max: 0.65},
	{label: "2k Zipf, 5-stmt request on the shared `*sql.DB`, pool 16, 64 workers: tenantpath-pgx-pool ≤ 1.2 switches per request",
		where: target{tenants: "zipf2k", stmts: 5, pool: 16, workers: 64}, a: tpPgxPool, max: 1.2},
}

var poolThroughputTarget = target{
	label:   "10k Zipf, 5-stmt request on the shared `*sql.DB`, pool 16, 64 workers: tenantpath-pgx-pool ≥ 1.0× hand-rolled SET",
	tenants: "zipf10k", stmts: 5, pool: 16, workers: 64, a: tpPgxPool, base: setConn, min: 1.0, rounds: true,
}

// poolMemoryMax is the most memory the server processes may hold with
// Pool(n), as a share of what they hold with database/sql's pool after
// the same load; memory contexts decide, as in the backend memory section.
const poolMemoryMax = 0.5

// poolTargetRows writes the rows of the pool's targets.
func poolTargetRows(w *writer, in renderInput) {
	d := groupRounds(in.pool, poolPrefix)
	for _, t := range poolSwitchTargets {
		switchTargetRow(w, d, t)
	}
	targetRow(w, d, poolThroughputTarget)
	poolMemoryRow(w, in.poolMemory)
}

func switchTargetRow(w *writer, d routeData, t switchTarget) {
	var parts []string
	met, measured := true, false
	highest := math.Inf(-1)
	for _, sc := range d.scenarios {
		if !t.where.matches(sc) {
			continue
		}
		xs := d.rounds(sc, t.a, "switches/op")
		if len(xs) == 0 {
			continue
		}
		measured = true
		lo, hi, med := slices.Min(xs), slices.Max(xs), median(xs)
		highest = math.Max(highest, hi)
		if med > t.max {
			met = false
		}
		if len(xs) > 1 {
			parts = append(parts, fmt.Sprintf("%.3f (rounds %.3f–%.3f)", med, lo, hi))
		} else {
			parts = append(parts, fmt.Sprintf("%.3f", med))
		}
	}
	verdict := "no data"
	if measured {
		verdict = fmt.Sprintf("**%s** (highest round %.3f)", metWord(met), highest)
	}
	w.p("| %s | loopback | %s | %s | – |\n", t.label, strings.Join(parts, ", "), verdict)
}

// poolMemoryRow is the memory target: for every load measured, the memory
// contexts with Pool over those without, with RssAnon beside them.
func poolMemoryRow(w *writer, rs []result) {
	var parts []string
	met, measured := true, false
	worst := math.Inf(-1)
	for _, p := range poolMemoryPairs(rs) {
		r, ok := p.ratio("total-backend-MB")
		if !ok {
			continue
		}
		measured = true
		worst = math.Max(worst, r)
		if r > poolMemoryMax {
			met = false
		}
		part := fmt.Sprintf("contexts %s ÷ %s MB = %.2f×", mb(p.with["total-backend-MB"]), mb(p.without["total-backend-MB"]), r)
		if rss, ok := p.ratio("total-rss-anon-MB"); ok {
			part += fmt.Sprintf(" (RssAnon %s ÷ %s MB = %.2f×)", mb(p.with["total-rss-anon-MB"]), mb(p.without["total-rss-anon-MB"]), rss)
		}
		parts = append(parts, part)
	}
	verdict := "no data"
	if measured {
		verdict = fmt.Sprintf("**%s** (highest %.2f×)", metWord(met), worst)
	}
	w.p("| backend memory, 10k Zipf through 16 connections: with `Pool(16)` ≤ %.1f× without (memory contexts; no `MaxTenantsPerConn`) | loopback | %s | %s | – |\n",
		poolMemoryMax, strings.Join(parts, ", "), verdict)
}
