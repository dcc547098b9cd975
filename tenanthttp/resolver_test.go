package tenanthttp

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// resolveCase is one request and what a resolver must make of it.
type resolveCase struct {
	name     string
	req      *http.Request
	tenant   string
	found    bool
	errIs    error  // the error must match it; nil: no error
	nextPath string // the path the handler sees; "" means unchanged
}

func runResolveCases(t *testing.T, rv Resolver, cases []resolveCase) {
	t.Helper()
	if rv.err != nil {
		t.Fatalf("resolver %s: configuration error: %v", rv, rv.err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			origPath := tc.req.URL.Path
			tenant, next, found, err := rv.resolve(tc.req)
			switch {
			case tc.errIs == nil && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.errIs != nil && !errors.Is(err, tc.errIs):
				t.Fatalf("error %v, want one matching %v", err, tc.errIs)
			}
			if tenant != tc.tenant || found != tc.found {
				t.Errorf("got tenant %q found %v, want %q %v", tenant, found, tc.tenant, tc.found)
			}
			if next == nil {
				t.Fatal("nil request returned")
			}
			want := tc.nextPath
			if want == "" {
				want = origPath
			}
			if next.URL.Path != want {
				t.Errorf("handler would see path %q, want %q", next.URL.Path, want)
			}
			if tc.req.URL.Path != origPath {
				t.Errorf("the incoming request was modified: path %q, was %q", tc.req.URL.Path, origPath)
			}
		})
	}
}

func reqWithHeader(key string, values ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	for _, v := range values {
		r.Header.Add(key, v)
	}
	return r
}

func reqHost(host string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.Host = host
	return r
}

func reqPath(target string) *http.Request {
	return httptest.NewRequest(http.MethodGet, target, nil)
}

func TestHeaderResolver(t *testing.T) {
	runResolveCases(t, Header(""), []resolveCase{
		{name: "default header", req: reqWithHeader("X-Tenant-ID", "acme"), tenant: "acme", found: true},
		{name: "any case of the name", req: reqWithHeader("x-tenant-id", "acme"), tenant: "acme", found: true},
		{name: "spaces trimmed", req: reqWithHeader("X-Tenant-ID", "  acme "), tenant: "acme", found: true},
		{name: "absent", req: reqWithHeader("X-Other", "acme")},
		{name: "empty", req: reqWithHeader("X-Tenant-ID", "")},
		{name: "same value twice", req: reqWithHeader("X-Tenant-ID", "acme", "acme"), tenant: "acme", found: true},
		{name: "two values", req: reqWithHeader("X-Tenant-ID", "acme", "globex"), errIs: ErrAmbiguousTenant},
		{name: "value kept as sent", req: reqWithHeader("X-Tenant-ID", "ACME"), tenant: "ACME", found: true},
	})
	runResolveCases(t, Header("X-Org"), []resolveCase{
		{name: "custom header", req: reqWithHeader("X-Org", "10"), tenant: "10", found: true},
		{name: "default header ignored", req: reqWithHeader("X-Tenant-ID", "10")},
	})
}

func TestSubdomainResolver(t *testing.T) {
	runResolveCases(t, Subdomain("Example.COM.", "www", "API"), []resolveCase{
		{name: "label", req: reqHost("acme.example.com"), tenant: "acme", found: true},
		{name: "with port", req: reqHost("acme.example.com:8080"), tenant: "acme", found: true},
		{name: "host is case-insensitive", req: reqHost("ACME.Example.Com"), tenant: "acme", found: true},
		{name: "trailing dot", req: reqHost("acme.example.com."), tenant: "acme", found: true},
		{name: "base domain itself", req: reqHost("example.com")},
		{name: "excluded", req: reqHost("www.example.com")},
		{name: "excluded any case", req: reqHost("api.example.com:443")},
		{name: "two labels below", req: reqHost("a.acme.example.com")},
		{name: "another domain", req: reqHost("acme.example.org")},
		{name: "suffix without dot", req: reqHost("evilexample.com")},
		{name: "empty label", req: reqHost(".example.com")},
		{name: "IPv6 literal", req: reqHost("[::1]:8080")},
		{name: "no host", req: reqHost("")},
	})
	runResolveCases(t, Subdomain("localhost"), []resolveCase{
		{name: "localhost", req: reqHost("acme.localhost:8080"), tenant: "acme", found: true},
	})
}

