package tenanthttp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/tenanthttp"
)

// recorder is a next handler that records what reached it.
type recorder struct {
	calls  int
	tenant string
	ok     bool
	path   string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.calls++
	rec.tenant, rec.ok = tenantpath.TenantFrom(r.Context())
	rec.path = r.URL.Path
	io.WriteString(w, "ok")
}

func build(t *testing.T, resolvers []tenanthttp.Resolver, opts ...tenanthttp.Option) (http.Handler, *recorder) {
	t.Helper()
	mw, err := tenanthttp.New(resolvers, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := &recorder{}
	return mw(rec), rec
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func request(target string, header ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

func staticList(ids ...string) tenanthttp.Lister {
	return func(context.Context) ([]string, error) { return ids, nil }
}

func TestFirstMatchWins(t *testing.T) {
	h, rec := build(t, []tenanthttp.Resolver{
		tenanthttp.Subdomain("example.com", "www"),
		tenanthttp.PathPrefix("/t", tenanthttp.StripPrefix),
		tenanthttp.Header(""),
	}, tenanthttp.FirstMatchWins())
	for _, tc := range []struct {
		target, header, tenant, path string
	}{
		{"http://acme.example.com/t/globex/notes", "initech", "acme", "/t/globex/notes"},
		{"http://www.example.com/t/globex/notes", "initech", "globex", "/notes"},
		{"http://www.example.com/notes", "initech", "initech", "/notes"},
	} {
		rec.calls = 0
		w := serve(h, request(tc.target, "X-Tenant-ID", tc.header))
		if w.Code != http.StatusOK || rec.calls != 1 {
			t.Fatalf("%s: status %d, handler calls %d", tc.target, w.Code, rec.calls)
		}
		if !rec.ok || rec.tenant != tc.tenant || rec.path != tc.path {
			t.Errorf("%s: handler saw tenant %q (ok %v) path %q, want %q %q", tc.target, rec.tenant, rec.ok, rec.path, tc.tenant, tc.path)
		}
	}
}

func TestRefusals(t *testing.T) {
	boom := errors.New("lister: connection refused")
	failing := func(context.Context) ([]string, error) { return nil, boom }
	funcErr := errors.New("token: signature does not verify")
	badFunc := tenanthttp.Func("token", func(r *http.Request) (string, bool, error) {
		switch r.URL.Query().Get("token") {
		case "bad":
			return "", false, funcErr
		case "invalid":
			return "", false, fmt.Errorf("claim: %w", tenantpath.ErrInvalidTenant)
		}
		return "", false, nil
	})
	naming := tenantpath.Naming{Prefix: "org_"}
	for _, tc := range []struct {
		name     string
		h        []tenanthttp.Resolver
		opts     []tenanthttp.Option
		req      *http.Request
		status   int
		errIs    error
		bodyHas  string
		bodyNot  string
		tenant   string
		resolver string
	}{
		{name: "missing", h: []tenanthttp.Resolver{tenanthttp.Header("")},
			req: request("/notes"), status: 400, errIs: tenanthttp.ErrMissingTenant, bodyHas: "no tenant in the request"},
		{name: "two headers", h: []tenanthttp.Resolver{tenanthttp.Header("")},
			req: request("/notes", "X-Tenant-ID", "acme", "X-Tenant-ID", "globex"), status: 400,
			errIs: tenanthttp.ErrAmbiguousTenant, resolver: `header "X-Tenant-Id"`},
		{name: "upper case", h: []tenanthttp.Resolver{tenanthttp.Header("")}, opts: []tenanthttp.Option{tenanthttp.WithNaming(naming)},
			req: request("/notes", "X-Tenant-ID", "Acme"), status: 400, errIs: tenantpath.ErrInvalidTenant,
			tenant: "Acme", resolver: `header "X-Tenant-Id"`, bodyHas: `invalid tenant "Acme"`, bodyNot: "org_"},
		{name: "quote in name", h: []tenanthttp.Resolver{tenanthttp.Header("")},
			req: request("/notes", "X-Tenant-ID", `a"; DROP SCHEMA public; --`), status: 400, errIs: tenantpath.ErrInvalidTenant},
		{name: "pg_ prefix", h: []tenanthttp.Resolver{tenanthttp.PathPrefix("/t", tenanthttp.StripPrefix)},
			req: request("/t/pg_catalog/notes"), status: 400, errIs: tenantpath.ErrInvalidTenant},
		{name: "shared schema", h: []tenanthttp.Resolver{tenanthttp.Subdomain("example.com")},
			req: request("http://public.example.com/"), status: 400, errIs: tenantpath.ErrInvalidTenant},
		{name: "slash in path segment", h: []tenanthttp.Resolver{tenanthttp.PathPrefix("/t", tenanthttp.StripPrefix)},
			req: request("/t/a%2Fb/notes"), status: 400, errIs: tenantpath.ErrInvalidTenant},
		{name: "schema too long", h: []tenanthttp.Resolver{tenanthttp.Header("")}, opts: []tenanthttp.Option{tenanthttp.WithNaming(naming)},
			req: request("/", "X-Tenant-ID", strings.Repeat("a", 60)), status: 400, errIs: tenantpath.ErrInvalidTenant},
		{name: "unknown", h: []tenanthttp.Resolver{tenanthttp.Header("")}, opts: []tenanthttp.Option{tenanthttp.WithLister(staticList("acme"), time.Minute)},
			req: request("/", "X-Tenant-ID", "globex"), status: 404, errIs: tenantpath.ErrUnknownTenant, tenant: "globex",
			bodyHas: `unknown tenant "globex"`, bodyNot: "schema"},
		{name: "unknown, checked after validation", h: []tenanthttp.Resolver{tenanthttp.Header("")},
			opts: []tenanthttp.Option{tenanthttp.WithLister(staticList("Acme"), time.Minute)},
			req:  request("/", "X-Tenant-ID", "Acme"), status: 400, errIs: tenantpath.ErrInvalidTenant},
		{name: "lister fails", h: []tenanthttp.Resolver{tenanthttp.Header("")}, opts: []tenanthttp.Option{tenanthttp.WithLister(failing, time.Minute)},
			req: request("/", "X-Tenant-ID", "acme"), status: 500, errIs: boom, bodyNot: "connection refused"},
		{name: "func fails", h: []tenanthttp.Resolver{badFunc, tenanthttp.Header("")},
			req: request("/?token=bad", "X-Tenant-ID", "acme"), status: 500, errIs: funcErr, bodyNot: "signature", resolver: "token"},
		{name: "func says invalid", h: []tenanthttp.Resolver{badFunc},
			req: request("/?token=invalid"), status: 400, errIs: tenantpath.ErrInvalidTenant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The default handler answers...
			var log0, log1 bytes.Buffer
			h, rec := build(t, tc.h, append(tc.opts, tenanthttp.WithLogger(jsonLogger(&log0)))...)
			w := serve(h, tc.req)
			w0 := w
			if w.Code != tc.status {
				t.Errorf("status %d, want %d (body %q)", w.Code, tc.status, w.Body.String())
			}
			if rec.calls != 0 {
				t.Error("a refused request reached the next handler")
			}
			if body := w.Body.String(); !strings.Contains(body, tc.bodyHas) || (tc.bodyNot != "" && strings.Contains(body, tc.bodyNot)) {
				t.Errorf("body %q: want it to contain %q and not %q", body, tc.bodyHas, tc.bodyNot)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q", ct)
			}

			// ...and a custom handler gets the details.
			var got *tenanthttp.Error
			opts := append(tc.opts, tenanthttp.WithLogger(jsonLogger(&log1)),
				tenanthttp.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, e *tenanthttp.Error) {
					got = e
					w.WriteHeader(http.StatusTeapot)
				}))
			h, rec = build(t, tc.h, opts...)
			w = serve(h, tc.req)
			if w.Code != http.StatusTeapot || got == nil || rec.calls != 0 {
				t.Fatalf("custom handler not used: status %d, error %v, next calls %d", w.Code, got, rec.calls)
			}
			if got.Status != tc.status || !errors.Is(got, tc.errIs) {
				t.Errorf("Error{Status: %d, Err: %v}, want status %d and an error matching %v", got.Status, got.Err, tc.status, tc.errIs)
			}
			if tc.tenant != "" && got.Tenant != tc.tenant {
				t.Errorf("Error.Tenant %q, want %q", got.Tenant, tc.tenant)
			}
			if tc.resolver != "" && got.Source != tc.resolver {
				t.Errorf("Error.Source %q, want %q", got.Source, tc.resolver)
			}
			if body := strings.TrimSpace(w0.Body.String()); got.Message != body {
				t.Errorf("Error.Message %q, but the default handler wrote %q", got.Message, body)
			}

			// Either way, a 5xx is logged at Error level with its cause.
			for _, log := range []*bytes.Buffer{&log0, &log1} {
				logged := strings.Contains(log.String(), `"level":"ERROR"`)
				if logged != (tc.status >= 500) || (logged && !strings.Contains(log.String(), tc.errIs.Error())) {
					t.Errorf("status %d, log %q: want an ERROR record with the cause for a 5xx, none otherwise", tc.status, log)
				}
			}
		})
	}
}

