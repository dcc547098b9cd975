package main

import (
	"fmt"

	"github.com/tenantpath/tenantpath/migrator"
)

// Schema states, as status reports them.
const (
	stateUpToDate = "up_to_date"
	statePending  = "pending" // exists, migrations to apply, nothing changed
	stateDrifted  = "drifted" // an applied migration was changed, or is defined by no file
	stateMissing  = "missing" // the schema does not exist
)

func stateOf(s migrator.Status) string {
	switch {
	case !s.Exists:
		return stateMissing
	case s.Changed || len(s.Unknown) > 0:
		return stateDrifted
	case len(s.Pending) > 0:
		return statePending
	}
	return stateUpToDate
}

type statusJSON struct {
	Tenant   string  `json:"tenant,omitempty"`
	Schema   string  `json:"schema"`
	State    string  `json:"state"`
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
	return statusJSON{s.Tenant, s.Schema, stateOf(s), s.Exists, s.Version, pending, s.Unknown, s.Changed, s.UpToDate()}
}

// counts are status's totals over the tenants, by state.
type counts struct {
	Tenants  int `json:"tenants"`
	UpToDate int `json:"up_to_date"`
	Pending  int `json:"pending"`
	Drifted  int `json:"drifted"`
	Missing  int `json:"missing"`
}

func countStates(st []migrator.Status) counts {
	c := counts{Tenants: len(st)}
	for _, s := range st {
		switch stateOf(s) {
		case stateUpToDate:
			c.UpToDate++
		case statePending:
			c.Pending++
		case stateDrifted:
			c.Drifted++
		case stateMissing:
			c.Missing++
		}
	}
	return c
}

// status prints the state of the shared schema and the tenants, and
// reports whether everything is up to date.
func (p *printer) status(shared migrator.Status, st []migrator.Status) bool {
	c := countStates(st)
	upToDate := shared.UpToDate() && c.UpToDate == c.Tenants
	if p.json {
		list := make([]statusJSON, len(st))
		for i, s := range st {
			list[i] = statusToJSON(s)
		}
		p.doc(map[string]any{"up_to_date": upToDate, "counts": c, "shared": statusToJSON(shared), "tenants": list})
		return upToDate
	}
	fmt.Fprintf(p.w, "shared (%s): %s\n", shared.Schema, describe(shared))
	for _, s := range st {
		if !s.UpToDate() {
			fmt.Fprintf(p.w, "%s (%s): %s\n", s.Tenant, s.Schema, describe(s))
		}
	}
	fmt.Fprintf(p.w, "%d tenant(s): %d up to date, %d pending, %d drifted, %d missing\n",
		c.Tenants, c.UpToDate, c.Pending, c.Drifted, c.Missing)
	return upToDate
}

func describe(s migrator.Status) string {
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

func (p *printer) list(ids []string) {
	if p.json {
		p.doc(map[string]any{"tenants": nonNil(ids)})
		return
	}
	for _, id := range ids {
		fmt.Fprintln(p.w, id)
	}
}

func (p *printer) check(r migrator.CheckReport) {
	if p.json {
		shadowed := make([]map[string]any, len(r.Shadowed))
		for i, s := range r.Shadowed {
			shadowed[i] = map[string]any{"schema": s.Schema, "table": s.Table, "tenants": s.Tenants}
		}
		p.doc(map[string]any{"ok": r.OK(), "orphan_schemas": nonNil(r.Orphans), "missing_schemas": nonNil(r.Missing),
			"invalid_tenants": nonNil(r.Invalid), "shadowed_tables": shadowed})
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
	for _, s := range r.Shadowed {
		fmt.Fprintf(p.w, "shared table shadows tenant tables: %s.%s (in %d tenant(s); a tenant without its own reads this one)\n",
			s.Schema, s.Table, s.Tenants)
	}
	if r.OK() {
		fmt.Fprintln(p.w, "ok: every tenant has its schema, every tenant schema its tenant, and no shared table shadows a tenant's")
	}
}
