// Command report runs the benchmarks of package bench against the test
// harness's ephemeral PostgreSQL and writes docs/BENCHMARKS.md: the
// machine, the exact commands, the ratios of contenders measured side by
// side in the same run, the statements the server executed, the wrapper's
// allocations, backend memory, the switches, throughput and memory of the
// tenant-affine pool (Pool(n)), and CPU profile summaries in docs/profiles.
//
// Usage (from the module root; `make bench` runs it):
//
//	go run ./bench/cmd/report [-rounds 5] [-benchtime 300ms] [-delay 250us] [-out docs/BENCHMARKS.md]
//	    [-raw FILE] [-skip-memory] [-skip-pool]
//	go run ./bench/cmd/report -from FILE [-out docs/BENCHMARKS.md]
//
// -rounds and -benchtime apply to both benchmarks whose contenders take
// turns, BenchmarkRoute and BenchmarkPool (Pool(n), the tenant-affine
// pool). -delay is the one-way delay of the link the round-trip scenarios
// run over (internal/delayproxy); the loopback scenarios run without it.
// -skip-memory leaves out the backend memory benchmarks and -skip-pool the
// pool's, for quick runs; the sections and targets they feed then say that
// nothing was measured. -raw saves the output of every benchmark, and
// -from renders the document from such a file again without running
// anything.
//
// Sections of the existing file that are written by hand ("## Analysis"
// and "## Migrator") are kept verbatim.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	out := flag.String("out", "docs/BENCHMARKS.md", "the file to write")
	profiles := flag.String("profiles", "docs/profiles", "where to write the CPU profile summaries (empty: no profiles)")
	var set runSettings
	flag.IntVar(&set.rounds, "rounds", 5, "rounds of each scenario's contenders (BenchmarkRoute, BenchmarkPool)")
	flag.StringVar(&set.benchtime, "benchtime", "300ms", "-benchtime of each throughput benchmark (BenchmarkRoute, BenchmarkPool)")
	flag.StringVar(&set.delay, "delay", "250us", "one-way delay of the delaying link (BenchmarkRoute's round-trip scenarios, BenchmarkDelayLink)")
	raw := flag.String("raw", "", "also write the raw `go test` output here")
	flag.BoolVar(&set.skipMemory, "skip-memory", false, "do not run the backend memory benchmarks (BenchmarkBackendMemory, BenchmarkPoolBackendMemory)")
	flag.BoolVar(&set.skipPool, "skip-pool", false, "do not run the benchmarks of Pool(n) (BenchmarkPool, BenchmarkPoolBackendMemory)")
	from := flag.String("from", "", "run no benchmark: render from the output a previous run saved with -raw (and the profile summaries already in -profiles)")
	redoProfiles := flag.Bool("redo-profiles", false, "with -from: make the profiles again first")
	flag.Parse()
	var err error
	if *from != "" {
		if *redoProfiles && *profiles != "" {
			_, err = makeProfiles(*profiles)
		}
		if err == nil {
			err = rerender(*from, *out, *profiles)
		}
	} else {
		err = run(*out, *profiles, set, *raw)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// command is one `go test` invocation of the report.
type command struct {
	what string // the kind of results: one of the kind constants
	args []string
}

// The kinds of command, which say where their results go
// (renderInput.resultsOf) and head their output in the -raw file.
const (
	kindThroughput = "throughput"  // BenchmarkRoute
	kindLink       = "link"        // BenchmarkDelayLink
	kindFake       = "fake"        // BenchmarkFake
	kindSwitch     = "switch"      // BenchmarkSwitchStatement
	kindPool       = "pool"        // BenchmarkPool
	kindMemory     = "memory"      // BenchmarkBackendMemory
	kindPoolMemory = "pool-memory" // BenchmarkPoolBackendMemory
)

func (c command) String() string {
	var b strings.Builder
	b.WriteString("go")
	for _, a := range c.args {
		if strings.ContainsAny(a, " ^$|()*") {
			a = "'" + a + "'"
		}
		b.WriteString(" " + a)
	}
	return b.String()
}

// runSettings are the flags of the benchmarks that the report passes on,
// and the benchmarks it leaves out.
type runSettings struct {
	rounds               int
	benchtime, delay     string
	skipMemory, skipPool bool
}

func run(out, profDir string, set runSettings, rawPath string) (err error) {
	started := time.Now()
	load := loadAvg()
	cmds := benchCommands(set)
	var raw bytes.Buffer
	if rawPath != "" {
		// Written whatever happens: a failed run's output can still be
		// read, and rendered with -from.
		defer func() {
			raw.WriteString(infoLine(set, started, time.Since(started), load))
			if werr := os.WriteFile(rawPath, raw.Bytes(), 0o644); err == nil {
				err = werr
			}
		}()
	}
	results, logs, err := runCommands(cmds, &raw)
	if err != nil {
		return err
	}
	in := renderInput{
		when: started, cmds: cmds, logs: logs, profDir: profDir, load: load,
		rounds: set.rounds, benchtime: set.benchtime, delay: set.delay,
	}
	for kind, rs := range results {
		if p := in.resultsOf(kind); p != nil {
			*p = rs
		}
	}
	if profDir != "" {
		if in.profiles, err = makeProfiles(profDir); err != nil {
			return err
		}
	}
	old, _ := os.ReadFile(out)
	in.kept = keptSections(string(old))
	in.elapsed = time.Since(started)
	if err := os.WriteFile(out, []byte(render(in)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "report: wrote %s in %v\n", out, time.Since(started).Round(time.Second))
	return nil
}

// benchCommands are the `go test` runs of a report, in order.
func benchCommands(set runSettings) []command {
	rounds := strconv.Itoa(set.rounds)
	cmds := []command{
		{kindThroughput, []string{"test", "-v", "-run", "^$", "-bench", "^BenchmarkRoute$", "-benchtime", set.benchtime,
			"-timeout", "90m", "./bench/", "-args", "-rounds", rounds, "-delay", set.delay}},
		{kindLink, []string{"test", "-run", "^$", "-bench", "^BenchmarkDelayLink$", "-benchtime", "2s", "-count", "3",
			"./bench/", "-args", "-delay", set.delay}},
		{kindFake, []string{"test", "-run", "^$", "-bench", "^BenchmarkFake$", "-benchmem", "-count", "3", "./bench/"}},
		{kindSwitch, []string{"test", "-run", "^$", "-bench", "^BenchmarkSwitchStatement$", "-benchtime", "2s", "-count", "3", "./bench/"}},
	}
	if !set.skipPool {
		cmds = append(cmds, command{kindPool, []string{"test", "-v", "-run", "^$", "-bench", "^BenchmarkPool$", "-benchtime", set.benchtime,
			"-timeout", "90m", "./bench/", "-args", "-rounds", rounds}})
	}
	if !set.skipMemory {
		cmds = append(cmds, command{kindMemory, []string{"test", "-run", "^$", "-bench", "^BenchmarkBackendMemory$",
			"-benchtime", "1x", "-timeout", "60m", "./bench/"}})
	}
	if !set.skipMemory && !set.skipPool {
		cmds = append(cmds, command{kindPoolMemory, []string{"test", "-run", "^$", "-bench", "^BenchmarkPoolBackendMemory$",
			"-benchtime", "1x", "-timeout", "60m", "./bench/"}})
	}
	return cmds
}

// runCommands runs cmds in order, copying each one's output to raw under
// its header, and returns their results by kind and the lines the
// benchmarks logged. It stops at the first command that fails.
func runCommands(cmds []command, raw *bytes.Buffer) (map[string][]result, []string, error) {
	results := map[string][]result{}
	var logs []string
	for _, c := range cmds {
		fmt.Fprintf(os.Stderr, "report: %s\n", c)
		text, err := runGo(c.args)
		raw.WriteString(rawHeader + c.what + " " + c.String() + "\n" + text + "\n")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c, err)
		}
		rs, ls := parseBench(text)
		results[c.what] = rs
		logs = append(logs, ls...)
	}
	return results, logs, nil
}

