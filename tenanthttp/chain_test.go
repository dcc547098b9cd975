package tenanthttp_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/tenanthttp"
)

// Look-alikes of a tenant's id must not reach it: only ASCII spaces and tabs
// are trimmed, and nothing outside ASCII is folded (issue 9, hole 9).
func TestLookAlikesRefused(t *testing.T) {
	for _, fold := range []bool{false, true} {
		var opts []tenanthttp.Option
		if fold {
			opts = append(opts, tenanthttp.FoldCase())
		}
		h, rec := build(t, []tenanthttp.Resolver{tenanthttp.Subdomain("example.com"), tenanthttp.Header("")}, opts...)
		for _, tc := range []struct {
			name string
			req  *http.Request
		}{
			{"NO-BREAK SPACE after the header value", request("http://x.test/", "X-Tenant-ID", "acme\u00a0")},
			{"EM SPACE before the header value", request("http://x.test/", "X-Tenant-ID", "\u2003acme")},
			{"IDEOGRAPHIC SPACE after the header value", request("http://x.test/", "X-Tenant-ID", "acme\u3000")},
			{"KELVIN SIGN in the subdomain", request("http://\u212Ailo.example.com/")},
			{"LATIN CAPITAL I WITH DOT in the subdomain", request("http://\u0130nitech.example.com/")},
			{"KELVIN SIGN in the header", request("http://x.test/", "X-Tenant-ID", "\u212Ailo")},
		} {
			rec.calls = 0
			w := serve(h, tc.req)
			if w.Code != http.StatusBadRequest || rec.calls != 0 {
				t.Errorf("FoldCase %v, %s: status %d, handler reached with tenant %q; want 400", fold, tc.name, w.Code, rec.tenant)
			}
		}
		// The message shows the look-alike for what it is.
		w := serve(h, request("http://\u212Ailo.example.com/"))
		if body := w.Body.String(); !strings.Contains(body, `invalid tenant "\u212ailo"`) {
			t.Errorf("body %q: want the id quoted with its non-ASCII rune escaped", body)
		}
	}
}

// Every resolver changes case the same way: none does without FoldCase;
// all of them fold ASCII letters with it.
func TestCaseHandlingSameInEveryResolver(t *testing.T) {
	resolvers := []tenanthttp.Resolver{
		tenanthttp.Subdomain("example.com", "www"),
		tenanthttp.PathPrefix("/t", tenanthttp.StripPrefix),
		tenanthttp.Header(""),
		tenanthttp.Func("query", func(r *http.Request) (string, bool, error) {
			id := r.URL.Query().Get("tenant")
			return id, id != "", nil
		}),
	}
	reqs := map[string]*http.Request{
		"subdomain": request("http://ACME.example.com/notes"),
		"path":      request("http://www.example.com/t/ACME/notes"),
		"header":    request("http://www.example.com/notes", "X-Tenant-ID", "ACME"),
		"func":      request("http://www.example.com/notes?tenant=ACME"),
	}
	exact, rec := build(t, resolvers)
	for name, r := range reqs {
		rec.calls = 0
		w := serve(exact, r)
		if w.Code != http.StatusBadRequest || rec.calls != 0 || !strings.Contains(w.Body.String(), `invalid tenant "ACME"`) {
			t.Errorf("%s, exact case: status %d, body %q; want 400 naming \"ACME\"", name, w.Code, w.Body.String())
		}
	}
	folded, rec := build(t, resolvers, tenanthttp.FoldCase())
	for name, r := range reqs {
		rec.calls = 0
		w := serve(folded, r)
		if w.Code != http.StatusOK || rec.tenant != "acme" {
			t.Errorf("%s, FoldCase: status %d, tenant %q; want 200 for acme", name, w.Code, rec.tenant)
		}
	}

	// Messages quote the id as sent, even when it was folded.
	w := serve(folded, request("/", "X-Tenant-ID", "ACME;x"))
	if body := w.Body.String(); w.Code != 400 || !strings.Contains(body, `invalid tenant "ACME;x": byte 4 (';')`) {
		t.Errorf("status %d, body %q", w.Code, body)
	}
}

