package tenanthttp_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/migrator"
	"github.com/tenantpath/tenantpath/tenanthttp"
)

// The migrator lists tenants, so it is a TenantSource.
var _ tenanthttp.TenantSource = (*migrator.Migrator)(nil)

// newMigrator returns a migrator whose tenants have the notes table of
// notesServer, on a plain pool, with a registry table of the test's own.
func newMigrator(t *testing.T, naming tenantpath.Naming) *migrator.Migrator {
	t.Helper()
	admin, err := sql.Open("pgx", pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	registry := naming.Prefix + "registry"
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP TABLE IF EXISTS public." + tenantpath.QuoteIdentifier(registry)); err != nil {
			t.Error(err)
		}
	})
	fsys := fstest.MapFS{
		"tenant_migrations/0001_notes.up.sql": {Data: []byte("CREATE TABLE notes (id bigserial PRIMARY KEY, title text NOT NULL);")},
	}
	m, err := migrator.New(admin, fsys, naming, migrator.WithRegistryTable(registry))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// routedPool opens the application's pool: tenantpath over pgx, refusing
// calls without a tenant.
func routedPool(t *testing.T, naming tenantpath.Naming) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	db, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg), tenantpath.WithNaming(naming))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A tenant the migrator creates in this process is routable by the next
// request, with no Invalidate: the cache reloads the migrator's list on a
// miss.
func TestEndToEndTenantCreatedInProcess(t *testing.T) {
	ctx := context.Background()
	naming := tenantpath.Naming{Prefix: pgtest.UniquePrefix(t)}
	m := newMigrator(t, naming)
	if err := m.Create(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	db := routedPool(t, naming)
	// Every miss may reload, so the test does not wait for an interval.
	cache, err := tenanthttp.NewCacheFrom(m, time.Hour, tenanthttp.MissRefresh(time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")},
		tenanthttp.WithNaming(naming), tenanthttp.WithChecker(cache))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(notesServer(db)))
	defer srv.Close()
	client := srv.Client()

	if status, body := call(t, client, "GET", srv.URL, "x", "/notes", "X-Tenant-ID", "acme"); status != 200 || body != "[]" {
		t.Fatalf("acme: %d %q", status, body)
	}
	if status, _ := call(t, client, "GET", srv.URL, "x", "/notes", "X-Tenant-ID", "newco"); status != 404 {
		t.Fatalf("newco before it exists: %d, want 404", status)
	}
	if err := m.Create(ctx, "newco"); err != nil {
		t.Fatal(err)
	}
	if status, body := call(t, client, "POST", srv.URL, "x", "/notes?title=first", "X-Tenant-ID", "newco"); status != 201 {
		t.Fatalf("newco just created: %d %q, want 201", status, body)
	}
	if status, body := call(t, client, "GET", srv.URL, "x", "/notes", "X-Tenant-ID", "newco"); status != 200 || body != `["first"]` {
		t.Fatalf("newco: %d %q", status, body)
	}
	if status, body := call(t, client, "GET", srv.URL, "x", "/notes", "X-Tenant-ID", "acme"); status != 200 || body != "[]" {
		t.Fatalf("acme after newco's write: %d %q", status, body)
	}
}

// The errors the driver returns to a handler map to their statuses.
func TestEndToEndStatusOfDriverErrors(t *testing.T) {
	naming := tenantpath.Naming{Prefix: pgtest.UniquePrefix(t)}
	db := setupTenants(t, naming, "acme")
	// No existence check, and requests without a tenant let through: the
	// driver is what refuses them.
	mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")},
		tenanthttp.WithNaming(naming), tenanthttp.AllowMissing())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if id := r.URL.Query().Get("as"); id != "" { // a handler that picks the tenant itself
			ctx = tenantpath.WithTenant(ctx, id)
		}
		var n int
		err := db.QueryRowContext(ctx, "SELECT count(*) FROM notes").Scan(&n)
		errs <- err
		if err != nil {
			status := tenanthttp.StatusOf(err)
			http.Error(w, http.StatusText(status), status)
			return
		}
		fmt.Fprint(w, n)
	})))
	defer srv.Close()
	for _, tc := range []struct {
		name, path, tenant string
		status             int
		errIs              error
	}{
		{"known tenant", "/", "acme", 200, nil},
		{"no schema", "/", "globex", 404, tenantpath.ErrUnknownTenant},
		{"no tenant", "/", "", 400, tenantpath.ErrNoTenant},
		{"invalid tenant", "/?as=Bad!", "", 400, tenantpath.ErrInvalidTenant},
	} {
		var header []string
		if tc.tenant != "" {
			header = []string{"X-Tenant-ID", tc.tenant}
		}
		status, body := call(t, srv.Client(), "GET", srv.URL, "x", tc.path, header...)
		err := <-errs
		if status != tc.status || !errors.Is(err, tc.errIs) || (tc.errIs == nil && err != nil) {
			t.Errorf("%s: status %d (%q), error %v; want %d and %v", tc.name, status, body, err, tc.status, tc.errIs)
		}
	}
}
