package migrator

import (
	"context"
	"log/slog"
	"time"
)

// What the Migrator logs (see WithLogger). Every record about one schema
// carries its tenant ("" for the shared schema) and schema.

func schemaAttrs(tenant, schema string) []slog.Attr {
	return []slog.Attr{slog.String("tenant", tenant), slog.String("schema", schema)}
}

// logStart records that a schema's run starts (Debug).
func (m *Migrator) logStart(ctx context.Context, op string, t target) {
	if !m.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	m.log.LogAttrs(ctx, slog.LevelDebug, "migrator: schema started",
		append(schemaAttrs(t.tenant, t.schema), slog.String("op", op))...)
}

// logResult records a schema's result: Info when it succeeded, Error with
// the cause when it failed. In a run over many tenants, p is the run's
// progress after it (schemas done and failed so far, of how many).
func (m *Migrator) logResult(ctx context.Context, op string, r Result, p *Progress) {
	if !m.log.Enabled(ctx, slog.LevelError) {
		return
	}
	attrs := append(schemaAttrs(r.Tenant, r.Schema),
		slog.String("op", op),
		slog.Int64("from", r.From),
		slog.Int64("to", r.To),
		slog.Int("applied", len(r.Applied)),
		slog.Duration("duration", r.Duration))
	if p != nil {
		attrs = append(attrs, slog.Int("done", p.Done), slog.Int("failed_so_far", p.Failed), slog.Int("total", p.Total))
	}
	if r.Err != nil {
		m.log.LogAttrs(ctx, slog.LevelError, "migrator: schema failed", append(attrs, slog.Any("err", r.Err))...)
		return
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "migrator: schema done", attrs...)
}

// logRunStart records the start of a run over many tenants (Info).
func (m *Migrator) logRunStart(ctx context.Context, op string, tenants, workers int) {
	m.log.LogAttrs(ctx, slog.LevelInfo, "migrator: run started",
		slog.String("op", op), slog.Int("tenants", tenants), slog.Int("workers", workers))
}

// logRunEnd records the end of a run over many tenants (Info, or Warn when
// some tenants failed or were not run).
func (m *Migrator) logRunEnd(ctx context.Context, op string, p *PartialError, took time.Duration) {
	level := slog.LevelInfo
	if len(p.Failed) > 0 || len(p.Skipped) > 0 {
		level = slog.LevelWarn
	}
	m.log.LogAttrs(ctx, level, "migrator: run done",
		slog.String("op", op),
		slog.Int("succeeded", p.Succeeded),
		slog.Int("failed", len(p.Failed)),
		slog.Int("skipped", len(p.Skipped)),
		slog.Duration("duration", took))
}

// logChange records a tenant created, renamed or dropped (Info).
func (m *Migrator) logChange(ctx context.Context, msg, tenant, schema string, extra ...slog.Attr) {
	m.log.LogAttrs(ctx, slog.LevelInfo, msg, append(schemaAttrs(tenant, schema), extra...)...)
}
