package main

import (
	"context"
	"fmt"

	"github.com/tenantpath/tenantpath/migrator"
)

// plan is what migrate would do in one schema. It is read from the
// schema's status only, so a dry run takes no lock and writes nothing.
type plan struct {
	Tenant       string    `json:"tenant,omitempty"`
	Schema       string    `json:"schema"`
	Apply        []planned `json:"apply"`
	WouldFail    string    `json:"would_fail,omitempty"` // why migrate would refuse this schema
	CreateSchema bool      `json:"create_schema,omitempty"`
}

type planned struct {
	Version       int64  `json:"version"`
	Name          string `json:"name"`
	NoTransaction bool   `json:"no_transaction,omitempty"`
}

// planFor says what migrate would do with s, given its set's migrations:
// apply the pending ones newer than the newest applied, in order, unless
// the schema's checks would stop it (as they stop a real run).
func planFor(s migrator.Status, set []migrator.Migration) plan {
	p := plan{Tenant: s.Tenant, Schema: s.Schema, Apply: []planned{}}
	switch {
	case !s.Exists && s.Tenant != "":
		p.WouldFail = "schema missing (tenants create makes it)"
		return p
	case s.Changed:
		p.WouldFail = "an applied migration was changed since (checksum)"
		return p
	case len(s.Unknown) > 0:
		p.WouldFail = fmt.Sprintf("versions %v are applied but defined by no file", s.Unknown)
		return p
	}
	p.CreateSchema = !s.Exists
	pending := make(map[int64]bool, len(s.Pending))
	for _, v := range s.Pending {
		if v < s.Version {
			p.WouldFail = fmt.Sprintf("migration %d is pending but %d is applied (gap)", v, s.Version)
			return p
		}
		pending[v] = true
	}
	for _, m := range set {
		if pending[m.Version] {
			p.Apply = append(p.Apply, planned{m.Version, m.Name, m.NoTx})
		}
	}
	return p
}

// dryRun prints what migrate would run, per schema, and changes nothing. It
// exits 1 when a schema would fail.
func dryRun(ctx context.Context, a *app, shared, tenants bool) (int, error) {
	var plans []plan
	if shared {
		st, err := a.m.StatusShared(ctx)
		if err != nil {
			return exitFailure, err
		}
		plans = append(plans, planFor(st, a.m.Migrations(migrator.SharedSet)))
	}
	if tenants {
		st, err := a.m.Status(ctx, a.runOptions()...)
		if err != nil {
			return exitFailure, err
		}
		set := a.m.Migrations(migrator.TenantSet)
		for _, s := range st {
			plans = append(plans, planFor(s, set))
		}
	}
	failing := a.out.plans(plans)
	if failing > 0 {
		return exitFailure, fmt.Errorf("dry run: %d schema(s) would fail", failing)
	}
	return exitOK, nil
}

// plans prints a dry run and returns how many schemas would fail. Text
// lists the schemas with something to do; JSON lists them all.
func (p *printer) plans(plans []plan) int {
	failing, idle := 0, 0
	for _, pl := range plans {
		if pl.WouldFail != "" {
			failing++
		} else if len(pl.Apply) == 0 && !pl.CreateSchema {
			idle++
		}
	}
	if p.json {
		p.doc(map[string]any{"dry_run": true, "schemas": plans, "would_fail": failing})
		return failing
	}
	for _, pl := range plans {
		label := fmt.Sprintf("%s (%s)", name(migrator.Result{Tenant: pl.Tenant}), pl.Schema)
		switch {
		case pl.WouldFail != "":
			fmt.Fprintf(p.w, "%s: would fail: %s\n", label, pl.WouldFail)
		case len(pl.Apply) > 0 || pl.CreateSchema:
			fmt.Fprintf(p.w, "%s: would apply %d migration(s)", label, len(pl.Apply))
			if pl.CreateSchema {
				fmt.Fprint(p.w, " after creating the schema")
			}
			fmt.Fprintln(p.w)
			for _, m := range pl.Apply {
				nt := ""
				if m.NoTransaction {
					nt = " (no transaction)"
				}
				fmt.Fprintf(p.w, "  %d %s%s\n", m.Version, m.Name, nt)
			}
		}
	}
	fmt.Fprintf(p.w, "dry run: %d schema(s) to migrate, %d up to date, %d would fail; nothing was changed\n",
		len(plans)-idle-failing, idle, failing)
	return failing
}
