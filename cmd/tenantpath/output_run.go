package main

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tenantpath/tenantpath/migrator"
)

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
	errorJSON
}

func toJSON(r migrator.Result) resultJSON {
	j := resultJSON{Tenant: r.Tenant, Schema: r.Schema, From: r.From, To: r.To,
		Applied: []migrationJSON{}, DurationMS: ms(r.Duration)}
	for _, a := range r.Applied {
		j.Applied = append(j.Applied, migrationJSON{a.Version, a.Name, a.Down, ms(a.Duration)})
	}
	if r.Err != nil {
		j.errorJSON = toErrorJSON(message(r.Err), r.Err)
	}
	return j
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (p *printer) shared(r migrator.Result) {
	if p.json {
		p.doc(map[string]any{"shared": toJSON(r)})
		return
	}
	p.line(r)
}

// tenants prints the outcome of a run over tenants and says how to exit.
// Failures are sorted by tenant and printed here, once.
func (p *printer) tenants(shared *migrator.Result, res []migrator.Result, err error) (int, error) {
	var pe *migrator.PartialError
	if err != nil && !errors.As(err, &pe) {
		return exitFailure, err
	}
	var failed []migrator.Result
	var skipped []string
	if pe != nil {
		failed = append(failed, pe.Failed...)
		sort.Slice(failed, func(i, j int) bool { return failed[i].Tenant < failed[j].Tenant })
		skipped = append([]string{}, pe.Skipped...)
		sort.Strings(skipped)
	}
	if p.json {
		p.tenantsJSON(shared, res, failed, skipped, err)
	} else {
		p.endBar()
		if shared != nil {
			p.line(*shared)
		}
		fmt.Fprintf(p.w, "%d tenant(s) ok", len(res)-len(failed))
		if pe != nil {
			fmt.Fprintf(p.w, ", %d failed", len(failed))
			if len(skipped) > 0 {
				fmt.Fprintf(p.w, ", %d not run", len(skipped))
			}
		}
		fmt.Fprintln(p.w)
		for _, f := range failed {
			p.failure("failed:", fmt.Sprintf("%s (%s)", f.Tenant, f.Schema), f.Err)
		}
		for _, s := range skipped {
			fmt.Fprintf(p.w, "not run: %s\n", s)
		}
	}
	if pe != nil {
		return exitPartial, err
	}
	return exitOK, nil
}

func (p *printer) tenantsJSON(shared *migrator.Result, res, failed []migrator.Result, skipped []string, err error) {
	d := map[string]any{}
	if shared != nil {
		d["shared"] = toJSON(*shared)
	}
	list := make([]resultJSON, len(res))
	for i, r := range res {
		list[i] = toJSON(r)
	}
	ids := make([]string, len(failed))
	for i, f := range failed {
		ids[i] = f.Tenant
	}
	d["tenants"], d["failed"], d["skipped"] = list, ids, nonNil(skipped)
	if err != nil {
		msg, _, _ := explain(err)
		d["error"] = msg
	}
	p.doc(d)
}

type opJSON struct {
	Op     string `json:"op"`
	Tenant string `json:"tenant"`
	errorJSON
}

func (p *printer) tenantOp(op, tenant string, err error) {
	if p.json {
		o := opJSON{Op: op, Tenant: tenant}
		if err != nil {
			o.errorJSON = toErrorJSON(message(err), err)
		}
		p.ops = append(p.ops, o)
		return
	}
	if err != nil {
		p.failure("FAIL", op+" "+tenant, err)
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

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
