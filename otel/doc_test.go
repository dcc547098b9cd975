package tenantotel_test

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tenantpath/tenantpath"
	tenantotel "github.com/tenantpath/tenantpath/otel"
)

// documented is one row of the instrument table in doc.go.
type documented struct {
	kind, unit string
	split      string   // the attribute that splits it, if any
	values     []string // the values of split, in the order listed
}

var (
	docRow   = regexp.MustCompile(`^//\t(tenantpath\.[a-z_.]+)\s+(counter|up-down)\s+(\S+)\s+(?:by ([a-z_.]+):)?`)
	docValue = regexp.MustCompile(`^//\t {60,}([a-z_]+)\s`)
)

// parseDocTable reads the instrument table of the package doc.
func parseDocTable(t *testing.T) map[string]*documented {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*documented{}
	var last *documented
	for _, line := range strings.Split(string(src), "\n") {
		if m := docRow.FindStringSubmatch(line); m != nil {
			last = &documented{kind: m[2], unit: m[3], split: m[4]}
			out[m[1]] = last
			continue
		}
		if m := docValue.FindStringSubmatch(line); m != nil && last != nil && last.split != "" {
			last.values = append(last.values, m[1])
			continue
		}
		last = nil
	}
	return out
}

// The table in the package doc lists exactly the instruments a pooled
// *sql.DB reports, with their kinds, units and the values of the attribute
// that splits them. A *sql.DB that has not connected yet reports them all
// (at zero), so no server is needed.
func TestDocTableMatchesTheInstruments(t *testing.T) {
	doc := parseDocTable(t)
	if len(doc) < 20 {
		t.Fatalf("found %d rows in the doc's table: the parser no longer matches it", len(doc))
	}
	cfg, err := pgx.ParseConfig("postgres://127.0.0.1:1/never")
	if err != nil {
		t.Fatal(err)
	}
	db, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg), tenantpath.Pool(2))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mp, reader := newReader(t)
	reg, err := tenantotel.RegisterMetrics(db, mp)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()
	rd := collect(t, reader)

	if got, want := slices.Sorted(maps.Keys(rd)), slices.Sorted(maps.Keys(doc)); !slices.Equal(got, want) {
		t.Fatalf("instruments reported:\n  %v\ndocumented:\n  %v", got, want)
	}
	for name, d := range doc {
		m := rd[name]
		monotonic, attrs := sumOf(t, m)
		if kind := map[bool]string{true: "counter", false: "up-down"}[monotonic]; kind != d.kind || m.Unit != d.unit {
			t.Errorf("%s is a %s in %s; the doc says a %s in %s", name, kind, m.Unit, d.kind, d.unit)
		}
		var values []string
		for _, set := range attrs {
			if v, ok := set.Value(attribute.Key(d.split)); ok {
				values = append(values, v.String())
			}
		}
		slices.Sort(values)
		if want := slices.Sorted(slices.Values(d.values)); !slices.Equal(values, want) {
			t.Errorf("%s is split by %q into %v; the doc says %v", name, d.split, values, want)
		}
	}
}

func sumOf(t *testing.T, m metricdata.Metrics) (monotonic bool, attrs []attribute.Set) {
	t.Helper()
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			attrs = append(attrs, dp.Attributes)
		}
		return d.IsMonotonic, attrs
	case metricdata.Sum[float64]:
		for _, dp := range d.DataPoints {
			attrs = append(attrs, dp.Attributes)
		}
		return d.IsMonotonic, attrs
	}
	t.Fatalf("%s is a %T", m.Name, m.Data)
	return false, nil
}
