package tenantpath

import (
	"context"
	"errors"
	"log/slog"
)

// What happens on a connection is counted (stats.go) and, with WithLogger,
// logged: switches at Debug; refused calls and drift retries at Info; paths
// in doubt and discarded connections at Warn. Every record says which
// tenant (or scope) it is about.

// WithLogger makes the driver log to l what it does: switches (Debug);
// unknown and invalid tenants, calls without a tenant and drift retries
// (Info); connections discarded in doubt, paths the caller's SQL or the
// server's report put in doubt, and calls refused inside another tenant's
// transaction (Warn). Every record carries the tenant. Without it nothing
// is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("tenantpath: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// log writes one record about scope s, if a logger is set and wants it. It
// allocates nothing when no record is written.
func (cfg *config) log(ctx context.Context, level slog.Level, msg string, s Scope, attrs ...slog.Attr) {
	l := cfg.logger
	if l == nil || !l.Enabled(ctx, level) {
		return
	}
	attrs = append(attrs, scopeAttr(s))
	l.LogAttrs(ctx, level, msg, attrs...)
}

func scopeAttr(s Scope) slog.Attr {
	if s.Kind == ScopeTenant {
		return slog.String("tenant", s.Tenant)
	}
	return slog.String("scope", s.String())
}

// countRefusal counts and logs a call the driver refused, by its error. Errors
// of the base driver and of the statement are not the driver's to count.
func (c *conn) countRefusal(ctx context.Context, want Scope, err error) {
	if err == nil {
		return
	}
	cn, cfg := &c.cfg.counts, c.cfg
	switch {
	case errors.Is(err, ErrUnknownTenant):
		cn.unknown.Add(1)
		cfg.log(ctx, slog.LevelInfo, "tenantpath: unknown tenant", want)
	case errors.Is(err, ErrInvalidTenant):
		cn.invalid.Add(1)
		cfg.log(ctx, slog.LevelInfo, "tenantpath: invalid tenant", want, slog.String("error", err.Error()))
	case errors.Is(err, ErrNoTenant):
		cn.noTenant.Add(1)
		cfg.log(ctx, slog.LevelInfo, "tenantpath: call without a tenant refused", want)
	case errors.Is(err, ErrTenantMismatch):
		cn.mismatches.Add(1)
		cfg.log(ctx, slog.LevelWarn, "tenantpath: call refused inside a transaction", want, slog.String("error", err.Error()))
	}
}

// countSwitch counts and logs a switch that ran (alone or carried).
func (c *conn) countSwitch(ctx context.Context, want Scope, carried bool) {
	c.cfg.counts.switches.Add(1)
	if carried {
		c.cfg.counts.carried.Add(1)
	}
	c.switched()
	c.cfg.log(ctx, slog.LevelDebug, "tenantpath: switch", want, slog.Bool("carried", carried))
}

// discard marks the connection in doubt: it is never used again and the
// pool closes it.
func (c *conn) discard(ctx context.Context, cause string, err error) {
	if !c.bad {
		c.cfg.counts.discarded.Add(1)
		attrs := []slog.Attr{slog.String("cause", cause)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		c.cfg.log(ctx, slog.LevelWarn, "tenantpath: connection discarded", c.on, attrs...)
	}
	c.bad, c.on = true, Scope{Kind: pathUnknown}
}

// doubted counts and logs a path that became unknown.
func (c *conn) doubted(ctx context.Context, s Scope, cause string) {
	c.cfg.counts.inDoubt.Add(1)
	c.cfg.log(ctx, slog.LevelWarn, "tenantpath: path in doubt", s, slog.String("cause", cause))
}
