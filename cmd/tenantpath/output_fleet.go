package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tenantpath/tenantpath/migrator"
)

func (p *printer) spares(r migrator.SparesReport) {
	if p.json {
		failed := make([]resultJSON, len(r.Failed))
		for i, f := range r.Failed {
			failed[i] = toJSON(f)
		}
		p.doc(map[string]any{"ready": r.Ready, "created": r.Created, "migrated": r.Migrated, "dropped": r.Dropped, "failed": failed})
		return
	}
	for _, f := range r.Failed {
		p.failure("FAIL", "spare "+f.Schema+" (dropped)", f.Err)
	}
	fmt.Fprintf(p.w, "%d spare(s) ready: %d created, %d migrated, %d dropped\n", r.Ready, r.Created, r.Migrated, r.Dropped)
}

type tableRowsJSON struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

func tablesJSON(ts []migrator.TableRows) ([]tableRowsJSON, int64) {
	out := make([]tableRowsJSON, len(ts))
	var total int64
	for i, t := range ts {
		out[i] = tableRowsJSON{t.Table, t.Rows}
		total += t.Rows
	}
	return out, total
}

// archive prints what an export or an import did.
func (p *printer) archive(op, tenant, file string, info migrator.ArchiveInfo) {
	tables, total := tablesJSON(info.Tables)
	if p.json {
		p.doc(map[string]any{"op": op, "tenant": tenant, "file": file, "source_tenant": info.Tenant, "source_schema": info.Schema,
			"version": info.Version, "tables": tables, "rows": total, "sequences": info.Sequences})
		return
	}
	dir := "to"
	if op == "import" {
		dir = "from"
	}
	fmt.Fprintf(p.w, "ok   %s %s %s %s: version %d, %d table(s), %d row(s), %d sequence(s)",
		op, tenant, dir, file, info.Version, len(info.Tables), total, info.Sequences)
	if op == "import" && info.Tenant != tenant {
		fmt.Fprintf(p.w, " (exported as %s)", info.Tenant)
	}
	fmt.Fprintln(p.w)
}

type countJSON struct {
	Table       string `json:"table"`
	Exported    int64  `json:"exported"`
	Destination int64  `json:"destination"`
	Source      int64  `json:"source"`
}

// move prints a move's counts and what became of the source.
func (p *printer) move(tenant string, r migrator.MoveReport, err error) {
	counts := r.Counts
	var mm *migrator.MoveMismatchError
	if errors.As(err, &mm) && len(counts) == 0 {
		counts = mm.Tables
	}
	if p.json {
		list := make([]countJSON, len(counts))
		for i, c := range counts {
			list[i] = countJSON{c.Table, c.Archive, c.Destination, c.Source}
		}
		d := map[string]any{"tenant": tenant, "version": r.Archive.Version, "counts": list, "source_dropped": r.Dropped}
		if err != nil {
			d["error"] = message(err)
		}
		p.doc(d)
		return
	}
	if len(counts) > 0 {
		tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "table\texported\tdestination\tsource")
		for _, c := range counts {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", c.Table, c.Archive, c.Destination, c.Source)
		}
		tw.Flush()
	}
	switch {
	case err != nil:
	case r.Dropped:
		fmt.Fprintf(p.w, "ok   moved %s; the source was dropped\n", tenant)
	default:
		fmt.Fprintf(p.w, "ok   copied %s; the source was kept (add --yes to drop it once verified)\n", tenant)
	}
}

type execJSON struct {
	Tenant  string   `json:"tenant"`
	Schema  string   `json:"schema"`
	Columns []string `json:"columns,omitempty"`
	Rows    [][]any  `json:"rows,omitempty"`
	errorJSON
}

// execJSON prints one entry per tenant started: its columns and rows, or
// its error.
func (p *printer) execJSON(res []migrator.Result, results map[string]execResult, err error) {
	list := make([]execJSON, len(res))
	var failed []string
	for i, r := range res {
		e := execJSON{Tenant: r.Tenant, Schema: r.Schema}
		if r.Err != nil {
			e.errorJSON = toErrorJSON(message(r.Err), r.Err)
			failed = append(failed, r.Tenant)
		} else {
			e.Columns, e.Rows = results[r.Tenant].Columns, results[r.Tenant].Rows
		}
		list[i] = e
	}
	d := map[string]any{"tenants": list, "failed": nonNil(failed), "skipped": []string{}}
	var pe *migrator.PartialError
	if errors.As(err, &pe) {
		d["skipped"] = nonNil(pe.Skipped)
		msg, _, _ := explain(err)
		d["error"] = msg
	}
	p.doc(d)
}

// execText prints each tenant's rows as a table, in tenant order. Failures
// are printed by the summary that follows.
func (p *printer) execText(res []migrator.Result, results map[string]execResult) {
	for _, r := range res {
		if r.Err != nil {
			continue
		}
		got := results[r.Tenant]
		fmt.Fprintf(p.w, "== %s (%s): %d row(s)\n", r.Tenant, r.Schema, len(got.Rows))
		if len(got.Columns) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(got.Columns, "\t"))
		for _, row := range got.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = cell(v)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		tw.Flush()
	}
}

// cell renders one value for the text table: NULL as NULL, text holding
// tabs or line breaks quoted, so each row stays on one line.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		if strings.ContainsAny(x, "\t\n\r") {
			return strconv.Quote(x)
		}
		return x
	}
	return fmt.Sprint(v)
}
