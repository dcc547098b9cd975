// Command report runs the benchmarks of package bench against the test
// harness's ephemeral PostgreSQL and writes docs/BENCHMARKS.md: the
// machine, the exact commands, the ratios of contenders measured side by
// side in the same run, the statements the server executed, the wrapper's
// allocations, backend memory, and CPU profile summaries in docs/profiles.
//
// Usage (from the module root; `make bench` runs it):
//
//	go run ./bench/cmd/report [-rounds 5] [-benchtime 300ms] [-delay 250us] [-out docs/BENCHMARKS.md]
//
// -delay is the one-way delay of the link the round-trip scenarios run
// over (internal/delayproxy); the loopback scenarios run without it.
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
	rounds := flag.Int("rounds", 5, "rounds of each scenario's contenders")
	benchtime := flag.String("benchtime", "300ms", "-benchtime of each throughput benchmark")
	delay := flag.String("delay", "250us", "one-way delay of the delaying link (BenchmarkRoute's round-trip scenarios, BenchmarkDelayLink)")
	raw := flag.String("raw", "", "also write the raw `go test` output here")
	skipMemory := flag.Bool("skip-memory", false, "do not run BenchmarkBackendMemory")
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
		err = run(*out, *profiles, runSettings{*rounds, *benchtime, *delay}, *raw, *skipMemory)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// command is one `go test` invocation of the report.
type command struct {
	what string
	args []string
}

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

// runSettings are the flags of the benchmarks that the report passes on.
type runSettings struct {
	rounds           int
	benchtime, delay string
}

func run(out, profDir string, set runSettings, rawPath string, skipMemory bool) (err error) {
	started := time.Now()
	load := loadAvg()
	cmds := benchCommands(set, skipMemory)
	var raw bytes.Buffer
	if rawPath != "" {
		// Written whatever happens: a failed run's output can still be
		// read, and rendered with -from.
		defer func() {
			fmt.Fprintf(&raw, "%sinfo %d %s %s %s %s %s\n", rawHeader, set.rounds, set.benchtime, started.UTC().Format(time.RFC3339),
				time.Since(started).Round(time.Second), strings.ReplaceAll(load, " ", "_"), set.delay)
			if werr := os.WriteFile(rawPath, raw.Bytes(), 0o644); err == nil {
				err = werr
			}
		}()
	}
	results, logs, err := runCommands(cmds, &raw)
	if err != nil {
		return err
	}
	var profs []profileSummary
	if profDir != "" {
		if profs, err = makeProfiles(profDir); err != nil {
			return err
		}
	}
	old, _ := os.ReadFile(out)
	doc := render(renderInput{
		when:      started,
		elapsed:   time.Since(started),
		cmds:      cmds,
		route:     results["throughput"],
		fake:      results["fake"],
		memory:    results["memory"],
		switches:  results["switch"],
		link:      results["link"],
		logs:      logs,
		profiles:  profs,
		profDir:   profDir,
		kept:      keptSections(string(old)),
		rounds:    set.rounds,
		benchtime: set.benchtime,
		delay:     set.delay,
		load:      load,
	})
	if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "report: wrote %s in %v\n", out, time.Since(started).Round(time.Second))
	return nil
}

// benchCommands are the `go test` runs of a report, in order.
func benchCommands(set runSettings, skipMemory bool) []command {
	cmds := []command{
		{"throughput", []string{"test", "-v", "-run", "^$", "-bench", "^BenchmarkRoute$", "-benchtime", set.benchtime,
			"-timeout", "90m", "./bench/", "-args", "-rounds", strconv.Itoa(set.rounds), "-delay", set.delay}},
		{"link", []string{"test", "-run", "^$", "-bench", "^BenchmarkDelayLink$", "-benchtime", "2s", "-count", "3",
			"./bench/", "-args", "-delay", set.delay}},
		{"fake", []string{"test", "-run", "^$", "-bench", "^BenchmarkFake$", "-benchmem", "-count", "3", "./bench/"}},
		{"switch", []string{"test", "-run", "^$", "-bench", "^BenchmarkSwitchStatement$", "-benchtime", "2s", "-count", "3", "./bench/"}},
	}
	if !skipMemory {
		cmds = append(cmds, command{"memory", []string{"test", "-run", "^$", "-bench", "^BenchmarkBackendMemory$",
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

// rawHeader starts the line before each command's output in the -raw file:
// rawHeader, the command's kind, a space, the command.
const rawHeader = "### report: "

// rerender writes out from a -raw file of an earlier run.
func rerender(from, out, profDir string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	in := renderInput{profDir: profDir}
	for _, chunk := range strings.Split(string(b), rawHeader)[1:] {
		head, body, _ := strings.Cut(chunk, "\n")
		kind, rest, _ := strings.Cut(head, " ")
		rs, logs := parseBench(body)
		in.logs = append(in.logs, logs...)
		switch kind {
		case "throughput":
			in.route = rs
		case "fake":
			in.fake = rs
		case "memory":
			in.memory = rs
		case "switch":
			in.switches = rs
		case "link":
			in.link = rs
		case "info":
			f := strings.Fields(rest)
			if len(f) >= 4 {
				in.rounds, _ = strconv.Atoi(f[0])
				in.benchtime = f[1]
				in.when, _ = time.Parse(time.RFC3339, f[2])
				in.elapsed, _ = time.ParseDuration(f[3])
			}
			in.load = "not recorded"
			if len(f) >= 5 {
				in.load = strings.ReplaceAll(f[4], "_", " ")
			}
			if len(f) >= 6 {
				in.delay = f[5]
			}
			continue
		default:
			continue
		}
		in.cmds = append(in.cmds, command{kind, strings.Fields(strings.TrimPrefix(rest, "go "))})
	}
	for i := range in.cmds {
		// Fields split quoted regexps apart from their quotes only; undo the quoting.
		for j, a := range in.cmds[i].args {
			in.cmds[i].args[j] = strings.Trim(a, "'")
		}
	}
	if profDir != "" {
		in.profiles = readProfiles(profDir)
	}
	old, _ := os.ReadFile(out)
	in.kept = keptSections(string(old))
	return os.WriteFile(out, []byte(render(in)), 0o644)
}
