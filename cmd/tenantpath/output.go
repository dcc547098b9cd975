package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tenantpath/tenantpath/migrator"
)

// isTerminal reports whether w is a character device (a terminal): only
// then is a progress bar drawn.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printer writes a command's output as text (a progress bar on a terminal,
// plain lines otherwise) or as one JSON document.
type printer struct {
	w       io.Writer
	json    bool
	tty     bool
	printed bool      // a JSON document has been written
	ops     []opJSON  // tenants create/rename/drop results
	barLen  int       // width of the last progress line drawn
	lastBar time.Time // when it was drawn
}

type migrationJSON struct {
	Version    int64   `json:"version"`
	Name       string  `json:"name"`
	Down       bool    `json:"down,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

type resultJSON struct {
	Tenant     string          `json:"tenant,omitempty"`
	Schema     string          `json:"schema"`
	From       int64           `json:"from"`
	To         int64           `json:"to"`
	Applied    []migrationJSON `json:"applied"`
	DurationMS float64         `json:"duration_ms"`
	Error      string          `json:"error,omitempty"`
}

func toJSON(r migrator.Result) resultJSON {
	j := resultJSON{Tenant: r.Tenant, Schema: r.Schema, From: r.From, To: r.To,
		Applied: []migrationJSON{}, DurationMS: ms(r.Duration)}
	for _, a := range r.Applied {
		j.Applied = append(j.Applied, migrationJSON{a.Version, a.Name, a.Down, ms(a.Duration)})
	}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	return j
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (p *printer) doc(v any) {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	p.printed = true
}

// error reports a command's error in the JSON document, if none was printed.
func (p *printer) error(err error) {
	if p.json && !p.printed {
		p.doc(map[string]string{"error": err.Error()})
	}
}

// progress is the OnProgress callback of runs over many tenants.
func (p *printer) progress(pr migrator.Progress) {
	switch {
	case p.json:
	case p.tty:
		// Redraw at most every 100 ms, and always at the end.
		if pr.Done != pr.Total && time.Since(p.lastBar) < 100*time.Millisecond {
			return
		}
		p.lastBar = time.Now()
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
		if pr.Done == pr.Total {
			fmt.Fprintln(p.w)
			p.barLen = 0
		}
	default:
		p.line(pr.Last)
	}
}

// line prints one result as a plain line.
func (p *printer) line(r migrator.Result) {
	name := r.Tenant
	if name == "" {
		name = "(shared)"
	}
	if r.Err != nil {
		fmt.Fprintf(p.w, "FAIL %s (%s): %v\n", name, r.Schema, r.Err)
		return
	}
	fmt.Fprintf(p.w, "ok   %s (%s): %d -> %d, %d migration(s), %v\n",
		name, r.Schema, r.From, r.To, len(r.Applied), r.Duration.Round(time.Millisecond))
}

func (p *printer) shared(r migrator.Result) {
	if p.json {
		p.doc(map[string]any{"shared": toJSON(r)})
		return
	}
	p.line(r)
}

// tenants prints the outcome of a run over tenants and says how to exit.
func (p *printer) tenants(shared *migrator.Result, res []migrator.Result, err error) (int, error) {
	var pe *migrator.PartialError
	partial := errors.As(err, &pe)
	if err != nil && !partial {
		return exitFailure, err
	}
	if p.json {
		d := map[string]any{}
		if shared != nil {
			d["shared"] = toJSON(*shared)
		}
		list := make([]resultJSON, len(res))
		for i, r := range res {
			list[i] = toJSON(r)
		}
		d["tenants"] = list
		failed, skipped := []string{}, []string{}
		if partial {
			failed, skipped = pe.FailedTenants(), append(skipped, pe.Skipped...)
		}
		d["failed"], d["skipped"] = failed, skipped
		if err != nil {
			d["error"] = err.Error()
		}
		p.doc(d)
	} else {
		if shared != nil {
			p.line(*shared)
		}
		ok := len(res)
		if partial {
			ok -= len(pe.Failed)
		}
		fmt.Fprintf(p.w, "%d tenant(s) ok", ok)
		if partial {
			fmt.Fprintf(p.w, ", %d failed", len(pe.Failed))
			if len(pe.Skipped) > 0 {
				fmt.Fprintf(p.w, ", %d not run", len(pe.Skipped))
			}
		}
		fmt.Fprintln(p.w)
		if partial {
			for _, f := range pe.Failed {
				fmt.Fprintf(p.w, "failed: %s: %v\n", f.Tenant, f.Err)
			}
			for _, s := range pe.Skipped {
				fmt.Fprintf(p.w, "not run: %s\n", s)
			}
		}
	}
	if partial {
		return exitPartial, err
	}
	return exitOK, nil
}

type statusJSON struct {
	Tenant   string  `json:"tenant,omitempty"`
	Schema   string  `json:"schema"`
	Exists   bool    `json:"exists"`
	Version  int64   `json:"version"`
	Pending  []int64 `json:"pending"`
	Unknown  []int64 `json:"unknown,omitempty"`
	Changed  bool    `json:"changed,omitempty"`
	UpToDate bool    `json:"up_to_date"`
}

func statusToJSON(s migrator.Status) statusJSON {
	pending := s.Pending
	if pending == nil {
		pending = []int64{}
	}
	return statusJSON{s.Tenant, s.Schema, s.Exists, s.Version, pending, s.Unknown, s.Changed, s.UpToDate()}
}

func (p *printer) status(shared migrator.Status, st []migrator.Status) {
	if p.json {
		list := make([]statusJSON, len(st))
		for i, s := range st {
			list[i] = statusToJSON(s)
		}
		p.doc(map[string]any{"shared": statusToJSON(shared), "tenants": list})
		return
	}
	describe := func(s migrator.Status) string {
		switch {
		case !s.Exists:
			return "schema missing"
		case s.Changed:
			return fmt.Sprintf("version %d, an applied migration was changed", s.Version)
		case len(s.Unknown) > 0:
			return fmt.Sprintf("version %d, unknown versions applied %v", s.Version, s.Unknown)
		case len(s.Pending) > 0:
			return fmt.Sprintf("version %d, %d pending %v", s.Version, len(s.Pending), s.Pending)
		}
		return fmt.Sprintf("version %d, up to date", s.Version)
	}
	fmt.Fprintf(p.w, "shared (%s): %s\n", shared.Schema, describe(shared))
	behind := 0
	for _, s := range st {
		if !s.UpToDate() {
			behind++
			fmt.Fprintf(p.w, "%s (%s): %s\n", s.Tenant, s.Schema, describe(s))
		}
	}
	fmt.Fprintf(p.w, "%d tenant(s), %d up to date, %d not\n", len(st), len(st)-behind, behind)
}

type opJSON struct {
	Op     string `json:"op"`
	Tenant string `json:"tenant"`
	Error  string `json:"error,omitempty"`
}

func (p *printer) tenantOp(op, tenant string, err error) {
	if p.json {
		o := opJSON{Op: op, Tenant: tenant}
		if err != nil {
			o.Error = err.Error()
		}
		p.ops = append(p.ops, o)
		return
	}
	if err != nil {
		fmt.Fprintf(p.w, "FAIL %s %s: %v\n", op, tenant, err)
		return
	}
	fmt.Fprintf(p.w, "ok   %s %s\n", op, tenant)
}

// flush writes the collected tenant operations as one JSON document.
func (p *printer) flush() {
	if p.json {
		p.doc(map[string]any{"results": p.ops})
	}
}

func (p *printer) list(ids []string) {
	if p.json {
		if ids == nil {
			ids = []string{}
		}
		p.doc(map[string]any{"tenants": ids})
		return
	}
	for _, id := range ids {
		fmt.Fprintln(p.w, id)
	}
}

func (p *printer) check(r migrator.CheckReport) {
	if p.json {
		nz := func(s []string) []string {
			if s == nil {
				return []string{}
			}
			return s
		}
		p.doc(map[string]any{"ok": r.OK(), "orphan_schemas": nz(r.Orphans), "missing_schemas": nz(r.Missing), "invalid_tenants": nz(r.Invalid)})
		return
	}
	for _, s := range r.Orphans {
		fmt.Fprintf(p.w, "schema without tenant: %s\n", s)
	}
	for _, t := range r.Missing {
		fmt.Fprintf(p.w, "tenant without schema: %s\n", t)
	}
	for _, t := range r.Invalid {
		fmt.Fprintf(p.w, "invalid tenant id: %s\n", t)
	}
	if r.OK() {
		fmt.Fprintln(p.w, "ok: every tenant has its schema and every tenant schema its tenant")
	}
}
