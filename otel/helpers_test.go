package tenantotel_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// reading is one collection of a ManualReader, by instrument name.
type reading map[string]metricdata.Metrics

// collect reads every instrument of r now.
func collect(t testing.TB, r *sdkmetric.ManualReader) reading {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := reading{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// newReader returns a MeterProvider whose instruments r reads, shut down
// when t ends.
func newReader(t testing.TB) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	return mp, r
}

// point is one data point: its attributes, rendered as "k=v,k=v" in key
// order, and its value.
type point struct {
	attrs string
	value float64
}

// points returns the data points of the instrument name whose attributes
// include has, keyed by the value of split ("" when split is empty), and
// checks its kind: a monotonic sum for a counter, a non-monotonic one for
// a level.
func (rd reading) points(t testing.TB, name string, monotonic bool, has attribute.KeyValue, split attribute.Key) map[string]float64 {
	t.Helper()
	m, ok := rd[name]
	if !ok {
		t.Fatalf("no instrument %s in the reading (it has %s)", name, rd.names())
	}
	var all []point
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		checkSum(t, name, d.IsMonotonic, d.Temporality, monotonic)
		for _, dp := range d.DataPoints {
			all = append(all, point{render(dp.Attributes), float64(dp.Value)})
		}
	case metricdata.Sum[float64]:
		checkSum(t, name, d.IsMonotonic, d.Temporality, monotonic)
		for _, dp := range d.DataPoints {
			all = append(all, point{render(dp.Attributes), dp.Value})
		}
	default:
		t.Fatalf("%s is a %T, want a sum", name, m.Data)
	}
	out := map[string]float64{}
	for _, p := range all {
		if !strings.Contains(","+p.attrs+",", ","+string(has.Key)+"="+has.Value.String()+",") {
			continue
		}
		key := ""
		if split != "" {
			key = "(none)"
			for _, kv := range strings.Split(p.attrs, ",") {
				if k, v, _ := strings.Cut(kv, "="); k == string(split) {
					key = v
				}
			}
		}
		if _, dup := out[key]; dup {
			t.Fatalf("%s: two data points for %q: %+v", name, key, all)
		}
		out[key] = p.value
	}
	return out
}

// value is the single data point of a counter or level that carries has.
func (rd reading) value(t testing.TB, name string, monotonic bool, has attribute.KeyValue) float64 {
	t.Helper()
	pts := rd.points(t, name, monotonic, has, "")
	v, ok := pts[""]
	if !ok {
		t.Fatalf("%s: no data point with %s=%s", name, has.Key, has.Value.String())
	}
	return v
}

func checkSum(t testing.TB, name string, isMonotonic bool, temp metricdata.Temporality, monotonic bool) {
	t.Helper()
	if isMonotonic != monotonic {
		t.Fatalf("%s: monotonic = %v, want %v", name, isMonotonic, monotonic)
	}
	if temp != metricdata.CumulativeTemporality {
		t.Fatalf("%s: temporality %v, want cumulative", name, temp)
	}
}

func render(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, ",")
}

func (rd reading) names() string {
	var names []string
	for n := range rd {
		names = append(names, n)
	}
	return strings.Join(names, " ")
}