func TestAllowMissing(t *testing.T) {
	h, rec := build(t, []tenanthttp.Resolver{tenanthttp.Header("")}, tenanthttp.AllowMissing(),
		tenanthttp.WithLister(staticList("acme"), time.Minute))

	// Outer code may have put something in the context: pass-through leaves
	// the context alone.
	r := request("/signup")
	w := serve(h, r)
	if w.Code != 200 || rec.calls != 1 || rec.ok {
		t.Fatalf("status %d, calls %d, tenant %q ok %v: want a pass-through without tenant", w.Code, rec.calls, rec.tenant, rec.ok)
	}
	for _, tc := range []struct {
		value  string
		status int
	}{{"Bad!", 400}, {"globex", 404}, {"acme", 200}} {
		w := serve(h, request("/", "X-Tenant-ID", tc.value))
		if w.Code != tc.status {
			t.Errorf("tenant %q: status %d, want %d", tc.value, w.Code, tc.status)
		}
	}
}

// countingChecker is a Checker that counts its calls.
type countingChecker struct {
	known map[string]bool
	calls int
}

func (c *countingChecker) Exists(_ context.Context, tenant string) (bool, error) {
	c.calls++
	return c.known[tenant], nil
}

func TestWithChecker(t *testing.T) {
	ch := &countingChecker{known: map[string]bool{"acme": true}}
	h, rec := build(t, []tenanthttp.Resolver{tenanthttp.Header("")}, tenanthttp.WithChecker(ch))
	if w := serve(h, request("/", "X-Tenant-ID", "acme")); w.Code != 200 || rec.tenant != "acme" {
		t.Fatalf("status %d, tenant %q", w.Code, rec.tenant)
	}
	if w := serve(h, request("/", "X-Tenant-ID", "nope")); w.Code != 404 {
		t.Fatalf("unknown tenant: status %d", w.Code)
	}
	// An invalid name never reaches the checker.
	if w := serve(h, request("/", "X-Tenant-ID", "NOPE")); w.Code != 400 {
		t.Fatalf("invalid tenant: status %d", w.Code)
	}
	if ch.calls != 2 {
		t.Fatalf("checker called %d times, want 2", ch.calls)
	}
}

