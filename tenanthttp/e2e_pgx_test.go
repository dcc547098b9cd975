package tenanthttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/tenanthttp"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

// A pgxpool configured by tenantpgx reports a tenant without a schema with
// PostgreSQL's own error; StatusOf still makes it a 404.
func TestEndToEndStatusOfPgxNativeErrors(t *testing.T) {
	naming := tenantpath.Naming{Prefix: pgtest.UniquePrefix(t)}
	setupTenants(t, naming, "acme").Close()
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := tenantpgx.Configure(cfg, tenantpath.WithNaming(naming)); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")},
		tenanthttp.WithNaming(naming), tenanthttp.AllowMissing())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		err := pool.QueryRow(r.Context(), "SELECT count(*) FROM notes").Scan(&n)
		errs <- err
		w.WriteHeader(tenanthttp.StatusOf(err))
	})))
	defer srv.Close()
	for _, tc := range []struct {
		tenant string
		status int
		check  func(error) bool
	}{
		{"acme", 200, func(err error) bool { return err == nil }},
		{"globex", 404, tenantpgx.UnknownTenant},
		{"", 400, func(err error) bool { return errors.Is(err, tenantpath.ErrNoTenant) }},
	} {
		var header []string
		if tc.tenant != "" {
			header = []string{"X-Tenant-ID", tc.tenant}
		}
		status, body := call(t, srv.Client(), "GET", srv.URL, "x", "/", header...)
		if err := <-errs; status != tc.status || !tc.check(err) {
			t.Errorf("tenant %q: status %d (%q), error %v; want %d", tc.tenant, status, body, err, tc.status)
		}
	}
}
