package tenanthttp

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// resolveCase is one request and what a resolver must make of it.
type resolveCase struct {
	name     string
	req      *http.Request
	ids      []string // what the resolver must find, in order
	errIs    error    // the error must match it; nil: no error
	nextPath string   // the path the handler sees; "" means unchanged
}

func runResolveCases(t *testing.T, rv Resolver, cases []resolveCase) {
	t.Helper()
	if rv.err != nil {
		t.Fatalf("resolver %s: configuration error: %v", rv, rv.err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			origPath := tc.req.URL.Path
			ids, next, err := rv.resolve(tc.req)
			switch {
			case tc.errIs == nil && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.errIs != nil && !errors.Is(err, tc.errIs):
				t.Fatalf("error %v, want one matching %v", err, tc.errIs)
			}
			if !slices.Equal(ids, tc.ids) {
				t.Errorf("found %q, want %q", ids, tc.ids)
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
		{name: "default header", req: reqWithHeader("X-Tenant-ID", "acme"), ids: []string{"acme"}},
		{name: "any case of the name", req: reqWithHeader("x-tenant-id", "acme"), ids: []string{"acme"}},
		{name: "spaces and tabs trimmed", req: reqWithHeader("X-Tenant-ID", " \tacme \t"), ids: []string{"acme"}},
		{name: "NO-BREAK SPACE kept", req: reqWithHeader("X-Tenant-ID", "acme\u00a0"), ids: []string{"acme\u00a0"}},
		{name: "EM SPACE kept", req: reqWithHeader("X-Tenant-ID", "\u2003acme"), ids: []string{"\u2003acme"}},
		{name: "other ASCII space kept", req: reqWithHeader("X-Tenant-ID", "acme\v"), ids: []string{"acme\v"}},
		{name: "absent", req: reqWithHeader("X-Other", "acme")},
		{name: "empty", req: reqWithHeader("X-Tenant-ID", "")},
		{name: "blank", req: reqWithHeader("X-Tenant-ID", " \t ")},
		{name: "every value, in order", req: reqWithHeader("X-Tenant-ID", "acme", "", "globex"), ids: []string{"acme", "globex"}},
		{name: "value kept as sent", req: reqWithHeader("X-Tenant-ID", "ACME"), ids: []string{"ACME"}},
	})
	runResolveCases(t, Header("X-Org"), []resolveCase{
		{name: "custom header", req: reqWithHeader("X-Org", "10"), ids: []string{"10"}},
		{name: "default header ignored", req: reqWithHeader("X-Tenant-ID", "10")},
	})
}

func TestSubdomainResolver(t *testing.T) {
	runResolveCases(t, Subdomain("Example.COM.", "www", "API"), []resolveCase{
		{name: "label", req: reqHost("acme.example.com"), ids: []string{"acme"}},
		{name: "with port", req: reqHost("acme.example.com:8080"), ids: []string{"acme"}},
		{name: "base domain in any ASCII case", req: reqHost("acme.Example.Com"), ids: []string{"acme"}},
		{name: "label kept as sent", req: reqHost("ACME.example.com"), ids: []string{"ACME"}},
		{name: "KELVIN SIGN not folded", req: reqHost("\u212Ailo.example.com"), ids: []string{"\u212Ailo"}},
		{name: "KELVIN SIGN in the base domain", req: reqHost("acme.examp\u212Ale.com")},
		{name: "dotless i in the base domain", req: reqHost("acme.\u0131example.com")},
		{name: "trailing dot", req: reqHost("acme.example.com."), ids: []string{"acme"}},
		{name: "base domain itself", req: reqHost("example.com")},
		{name: "excluded", req: reqHost("www.example.com")},
		{name: "excluded any case", req: reqHost("api.example.com:443")},
		{name: "excluded upper case", req: reqHost("WWW.example.com")},
		{name: "two labels below", req: reqHost("a.acme.example.com")},
		{name: "another domain", req: reqHost("acme.example.org")},
		{name: "suffix without dot", req: reqHost("evilexample.com")},
		{name: "empty label", req: reqHost(".example.com")},
		{name: "IPv6 literal", req: reqHost("[::1]:8080")},
		{name: "no host", req: reqHost("")},
	})
	runResolveCases(t, Subdomain("localhost"), []resolveCase{
		{name: "localhost", req: reqHost("acme.localhost:8080"), ids: []string{"acme"}},
	})
}

func TestPathPrefixResolver(t *testing.T) {
	runResolveCases(t, PathPrefix("/t", StripPrefix), []resolveCase{
		{name: "strip", req: reqPath("/t/acme/notes/7"), ids: []string{"acme"}, nextPath: "/notes/7"},
		{name: "tenant only", req: reqPath("/t/acme"), ids: []string{"acme"}, nextPath: "/"},
		{name: "trailing slash", req: reqPath("/t/acme/"), ids: []string{"acme"}, nextPath: "/"},
		{name: "query kept out", req: reqPath("/t/acme/notes?x=1"), ids: []string{"acme"}, nextPath: "/notes"},
		{name: "escaped segment", req: reqPath("/t/ac%2Fme/notes"), ids: []string{"ac/me"}, nextPath: "/notes"},
		{name: "escaped rest", req: reqPath("/t/acme/a%2Fb"), ids: []string{"acme"}, nextPath: "/a/b"},
		{name: "empty segment", req: reqPath("/t//notes")},
		{name: "prefix only", req: reqPath("/t/")},
		{name: "prefix without slash", req: reqPath("/t")},
		{name: "longer word", req: reqPath("/tx/acme")},
		{name: "elsewhere", req: reqPath("/notes")},
	})
	runResolveCases(t, PathPrefix("/tenants/", KeepPrefix), []resolveCase{
		{name: "keep", req: reqPath("/tenants/acme/notes"), ids: []string{"acme"}},
	})

	// RawPath survives stripping, so a handler routing on the escaped
	// path still sees %2F as one segment.
	r := reqPath("/t/acme/a%2Fb")
	_, next, _ := PathPrefix("/t", StripPrefix).resolve(r)
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
	ids, next, err := PathPrefix("/t", StripPrefix).resolve(r)
	if err != nil || !slices.Equal(ids, []string{"ac%zzme"}) || next.URL.Path != "/notes" {
		t.Fatalf("got %q %v, path %q; want tenant \"ac%%zzme\", path /notes", ids, err, next.URL.Path)
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
		{name: "found", req: reqPath("/?case=found"), ids: []string{"acme"}},
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
		{Subdomain("b\u00fccher.example"), "xn-- form"},
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
