package tenanthttp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
)

// The seed corpus of each fuzz test is in testdata/fuzz/<FuzzName>/; plain
// `go test` runs it. `go test -fuzz=FuzzSubdomain ./tenanthttp` explores
// further.

func FuzzHeader(f *testing.F) {
	rv := Header("")
	f.Fuzz(func(t *testing.T, a, b string) {
		r := &http.Request{Header: http.Header{}, URL: &url.URL{Path: "/"}}
		for _, v := range []string{a, b} {
			if v != "\x00skip" {
				r.Header.Add(DefaultHeader, v)
			}
		}
		tenant, next, found, err := rv.resolve(r)
		ta, tb := strings.TrimSpace(a), strings.TrimSpace(b)
		if next != r {
			t.Fatal("Header replaced the request")
		}
		if err != nil {
			if found || ta == "" || tb == "" || ta == tb {
				t.Fatalf("a=%q b=%q: error %v, found %v", a, b, err, found)
			}
			return
		}
		if found != (tenant != "") {
			t.Fatalf("found %v with tenant %q", found, tenant)
		}
		if found && tenant != ta && tenant != tb {
			t.Fatalf("a=%q b=%q: tenant %q is neither", a, b, tenant)
		}
		if found && tenant != strings.TrimSpace(tenant) {
			t.Fatalf("tenant %q not trimmed", tenant)
		}
		if ta != "" && tb != "" && ta != tb && a != "\x00skip" && b != "\x00skip" {
			t.Fatalf("a=%q b=%q: two different tenants accepted", a, b)
		}
	})
}

func FuzzSubdomain(f *testing.F) {
	rv := Subdomain("example.com", "www", "api")
	f.Fuzz(func(t *testing.T, host string) {
		r := &http.Request{Host: host, Header: http.Header{}, URL: &url.URL{Path: "/"}}
		tenant, next, found, err := rv.resolve(r)
		if err != nil || next != r {
			t.Fatalf("host %q: error %v, request replaced %v", host, err, next != r)
		}
		if !found {
			if tenant != "" {
				t.Fatalf("host %q: not found but tenant %q", host, tenant)
			}
			return
		}
		if tenant == "" || strings.ContainsAny(tenant, ".") || tenant == "www" || tenant == "api" {
			t.Fatalf("host %q: tenant %q", host, tenant)
		}
		if tenant != strings.ToLower(tenant) {
			t.Fatalf("host %q: tenant %q not lowercased", host, tenant)
		}
		h := strings.TrimSuffix(strings.ToLower(stripPort(host)), ".")
		if h != tenant+".example.com" {
			t.Fatalf("host %q (%q) does not name tenant %q under example.com", host, h, tenant)
		}
	})
}

func FuzzPathPrefix(f *testing.F) {
	strip, keep := PathPrefix("/t", StripPrefix), PathPrefix("/t", KeepPrefix)
	f.Fuzz(func(t *testing.T, path string, keepPrefix bool) {
		u, perr := url.Parse(path)
		if perr != nil || u.Path == "" {
			u = &url.URL{Path: path}
		}
		r := &http.Request{Header: http.Header{}, URL: u}
		origPath, origRaw := u.Path, u.RawPath
		rv := strip
		if keepPrefix {
			rv = keep
		}
		tenant, next, found, err := rv.resolve(r)
		if err != nil {
			t.Fatalf("path %q: %v", path, err)
		}
		if r.URL.Path != origPath || r.URL.RawPath != origRaw {
			t.Fatalf("path %q: the incoming request was modified", path)
		}
		if !found {
			if next != r || tenant != "" {
				t.Fatalf("path %q: not found, yet tenant %q or a new request", path, tenant)
			}
			return
		}
		if tenant == "" || !strings.HasPrefix(origPath, "/t/") {
			t.Fatalf("path %q: tenant %q", path, tenant)
		}
		if keepPrefix {
			if next != r {
				t.Fatalf("path %q: KeepPrefix replaced the request", path)
			}
			return
		}
		rest := next.URL.Path
		if !strings.HasPrefix(rest, "/") {
			t.Fatalf("path %q: handler path %q does not start with /", path, rest)
		}
		if origPath != "/t/"+tenant+rest && !(rest == "/" && origPath == "/t/"+tenant) {
			t.Fatalf("path %q: tenant %q + rest %q do not make %q", path, tenant, rest, origPath)
		}
		if next.URL.RawPath != "" {
			if p, err := url.PathUnescape(next.URL.RawPath); err != nil || p != rest {
				t.Fatalf("path %q: RawPath %q does not match Path %q", path, next.URL.RawPath, rest)
			}
		}
	})
}

// FuzzMiddleware checks the whole chain: whatever the request, a tenant
// that reaches the handler is one the naming accepts, and a refused
// request never reaches it.
func FuzzMiddleware(f *testing.F) {
	naming := tenantpath.Naming{Prefix: "org_"}
	mw, err := New([]Resolver{
		Subdomain("example.com", "www"),
		PathPrefix("/t", StripPrefix),
		Header(""),
	}, WithNaming(naming), AllowMissing())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, path, header string) {
		u, perr := url.Parse(path)
		if perr != nil {
			u = &url.URL{Path: path}
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host, r.URL = host, u
		r.Header.Set(DefaultHeader, header)
		reached := false
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached = true
			if tenant, ok := tenantpath.TenantFrom(r.Context()); ok {
				if _, err := naming.Schema(tenant); err != nil {
					t.Fatalf("tenant %q reached the handler: %v", tenant, err)
				}
			}
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if reached != (w.Code == http.StatusOK) {
			t.Fatalf("status %d, handler reached %v", w.Code, reached)
		}
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("status %d", w.Code)
		}
	})
}
