package main

import (
	"fmt"
	"strings"
	"time"
)

type renderInput struct {
	when                time.Time
	elapsed             time.Duration
	cmds                []command
	route, fake, memory []result
	switches            []result
	link                []result // BenchmarkDelayLink
	pool                []result // BenchmarkPool
	poolMemory          []result // BenchmarkPoolBackendMemory
	logs                []string
	profiles            []profileSummary
	profDir             string
	kept                map[string]string
	rounds              int
	benchtime           string
	delay               string // the delaying link's one-way delay, as given to -delay
	load                string // load average when the run started
}

// resultsOf returns where the results of a kind of command go, or nil for
// a kind the report does not know.
func (in *renderInput) resultsOf(kind string) *[]result {
	switch kind {
	case kindThroughput:
		return &in.route
	case kindLink:
		return &in.link
	case kindFake:
		return &in.fake
	case kindSwitch:
		return &in.switches
	case kindPool:
		return &in.pool
	case kindMemory:
		return &in.memory
	case kindPoolMemory:
		return &in.poolMemory
	}
	return nil
}

// writer collects the document.
type writer struct{ strings.Builder }

func (w *writer) p(format string, args ...any) { fmt.Fprintf(&w.Builder, format, args...) }

// A sectionWriter writes one section of the document.
type sectionWriter func(w *writer, in renderInput, d routeData)

// sectionWriters write the document's sections, in order.
var sectionWriters = []sectionWriter{
	headerSection, machineSection, commandsSection, contendersSection, linkSection,
	targetsSection, throughputSection, cpuSection, statementsSection, absoluteSection,
	poolSection, fakeSection, switchSection, memorySection, profilesSection, handWrittenSections,
}

// render writes docs/BENCHMARKS.md.
func render(in renderInput) string {
	w := &writer{}
	d := groupRounds(in.route, routePrefix)
	for _, write := range sectionWriters {
		write(w, in, d)
	}
	return strings.TrimRight(w.String(), "\n") + "\n"
}

func handWrittenSections(w *writer, in renderInput, _ routeData) {
	if s := in.kept["## Analysis"]; s != "" {
		w.p("%s\n", s)
	} else {
		w.p("## Analysis\n\n_To be written by hand after a run; `make bench` keeps this section._\n\n")
	}
	if s := in.kept["## Migrator"]; s != "" {
		w.p("%s", s)
	}
}
