package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The -raw file: the output of every command of a run under a header line
// (rawHeader, the command's kind, a space, the command), then an info line
// (rawHeader, "info", the run's settings). -from renders the document from
// it again.

const rawHeader = "### report: "

// infoLine is the -raw file's last line: rounds, benchtime, start, elapsed
// time, load average (spaces as _) and delay, separated by spaces.
func infoLine(set runSettings, started time.Time, elapsed time.Duration, load string) string {
	return fmt.Sprintf("%sinfo %d %s %s %s %s %s\n", rawHeader, set.rounds, set.benchtime, started.UTC().Format(time.RFC3339),
		elapsed.Round(time.Second), strings.ReplaceAll(load, " ", "_"), set.delay)
}

// readInfo sets what the info line's fields (after "info") say.
func (in *renderInput) readInfo(f []string) {
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
}

// rerender writes out from a -raw file of an earlier run.
func rerender(from, out, profDir string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	in := readRaw(string(b))
	in.profDir = profDir
	if profDir != "" {
		in.profiles = readProfiles(profDir)
	}
	old, _ := os.ReadFile(out)
	in.kept = keptSections(string(old))
	return os.WriteFile(out, []byte(render(in)), 0o644)
}

// readRaw reads the commands, results, logs and settings of a -raw file.
// Output under a kind it does not know is left out.
func readRaw(raw string) renderInput {
	var in renderInput
	for _, chunk := range strings.Split(raw, rawHeader)[1:] {
		head, body, _ := strings.Cut(chunk, "\n")
		kind, rest, _ := strings.Cut(head, " ")
		if kind == "info" {
			in.readInfo(strings.Fields(rest))
			continue
		}
		p := in.resultsOf(kind)
		if p == nil {
			continue
		}
		rs, logs := parseBench(body)
		*p = rs
		in.logs = append(in.logs, logs...)
		args := strings.Fields(strings.TrimPrefix(rest, "go "))
		for j, a := range args {
			// Fields split quoted regexps apart from their quotes only; undo the quoting.
			args[j] = strings.Trim(a, "'")
		}
		in.cmds = append(in.cmds, command{kind, args})
	}
	return in
}
