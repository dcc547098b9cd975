package tenanthttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath/tenanthttp"
)

// jsonLogger logs every level as JSON lines to w.
func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records decodes the JSON lines a jsonLogger wrote.
func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(buf)
	for dec.More() {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("log is not JSON lines: %v", err)
		}
		out = append(out, rec)
	}
	return out
}

func failingLister(err error) tenanthttp.Lister {
	return func(context.Context) ([]string, error) { return nil, err }
}

func TestServerErrorsLoggedWithTheirCause(t *testing.T) {
	boom := errors.New("dial tcp 10.0.0.5:5432: connection refused")
	var buf bytes.Buffer
	h, _ := build(t, []tenanthttp.Resolver{tenanthttp.Header("")},
		tenanthttp.WithLister(failingLister(boom), time.Minute), tenanthttp.WithLogger(jsonLogger(&buf)))

	r := request("/notes?x=1", "X-Tenant-ID", "acme")
	r.Method = http.MethodPost
	w := serve(h, r)
	if w.Code != 500 || strings.Contains(w.Body.String(), "refused") {
		t.Fatalf("status %d, body %q: want 500 without the cause", w.Code, w.Body.String())
	}
	recs := records(t, &buf)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1: %v", len(recs), recs)
	}
	want := map[string]any{
		"level": "ERROR", "msg": "tenanthttp: request refused", "status": float64(500),
		"method": "POST", "path": "/notes", "tenant": "acme", "resolver": `header "X-Tenant-Id"`,
		"error": boom.Error(),
	}
	for k, v := range want {
		if recs[0][k] != v {
			t.Errorf("record %s = %v, want %v", k, recs[0][k], v)
		}
	}

	// Client errors are logged at Debug, and not at all above it.
	buf.Reset()
	serve(h, request("/", "X-Tenant-ID", "Nope"))
	if recs := records(t, &buf); len(recs) != 1 || recs[0]["level"] != "DEBUG" || recs[0]["status"] != float64(400) {
		t.Errorf("invalid tenant: records %v, want one at DEBUG", recs)
	}
	buf.Reset()
	info := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, _ = build(t, []tenanthttp.Resolver{tenanthttp.Header("")}, tenanthttp.WithLogger(info))
	serve(h, request("/"))
	if buf.Len() != 0 {
		t.Errorf("a 400 was logged above Debug: %s", buf.String())
	}
}

// Without WithLogger, a 5xx still reaches the logs: slog's default logger.
func TestServerErrorsLoggedByDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(jsonLogger(&buf))
	t.Cleanup(func() { slog.SetDefault(old) })

	h, _ := build(t, []tenanthttp.Resolver{tenanthttp.Header("")},
		tenanthttp.WithLister(failingLister(errors.New("lister down")), time.Minute))
	if w := serve(h, request("/", "X-Tenant-ID", "acme")); w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	recs := records(t, &buf)
	if len(recs) != 1 || recs[0]["level"] != "ERROR" || recs[0]["error"] != "lister down" {
		t.Fatalf("records %v, want one ERROR with the cause", recs)
	}
}

func TestWithLoggerNil(t *testing.T) {
	_, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")}, tenanthttp.WithLogger(nil))
	if err == nil || !strings.Contains(err.Error(), "nil *slog.Logger") {
		t.Fatalf("New: %v", err)
	}
}
