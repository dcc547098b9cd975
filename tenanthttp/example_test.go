package tenanthttp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
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
	// In an application: a query of the organisations table. (To learn of
	// tenants the migrator creates at once, give it to WithTenants.)
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

// A handler maps the errors its database calls return with StatusOf: a
// tenant whose schema does not exist is 404, a bad or missing tenant 400.
func ExampleStatusOf() {
	// In a handler:
	//
	//	rows, err := db.QueryContext(r.Context(), "SELECT ...")
	//	if err != nil {
	//		status := tenanthttp.StatusOf(err)
	//		if status >= 500 {
	//			logger.ErrorContext(r.Context(), "listing notes", "error", err)
	//		}
	//		http.Error(w, http.StatusText(status), status)
	//		return
	//	}
	for _, err := range []error{
		nil,
		&tenantpath.UnknownTenantError{Tenant: "acme", Schema: "org_acme"},
		&tenantpath.InvalidTenantError{Tenant: "Acme", Reason: "upper case"},
		fmt.Errorf("listing notes: %w", tenantpath.ErrNoTenant),
		errors.New("read tcp: connection reset by peer"),
	} {
		fmt.Println(tenanthttp.StatusOf(err))
	}
	// Output:
	// 200
	// 404
	// 400
	// 400
	// 500
}

// Resolvers that disagree refuse the request; FirstMatchWins makes their
// order the precedence.
func ExampleFirstMatchWins() {
	resolvers := []tenanthttp.Resolver{
		tenanthttp.Header(""), // set by a trusted proxy
		tenanthttp.Subdomain("example.com"),
	}
	strict, err := tenanthttp.New(resolvers)
	if err != nil {
		log.Fatal(err)
	}
	ordered, err := tenanthttp.New(resolvers, tenanthttp.FirstMatchWins())
	if err != nil {
		log.Fatal(err)
	}
	get(strict(whoAmI), "http://acme.example.com/notes", "X-Tenant-ID", "globex")
	get(ordered(whoAmI), "http://acme.example.com/notes", "X-Tenant-ID", "globex")
	get(strict(whoAmI), "http://acme.example.com/notes", "X-Tenant-ID", "acme")
	// Output:
	// 400 the request names more than one tenant: "globex" (header "X-Tenant-Id") and "acme" (subdomain of "example.com")
	// 200 tenant="globex" ok=true path=/notes
	// 200 tenant="acme" ok=true path=/notes
}

// No resolver changes case unless FoldCase says so, and then only ASCII
// letters.
func ExampleFoldCase() {
	exact, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Subdomain("example.com")})
	if err != nil {
		log.Fatal(err)
	}
	folded, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Subdomain("example.com")}, tenanthttp.FoldCase())
	if err != nil {
		log.Fatal(err)
	}
	get(exact(whoAmI), "http://ACME.example.com/notes")
	get(folded(whoAmI), "http://ACME.example.com/notes")
	get(folded(whoAmI), "http://\u212Ailo.example.com/notes") // KELVIN SIGN, not K
	// Output:
	// 400 invalid tenant "ACME": byte 0 ('A') is not allowed: use lowercase ASCII letters, digits, '_' or '-'
	// 200 tenant="acme" ok=true path=/notes
	// 400 invalid tenant "\u212ailo": byte 0 ('â') is not allowed: use lowercase ASCII letters, digits, '_' or '-'
}

// A 5xx refusal is logged with its cause; the client sees only the status.
func ExampleWithLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // for a stable output
			}
			return a
		},
	}))
	down := func(ctx context.Context) ([]string, error) {
		return nil, errors.New("dial tcp 10.0.0.5:5432: connection refused")
	}
	mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")},
		tenanthttp.WithLister(down, 30*time.Second), tenanthttp.WithLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	get(mw(whoAmI), "/notes", "X-Tenant-ID", "acme")
	// Output:
	// level=ERROR msg="tenanthttp: request refused" status=500 method=GET path=/notes tenant=acme resolver="header \"X-Tenant-Id\"" error="dial tcp 10.0.0.5:5432: connection refused"
	// 500 Internal Server Error
}

// tenants stands for the migrator: it lists the tenants and tells its
// watchers of each one it creates.
type tenants struct {
	mu       sync.Mutex
	ids      []string
	watchers []func(tenant string, exists bool)
}

func (t *tenants) List(ctx context.Context) ([]string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.ids...), nil
}

func (t *tenants) Watch(fn func(tenant string, exists bool)) (stop func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watchers = append(t.watchers, fn)
	return func() {} // enough for an example
}

func (t *tenants) Create(id string) {
	t.mu.Lock()
	t.ids = append(t.ids, id)
	watchers := t.watchers
	t.mu.Unlock()
	for _, fn := range watchers {
		fn(id, true)
	}
}

// A tenant created in this process is routable on the next request.
func ExampleWithTenants() {
	m := &tenants{ids: []string{"acme"}}
	mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")},
		tenanthttp.WithTenants(m, time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	get(mw(whoAmI), "/notes", "X-Tenant-ID", "globex")
	m.Create("globex")
	get(mw(whoAmI), "/notes", "X-Tenant-ID", "globex")
	// Output:
	// 404 unknown tenant "globex"
	// 200 tenant="globex" ok=true path=/notes
}
