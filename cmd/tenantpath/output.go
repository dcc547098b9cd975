package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tenantpath/tenantpath/migrator"
)

// isTerminal reports whether w is a character device (a terminal): only
// then, or with --progress, is a progress bar drawn.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printer writes a command's output as text (a progress bar, or plain lines
// when stdout is not a terminal) or as one JSON document.
type printer struct {
	w       io.Writer
	json    bool
	bar     bool      // draw a progress bar instead of one line per tenant
	printed bool      // a JSON document has been written
	ops     []opJSON  // tenants create/rename/drop results
	barLen  int       // width of the progress line drawn, 0 if none is open
	lastBar time.Time // when it was drawn
}

func newPrinter(w io.Writer, o *options) *printer {
	return &printer{w: w, json: o.json, bar: !o.json && (o.progress || isTerminal(w))}
}

func (p *printer) doc(v any) {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	p.printed = true
}

// error puts a command's error in the JSON document, if none was printed.
func (p *printer) error(msg string, err error) {
	if p.json && !p.printed {
		p.doc(toErrorJSON(msg, err))
	}
}

// progress is the OnProgress callback of runs over many tenants. Plain
// lines name a failure without its error: the summary prints each failure
// once, sorted, with its details.
func (p *printer) progress(pr migrator.Progress) {
	switch {
	case p.json:
	case p.bar:
		// Redraw at most every 100 ms, and always at the end.
		if pr.Done != pr.Total && time.Since(p.lastBar) < 100*time.Millisecond {
			return
		}
		p.lastBar = time.Now()
		p.drawBar(pr)
		if pr.Done == pr.Total {
			p.endBar()
		}
	case pr.Last.Err != nil:
		fmt.Fprintf(p.w, "FAIL %s (%s)\n", name(pr.Last), pr.Last.Schema)
	default:
		p.okLine(pr.Last)
	}
}

func (p *printer) drawBar(pr migrator.Progress) {
	const width = 30
	filled := 0
	if pr.Total > 0 {
		filled = width * pr.Done / pr.Total
	}
	line := fmt.Sprintf("[%s%s] %d/%d tenants", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), pr.Done, pr.Total)
	if pr.Failed > 0 {
		line += fmt.Sprintf(", %d failed", pr.Failed)
	}
	pad := max(p.barLen-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.barLen = len(line)
}

// endBar ends the progress line, if one is open, so that what follows (the
// summary, the shell's prompt) starts on a line of its own even when a run
// stopped before its last tenant.
func (p *printer) endBar() {
	if p.barLen > 0 {
		fmt.Fprintln(p.w)
		p.barLen = 0
	}
}

func name(r migrator.Result) string {
	if r.Tenant == "" {
		return "(shared)"
	}
	return r.Tenant
}

func (p *printer) okLine(r migrator.Result) {
	fmt.Fprintf(p.w, "ok   %s (%s): %d -> %d, %d migration(s), %v\n",
		name(r), r.Schema, r.From, r.To, len(r.Applied), r.Duration.Round(time.Millisecond))
}

// failure prints a failure with PostgreSQL's DETAIL and HINT: word is
// "FAIL" where it is the only line about it, "failed:" in a run's summary.
func (p *printer) failure(word, label string, err error) {
	fmt.Fprintf(p.w, "%s %s: %s\n", word, label, message(err))
	for _, l := range pgDetails(err) {
		fmt.Fprintf(p.w, "     %s\n", l)
	}
}

// line prints one result as a plain line.
func (p *printer) line(r migrator.Result) {
	if r.Err != nil {
		p.failure("FAIL", fmt.Sprintf("%s (%s)", name(r), r.Schema), r.Err)
		return
	}
	p.okLine(r)
}
