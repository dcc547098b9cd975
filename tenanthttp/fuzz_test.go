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
		var values []string
		for _, v := range []string{a, b} {
			if v != "\x00skip" {
				r.Header.Add(DefaultHeader, v)
				values = append(values, v)
			}
		}
		ids, next, err := rv.resolve(r)
		if err != nil || next != r {
			t.Fatalf("a=%q b=%q: error %v, request replaced %v", a, b, err, next != r)
		}
		// Each value that is not blank gives one id, in order: the value
		// less leading and trailing spaces and tabs, and nothing else.
		i := 0
		for _, v := range values {
			if strings.Trim(v, " \t") == "" {
				continue
			}
			if i >= len(ids) {
				t.Fatalf("value %q gave no id (ids %q)", v, ids)
			}
			id := ids[i]
			i++
			at := strings.Index(v, id)
			if id == "" || at < 0 || strings.Trim(v[:at], " \t") != "" || strings.Trim(v[at+len(id):], " \t") != "" {
				t.Fatalf("value %q gave id %q: more than spaces and tabs were removed", v, id)
			}
			if c := id[0]; c == ' ' || c == '\t' {
				t.Fatalf("value %q gave id %q: not trimmed", v, id)
			}
			if c := id[len(id)-1]; c == ' ' || c == '\t' {
				t.Fatalf("value %q gave id %q: not trimmed", v, id)
			}
		}
		if i != len(ids) {
			t.Fatalf("values %q gave ids %q", values, ids)
		}
	})
}

func FuzzSubdomain(f *testing.F) {
	rv := Subdomain("example.com", "www", "api")
	f.Fuzz(func(t *testing.T, host string) {
		r := &http.Request{Host: host, Header: http.Header{}, URL: &url.URL{Path: "/"}}
		ids, next, err := rv.resolve(r)
		if err != nil || next != r {
			t.Fatalf("host %q: error %v, request replaced %v", host, err, next != r)
		}
		if len(ids) == 0 {
			return
		}
		tenant := ids[0]
		if len(ids) != 1 || tenant == "" || strings.Contains(tenant, ".") {
			t.Fatalf("host %q: ids %q", host, ids)
		}
		if l := asciiLower(tenant); l == "www" || l == "api" {
			t.Fatalf("host %q: excluded label %q found", host, tenant)
		}
		// The label is the host's own bytes, and what follows it is the
		// base domain in some ASCII case: no Unicode folding either way.
		h := strings.TrimSuffix(stripPort(host), ".")
		rest, ok := strings.CutPrefix(h, tenant)
		if !ok || !isASCII(rest) || !strings.EqualFold(rest, ".example.com") {
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
		ids, next, err := rv.resolve(r)
		if err != nil {
			t.Fatalf("path %q: %v", path, err)
		}
		if r.URL.Path != origPath || r.URL.RawPath != origRaw {
			t.Fatalf("path %q: the incoming request was modified", path)
		}
		if len(ids) == 0 {
			if next != r {
				t.Fatalf("path %q: not found, yet a new request", path)
			}
			return
		}
		tenant := ids[0]
		if len(ids) != 1 || tenant == "" || !strings.HasPrefix(origPath, "/t/") {
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
				// No resolver changes case or folds anything: the id
				// is in the request as it came.
				if !strings.Contains(host, tenant) && !strings.Contains(u.Path, tenant) && !strings.Contains(header, tenant) {
					t.Fatalf("tenant %q is not in host %q, path %q or header %q", tenant, host, u.Path, header)
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