func TestResolversMustAgree(t *testing.T) {
	funcErr := errors.New("token: expired")
	failingFunc := tenanthttp.Func("token", func(r *http.Request) (string, bool, error) {
		if r.URL.Query().Has("token") {
			return "", false, funcErr
		}
		return "", false, nil
	})
	chain := []tenanthttp.Resolver{
		tenanthttp.Subdomain("example.com", "www"),
		tenanthttp.PathPrefix("/t", tenanthttp.StripPrefix),
		tenanthttp.Header(""),
		failingFunc,
	}
	for _, tc := range []struct {
		name         string
		opts         []tenanthttp.Option
		req          *http.Request
		status       int
		tenant, path string
		body         string
	}{
		{name: "subdomain and header disagree", req: request("http://acme.example.com/notes", "X-Tenant-ID", "globex"),
			status: 400, body: `the request names more than one tenant: "acme" (subdomain of "example.com") and "globex" (header "X-Tenant-Id")`},
		{name: "path and header disagree", req: request("http://www.example.com/t/acme/notes", "X-Tenant-ID", "globex"),
			status: 400, body: `"acme" (path prefix "/t/") and "globex" (header "X-Tenant-Id")`},
		{name: "header given twice", req: request("http://www.example.com/notes", "X-Tenant-ID", "acme", "X-Tenant-ID", "globex"),
			status: 400, body: `"acme" (header "X-Tenant-Id") and "globex" (header "X-Tenant-Id")`},
		{name: "case differs, exact", req: request("http://acme.example.com/notes", "X-Tenant-ID", "Acme"), status: 400},
		{name: "case differs, FoldCase", opts: []tenanthttp.Option{tenanthttp.FoldCase()},
			req: request("http://acme.example.com/notes", "X-Tenant-ID", "Acme"), status: 200, tenant: "acme", path: "/notes"},
		{name: "all agree", req: request("http://acme.example.com/t/acme/notes", "X-Tenant-ID", "acme"),
			status: 200, tenant: "acme", path: "/notes"},
		{name: "a later resolver fails", req: request("http://acme.example.com/notes?token=x"), status: 500},
		{name: "precedence: first wins", opts: []tenanthttp.Option{tenanthttp.FirstMatchWins()},
			req: request("http://acme.example.com/notes?token=x", "X-Tenant-ID", "globex"), status: 200, tenant: "acme", path: "/notes"},
		{name: "precedence: one resolver's values still agree", opts: []tenanthttp.Option{tenanthttp.FirstMatchWins()},
			req: request("http://www.example.com/notes", "X-Tenant-ID", "acme", "X-Tenant-ID", "globex"), status: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *tenanthttp.Error
			opts := append(tc.opts, tenanthttp.WithLogger(jsonLogger(&strings.Builder{})),
				tenanthttp.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, e *tenanthttp.Error) {
					got = e
					tenanthttp.DefaultErrorHandler(w, r, e)
				}))
			h, rec := build(t, chain, opts...)
			w := serve(h, tc.req)
			if w.Code != tc.status {
				t.Fatalf("status %d (body %q), want %d", w.Code, w.Body.String(), tc.status)
			}
			if tc.status == 200 {
				if rec.tenant != tc.tenant || rec.path != tc.path {
					t.Errorf("handler saw tenant %q path %q, want %q %q", rec.tenant, rec.path, tc.tenant, tc.path)
				}
				return
			}
			if rec.calls != 0 {
				t.Error("a refused request reached the handler")
			}
			if !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("body %q, want it to contain %q", w.Body.String(), tc.body)
			}
			var conflict *tenanthttp.ConflictError
			if tc.status == 400 && (!errors.Is(got, tenanthttp.ErrAmbiguousTenant) || !errors.As(got, &conflict)) {
				t.Errorf("error %v, want a *ConflictError matching ErrAmbiguousTenant", got.Err)
			}
			if tc.status == 500 && (!errors.Is(got, funcErr) || got.Source != "token" || got.Tenant != "") {
				t.Errorf("error %+v, want the token resolver's error, with no tenant", got)
			}
		})
	}
}

func TestConflictErrorFields(t *testing.T) {
	var got *tenanthttp.Error
	h, _ := build(t, []tenanthttp.Resolver{tenanthttp.Subdomain("example.com"), tenanthttp.Header("")},
		tenanthttp.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, e *tenanthttp.Error) { got = e }))
	serve(h, request("http://acme.example.com/", "X-Tenant-ID", "globex"))
	var c *tenanthttp.ConflictError
	if got == nil || !errors.As(got, &c) {
		t.Fatalf("error %v, want a *ConflictError", got)
	}
	want := tenanthttp.ConflictError{Tenant: "acme", Source: `subdomain of "example.com"`, OtherTenant: "globex", OtherSource: `header "X-Tenant-Id"`}
	if *c != want || got.Tenant != "acme" || got.Source != want.Source || got.Status != 400 {
		t.Errorf("got %+v in %+v, want %+v", *c, got, want)
	}
	if !errors.Is(c, tenanthttp.ErrAmbiguousTenant) || errors.Is(c, tenantpath.ErrInvalidTenant) {
		t.Error("ConflictError matches the wrong sentinels")
	}
}