func TestPathPrefixResolver(t *testing.T) {
	runResolveCases(t, PathPrefix("/t", StripPrefix), []resolveCase{
		{name: "strip", req: reqPath("/t/acme/notes/7"), tenant: "acme", found: true, nextPath: "/notes/7"},
		{name: "tenant only", req: reqPath("/t/acme"), tenant: "acme", found: true, nextPath: "/"},
		{name: "trailing slash", req: reqPath("/t/acme/"), tenant: "acme", found: true, nextPath: "/"},
		{name: "query kept out", req: reqPath("/t/acme/notes?x=1"), tenant: "acme", found: true, nextPath: "/notes"},
		{name: "escaped segment", req: reqPath("/t/ac%2Fme/notes"), tenant: "ac/me", found: true, nextPath: "/notes"},
		{name: "escaped rest", req: reqPath("/t/acme/a%2Fb"), tenant: "acme", found: true, nextPath: "/a/b"},
		{name: "empty segment", req: reqPath("/t//notes")},
		{name: "prefix only", req: reqPath("/t/")},
		{name: "prefix without slash", req: reqPath("/t")},
		{name: "longer word", req: reqPath("/tx/acme")},
		{name: "elsewhere", req: reqPath("/notes")},
	})
	runResolveCases(t, PathPrefix("/tenants/", KeepPrefix), []resolveCase{
		{name: "keep", req: reqPath("/tenants/acme/notes"), tenant: "acme", found: true},
	})

	// RawPath survives stripping, so a handler routing on the escaped
	// path still sees %2F as one segment.
	r := reqPath("/t/acme/a%2Fb")
	_, next, _, _ := PathPrefix("/t", StripPrefix).resolve(r)
	if next.URL.RawPath != "/a%2Fb" || next.URL.EscapedPath() != "/a%2Fb" {
		t.Errorf("RawPath %q, EscapedPath %q; want /a%%2Fb", next.URL.RawPath, next.URL.EscapedPath())
	}
	if r.URL.RawPath != "/t/acme/a%2Fb" {
		t.Errorf("incoming RawPath changed to %q", r.URL.RawPath)
	}
	if next.RequestURI != r.RequestURI {
		t.Errorf("RequestURI changed: %q", next.RequestURI)
	}
}

func TestPathPrefixLiteralPercent(t *testing.T) {
	// A server has already refused bad escapes in the request line; a
	// Path holding a literal '%' (set by code) is escaped, not misread.
	r := reqPath("/x")
	r.URL.Path, r.URL.RawPath = "/t/ac%zzme/notes", ""
	tenant, next, found, err := PathPrefix("/t", StripPrefix).resolve(r)
	if err != nil || !found || tenant != "ac%zzme" || next.URL.Path != "/notes" {
		t.Fatalf("got %q %v %v, path %q; want tenant \"ac%%zzme\", path /notes", tenant, found, err, next.URL.Path)
	}
}

func TestFuncResolver(t *testing.T) {
	boom := errors.New("boom")
	rv := Func("claims", func(r *http.Request) (string, bool, error) {
		switch r.URL.Query().Get("case") {
		case "found":
			return "acme", true, nil
		case "empty":
			return "", true, nil
		case "error":
			return "ignored", true, boom
		}
		return "", false, nil
	})
	runResolveCases(t, rv, []resolveCase{
		{name: "found", req: reqPath("/?case=found"), tenant: "acme", found: true},
		{name: "empty counts as nothing", req: reqPath("/?case=empty")},
		{name: "not found", req: reqPath("/")},
		{name: "error", req: reqPath("/?case=error"), errIs: boom},
	})
	if rv.String() != "claims" {
		t.Errorf("String() = %q", rv.String())
	}
}

func TestResolverConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		rv   Resolver
		want string
	}{
		{Header("X Tenant"), "not a valid header name"},
		{Header("X-Tenant:"), "not a valid header name"},
		{Subdomain(""), "empty"},
		{Subdomain("example.com:8080"), "without scheme, port or path"},
		{Subdomain("https://example.com"), "without scheme, port or path"},
		{Subdomain("example..com"), "empty label"},
		{Subdomain("example.com", "a.b"), "single host label"},
		{Subdomain("example.com", ""), "single host label"},
		{PathPrefix("t", StripPrefix), "must start with '/'"},
		{PathPrefix("/t", PathMode(9)), "unknown PathMode"},
		{Func("x", nil), "nil function"},
	} {
		if tc.rv.err == nil || !strings.Contains(tc.rv.err.Error(), tc.want) {
			t.Errorf("%s: configuration error %v, want one containing %q", tc.rv, tc.rv.err, tc.want)
		}
	}
}
