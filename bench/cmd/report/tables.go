package main

import (
	"math"
	"strings"
)

// The tables of BenchmarkRoute's results, one per link.

// perLink writes table for the scenarios of each link, under a heading
// per link when there is more than one.
func perLink(w *writer, d routeData, table func(w *writer, d routeData, scs []scenario)) {
	for _, l := range d.links {
		if len(d.links) > 1 {
			w.p("### %s\n\n", linkTitle(l))
		}
		table(w, d, d.onLink(l))
		w.p("\n")
	}
}

func throughputTable(w *writer, d routeData, scs []scenario) {
	cmp := d.comparisons()
	w.p("| scenario |")
	for _, c := range cmp {
		w.p(" %s ÷ %s |", shortName(c.a), shortName(c.base))
	}
	w.p("\n| --- |%s\n", strings.Repeat(" --- |", len(cmp)))
	for _, sc := range scs {
		w.p("| %s |", sc.title())
		for _, c := range cmp {
			w.p(" %s |", d.ratio(sc, c.a, c.base))
		}
		w.p("\n")
	}
}

func cpuTable(w *writer, d routeData, scs []scenario) {
	cmp := d.comparisons()
	w.p("| scenario |")
	for _, c := range cmp {
		w.p(" %s ÷ %s |", shortName(c.base), shortName(c.a))
	}
	w.p(" CPU µs/op: %s |\n", strings.Join(d.contenders, ", "))
	w.p("| --- |%s --- |\n", strings.Repeat(" --- |", len(cmp)))
	for _, sc := range scs {
		w.p("| %s |", sc.title())
		for _, c := range cmp {
			w.p(" %s |", d.cpuRatio(sc, c.a, c.base))
		}
		var abs []string
		for _, c := range d.contenders {
			abs = append(abs, num(d.cpuMedian(sc, c)))
		}
		w.p(" %s |\n", strings.Join(abs, ", "))
	}
}

func statementsTable(w *writer, d routeData, scs []scenario) {
	contenderHeader(w, d, " --- |")
	for _, sc := range scs {
		w.p("| %s |", sc.title())
		for _, c := range d.contenders {
			w.p(" %s (+%s) |", num(d.metric(sc, c, "stmts/op")), num(d.metric(sc, c, "extra/op")))
		}
		w.p("\n")
	}
}

func absoluteTable(w *writer, d routeData, scs []scenario) {
	contenderHeader(w, d, " ---: |")
	for _, sc := range scs {
		w.p("| %s |", sc.title())
		for _, c := range d.contenders {
			ns := d.metric(sc, c, "ns/op")
			if math.IsNaN(ns) {
				w.p(" – |")
			} else {
				w.p(" %.0f |", 1e9/ns)
			}
		}
		w.p("\n")
	}
}

// contenderHeader writes a table heading with a column per contender.
func contenderHeader(w *writer, d routeData, align string) {
	w.p("| scenario |")
	for _, c := range d.contenders {
		w.p(" %s |", c)
	}
	w.p("\n| --- |%s\n", strings.Repeat(align, len(d.contenders)))
}
