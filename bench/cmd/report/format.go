package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// num formats a measurement with as many digits as it deserves.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == math.Trunc(v) && math.Abs(v) < 1e6:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// num3 formats a count per op with three decimals, for the switches per
// op, which are compared with bounds such as 0.65.
func num3(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// serverVersion finds the version BenchmarkRoute logs.
func serverVersion(logs []string) string {
	for _, l := range logs {
		if v, ok := strings.CutPrefix(l, "server: "); ok {
			return v
		}
	}
	return "unknown"
}

func mustOutput(name string, args ...string) string {
	out, err := execOutput(name, args...)
	if err != nil {
		return "unknown"
	}
	return out
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

type namedMedians struct {
	name string
	m    map[string]float64
}

// groupPrefix returns the results whose name starts with prefix, with the
// median of each metric over repeated runs, in order of first appearance.
func groupPrefix(rs []result, prefix string) []namedMedians {
	var order []string
	vals := map[string]map[string][]float64{}
	for _, r := range rs {
		name, ok := strings.CutPrefix(r.name, prefix)
		if !ok {
			continue
		}
		if vals[name] == nil {
			vals[name] = map[string][]float64{}
			order = append(order, name)
		}
		for k, v := range r.metrics {
			vals[name][k] = append(vals[name][k], v)
		}
	}
	var out []namedMedians
	for _, name := range order {
		g := namedMedians{name: name, m: map[string]float64{}}
		for k, xs := range vals[name] {
			g.m[k] = median(xs)
		}
		out = append(out, g)
	}
	return out
}
