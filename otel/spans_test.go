package tenantotel_test

import (
	"context"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tenantpath/tenantpath"
	tenantotel "github.com/tenantpath/tenantpath/otel"
)

// newTracer returns a TracerProvider with procs in front of a recorder,
// and the recorder; the provider is shut down when t ends.
func newTracer(t testing.TB, procs ...sdktrace.SpanProcessor) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	var opts []sdktrace.TracerProviderOption
	for _, p := range procs {
		opts = append(opts, sdktrace.WithSpanProcessor(p))
	}
	tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithSpanProcessor(rec))...)
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, rec
}

// scopeAttrs returns the tenantpath attributes of a span, rendered.
func scopeAttrs(s sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, kv := range s.Attributes() {
		if kv.Key == tenantotel.TenantKey || kv.Key == tenantotel.ScopeKey {
			out = append(out, string(kv.Key)+"="+kv.Value.String())
		}
	}
	return out
}

var scopeCases = []struct {
	name string
	ctx  context.Context
	want []string
}{
	{"tenant", tenantpath.WithTenant(context.Background(), "acme"), []string{"tenantpath.tenant=acme"}},
	{"shared", tenantpath.WithShared(context.Background()), []string{"tenantpath.scope=shared"}},
	{"base", tenantpath.WithBasePath(context.Background()), []string{"tenantpath.scope=base"}},
	{"shared over a tenant", tenantpath.WithShared(tenantpath.WithTenant(context.Background(), "acme")), []string{"tenantpath.scope=shared"}},
	{"none", context.Background(), nil},
}

// Every span started with a context that names a scope says which; the
// others get nothing.
func TestSpanProcessorNamesTheScope(t *testing.T) {
	tp, rec := newTracer(t, tenantotel.NewSpanProcessor())
	tracer := tp.Tracer("test")
	for _, c := range scopeCases {
		// The caller's own attributes stay beside the processor's.
		_, span := tracer.Start(c.ctx, c.name, trace.WithAttributes(attribute.String("caller", "kept")))
		span.End()
	}
	ended := rec.Ended()
	if len(ended) != len(scopeCases) {
		t.Fatalf("%d spans recorded, want %d", len(ended), len(scopeCases))
	}
	for i, c := range scopeCases {
		s := ended[i]
		if got := scopeAttrs(s); !slices.Equal(got, c.want) {
			t.Errorf("span started with %s: %v, want %v", c.name, got, c.want)
		}
		if !slices.Contains(s.Attributes(), attribute.String("caller", "kept")) {
			t.Errorf("span %s lost the caller's attribute: %v", c.name, s.Attributes())
		}
	}
}

// A child span started from a span's context gets the tenant from the
// context too: the tenant travels in the context, not from span to span.
func TestSpanProcessorOnChildSpans(t *testing.T) {
	tp, rec := newTracer(t, &tenantotel.SpanProcessor{}) // the zero value works
	tracer := tp.Tracer("test")
	ctx, parent := tracer.Start(tenantpath.WithTenant(context.Background(), "10"), "request")
	_, child := tracer.Start(ctx, "query")
	child.End()
	_, other := tracer.Start(tenantpath.WithTenant(ctx, "11"), "another tenant's work")
	other.End()
	parent.End()
	got := map[string][]string{}
	for _, s := range rec.Ended() {
		got[s.Name()] = scopeAttrs(s)
	}
	for name, want := range map[string][]string{
		"request":               {"tenantpath.tenant=10"},
		"query":                 {"tenantpath.tenant=10"},
		"another tenant's work": {"tenantpath.tenant=11"},
	} {
		if !slices.Equal(got[name], want) {
			t.Errorf("span %q: %v, want %v", name, got[name], want)
		}
	}
}

func TestAttributes(t *testing.T) {
	for _, c := range scopeCases {
		var got []string
		for _, kv := range tenantotel.Attributes(c.ctx) {
			got = append(got, string(kv.Key)+"="+kv.Value.String())
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Attributes(%s) = %v, want %v", c.name, got, c.want)
		}
	}
}
