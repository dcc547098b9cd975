package tenantotel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tenantpath/tenantpath"
)

// The attributes that name the scope a context carries.
const (
	// TenantKey holds the tenant id of a context made by
	// [tenantpath.WithTenant], as the caller gave it.
	TenantKey = attribute.Key("tenantpath.tenant")
	// ScopeKey holds "shared" for a context made by [tenantpath.WithShared]
	// and "base" for one made by [tenantpath.WithBasePath].
	ScopeKey = attribute.Key("tenantpath.scope")
)

// Attributes returns the attributes that name the scope ctx carries:
// [TenantKey] for a tenant, [ScopeKey] for the shared scope or the base
// path, none for a context that names no scope. The slice is new on each
// call; the caller may keep it or append to it.
//
// It is for instrumentation that takes attributes from a function, such
// as otelsql's WithAttributesGetter. For spans of every kind, use
// [SpanProcessor] instead.
func Attributes(ctx context.Context) []attribute.KeyValue {
	s := tenantpath.ScopeOf(ctx)
	switch s.Kind {
	case tenantpath.ScopeTenant:
		return []attribute.KeyValue{TenantKey.String(s.Tenant)}
	case tenantpath.ScopeShared:
		return []attribute.KeyValue{ScopeKey.String("shared")}
	case tenantpath.ScopeBase:
		return []attribute.KeyValue{ScopeKey.String("base")}
	default:
		return nil
	}
}

// SpanProcessor sets the [Attributes] of the context a span is started
// with on the span, when it starts: every span started with a context that
// carries a tenant gets [TenantKey], whoever starts it (otelsql, otelhttp,
// the application's own tracer). A span started with a context that names
// no scope is left as it is. It exports nothing; install it beside the
// processor that does:
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(tenantotel.NewSpanProcessor()),
//		sdktrace.WithBatcher(exporter))
//
// The attributes are set at the start, so samplers do not see them. A
// SpanProcessor holds no state and is safe for concurrent use; the zero
// value is ready to use.
type SpanProcessor struct{}

var _ sdktrace.SpanProcessor = (*SpanProcessor)(nil)

// NewSpanProcessor returns a [SpanProcessor].
func NewSpanProcessor() *SpanProcessor { return &SpanProcessor{} }

// OnStart sets the attributes of parent, the context the span was started
// with, on s.
func (*SpanProcessor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	if attrs := Attributes(parent); attrs != nil {
		s.SetAttributes(attrs...)
	}
}

// OnEnd does nothing: the attributes were set at the start.
func (*SpanProcessor) OnEnd(sdktrace.ReadOnlySpan) {}

// Shutdown does nothing and returns nil: the processor holds nothing.
func (*SpanProcessor) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing and returns nil: the processor buffers nothing.
func (*SpanProcessor) ForceFlush(context.Context) error { return nil }
