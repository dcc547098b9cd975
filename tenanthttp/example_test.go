package tenanthttp_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/tenanthttp"
)

// whoAmI answers with the tenant the middleware put in the context and the
// path it was given.
var whoAmI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	tenant, ok := tenantpath.TenantFrom(r.Context())
	fmt.Fprintf(w, "tenant=%q ok=%v path=%s", tenant, ok, r.URL.Path)
})

func get(h http.Handler, target string, header ...string) {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Printf("%d %s\n", rec.Code, strings.TrimSpace(rec.Body.String()))
}

func Example() {
	mw, err := tenanthttp.New([]tenanthttp.Resolver{
		tenanthttp.Subdomain("example.com", "www"),
		tenanthttp.Header(""),
	}, tenanthttp.WithNaming(tenantpath.Naming{Prefix: "org_"}))
	if err != nil {
		log.Fatal(err)
	}
	h := mw(whoAmI)

	get(h, "http://acme.example.com/notes")
	get(h, "http://www.example.com/notes", "X-Tenant-ID", "globex")
	get(h, "http://www.example.com/notes")
	get(h, "http://api.internal/notes", "X-Tenant-ID", "acme;drop")
	// Output:
	// 200 tenant="acme" ok=true path=/notes
	// 200 tenant="globex" ok=true path=/notes
	// 400 no tenant in the request
	// 400 invalid tenant "acme;drop": byte 4 (';') is not allowed: use lowercase ASCII letters, digits, '_' or '-'
}

func ExamplePathPrefix() {
	strip, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.PathPrefix("/t", tenanthttp.StripPrefix)})
	if err != nil {
		log.Fatal(err)
	}
	keep, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.PathPrefix("/t", tenanthttp.KeepPrefix)})
	if err != nil {
		log.Fatal(err)
	}
	get(strip(whoAmI), "/t/acme/notes/7")
	get(keep(whoAmI), "/t/acme/notes/7")
	get(strip(whoAmI), "/t/acme")
	// Output:
	// 200 tenant="acme" ok=true path=/notes/7
	// 200 tenant="acme" ok=true path=/t/acme/notes/7
	// 200 tenant="acme" ok=true path=/
}

func ExampleAllowMissing() {
	mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")}, tenanthttp.AllowMissing())
	if err != nil {
		log.Fatal(err)
	}
	get(mw(whoAmI), "/healthz")
	// Output:
	// 200 tenant="" ok=false path=/healthz
}

func ExampleWithLister() {
	// In an application: migrator.List, or a query of the organisations
	// table.
	list := func(ctx context.Context) ([]string, error) {
		return []string{"acme", "globex"}, nil
	}
	mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")},
		tenanthttp.WithLister(list, 30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	get(mw(whoAmI), "/notes", "X-Tenant-ID", "acme")
	get(mw(whoAmI), "/notes", "X-Tenant-ID", "initech")
	// Output:
	// 200 tenant="acme" ok=true path=/notes
	// 404 unknown tenant "initech"
}

func ExampleWithErrorHandler() {
	mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")},
		tenanthttp.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, e *tenanthttp.Error) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			fmt.Fprintf(w, `{"error":%q}`, http.StatusText(e.Status))
		}))
	if err != nil {
		log.Fatal(err)
	}
	get(mw(whoAmI), "/notes")
	// Output:
	// 400 {"error":"Bad Request"}
}

func ExampleNew_configurationError() {
	_, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Subdomain("https://example.com")})
	fmt.Println(err)
	// Output:
	// tenanthttp: Subdomain: base domain "https://example.com": want a host name only, without scheme, port or path
}