func TestContextKeptAndTenantReplaced(t *testing.T) {
	type key struct{}
	_, rec := build(t, []tenanthttp.Resolver{tenanthttp.Header("")})
	var sawValue any
	mw, _ := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawValue = r.Context().Value(key{})
		rec.ServeHTTP(w, r)
	}))
	r := request("/", "X-Tenant-ID", "acme")
	r = r.WithContext(tenantpath.WithTenant(context.WithValue(r.Context(), key{}, "v"), "stale"))
	serve(h, r)
	if rec.tenant != "acme" || sawValue != "v" {
		t.Fatalf("tenant %q, value %v: want the request's tenant and the outer context's values", rec.tenant, sawValue)
	}
}

func TestConfigurationErrors(t *testing.T) {
	hdr := []tenanthttp.Resolver{tenanthttp.Header("")}
	list := staticList("acme")
	for _, tc := range []struct {
		name      string
		resolvers []tenanthttp.Resolver
		opts      []tenanthttp.Option
		want      string
	}{
		{"no resolvers", nil, nil, "no resolvers"},
		{"zero resolver", []tenanthttp.Resolver{{}}, nil, "zero Resolver"},
		{"bad header", []tenanthttp.Resolver{tenanthttp.Header("X Tenant")}, nil, "not a valid header name"},
		{"bad later resolver", []tenanthttp.Resolver{tenanthttp.Header(""), tenanthttp.PathPrefix("t", tenanthttp.KeepPrefix)}, nil, "must start with '/'"},
		{"bad naming", hdr, []tenanthttp.Option{tenanthttp.WithNaming(tenantpath.Naming{Shared: []string{"public", "public"}})}, "listed twice"},
		{"nil checker", hdr, []tenanthttp.Option{tenanthttp.WithChecker(nil)}, "nil Checker"},
		{"nil lister", hdr, []tenanthttp.Option{tenanthttp.WithLister(nil, time.Minute)}, "nil Lister"},
		{"zero TTL", hdr, []tenanthttp.Option{tenanthttp.WithLister(list, 0)}, "TTL must be positive"},
		{"two checks", hdr, []tenanthttp.Option{tenanthttp.WithLister(list, time.Minute), tenanthttp.WithChecker(&countingChecker{})}, "more than one existence check"},
		{"nil error handler", hdr, []tenanthttp.Option{tenanthttp.WithErrorHandler(nil)}, "nil handler"},
		{"nil option", hdr, []tenanthttp.Option{nil}, "nil Option"},
	} {
		mw, err := tenanthttp.New(tc.resolvers, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || mw != nil {
			t.Errorf("%s: New returned %v, want an error containing %q and no middleware", tc.name, err, tc.want)
		}
	}
}