// runGo runs the go tool, copying its output to stderr as it comes.
func runGo(args []string) (string, error) {
	cmd := exec.Command(goTool(), args...)
	var buf bytes.Buffer
	w := io.MultiWriter(&buf, os.Stderr)
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	return buf.String(), err
}

func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// result is one benchmark line.
type result struct {
	name    string // without the Benchmark prefix and the -GOMAXPROCS suffix
	n       int64
	metrics map[string]float64
}

var (
	benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$`)
	logLine   = regexp.MustCompile(`^\s+\S+_test\.go:\d+: (.*)$`)
)

// parseBench reads `go test -bench` output: result lines and the lines the
// benchmarks logged.
func parseBench(text string) ([]result, []string) {
	var rs []result
	var logs []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := logLine.FindStringSubmatch(line); m != nil {
			logs = append(logs, m[1])
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.ParseInt(m[2], 10, 64)
		r := result{name: m[1], n: n, metrics: map[string]float64{}}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				r.metrics[f[i+1]] = v
			}
		}
		rs = append(rs, r)
	}
	return rs, logs
}

// keptSections returns the hand-written sections of the previous file, by
// heading, verbatim.
func keptSections(old string) map[string]string {
	kept := map[string]string{}
	for _, h := range []string{"## Analysis", "## Migrator"} {
		if s := section(old, h); s != "" {
			kept[h] = s
		}
	}
	return kept
}

// section returns the text from a line equal to heading (or starting with
// heading and a space) up to the next "## " heading, or "".
func section(doc, heading string) string {
	lines := strings.SplitAfter(doc, "\n")
	start := -1
	for i, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if start < 0 {
			if t == heading || strings.HasPrefix(t, heading+" ") {
				start = i
			}
			continue
		}
		if strings.HasPrefix(t, "## ") {
			return strings.TrimRight(strings.Join(lines[start:i], ""), "\n") + "\n"
		}
	}
	if start < 0 {
		return ""
	}
	return strings.TrimRight(strings.Join(lines[start:], ""), "\n") + "\n"
}

// median of xs (which it sorts).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}
