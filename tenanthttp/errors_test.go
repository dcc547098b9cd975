package tenanthttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/tenanthttp"
)

// sqlStateError stands for a driver's error with a SQLSTATE.
type sqlStateError string

func (e sqlStateError) Error() string    { return "ERROR: code " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 200},
		{tenantpath.ErrUnknownTenant, 404},
		{&tenantpath.UnknownTenantError{Tenant: "acme", Schema: "org_acme"}, 404},
		{fmt.Errorf("listing notes: %w", &tenantpath.UnknownTenantError{Tenant: "acme"}), 404},
		{tenantpath.ErrInvalidTenant, 400},
		{&tenantpath.InvalidTenantError{Tenant: "A", Reason: "upper case"}, 400},
		{tenantpath.ErrNoTenant, 400},
		{fmt.Errorf("gorm: %w", tenantpath.ErrNoTenant), 400},
		{tenanthttp.ErrMissingTenant, 400},
		{tenanthttp.ErrAmbiguousTenant, 400},
		{&tenanthttp.ConflictError{Tenant: "a", OtherTenant: "b"}, 400},
		{&tenanthttp.Error{Status: 404, Err: tenantpath.ErrUnknownTenant}, 404},
		{tenantpath.ErrTenantMismatch, 500},
		{&tenantpath.SwitchError{Scope: tenantpath.Scope{Kind: tenantpath.ScopeTenant, Tenant: "a"}, Err: errors.New("broken pipe")}, 500},
		{context.Canceled, 500},
		{errors.New("connection refused"), 500},
		{fmt.Errorf("listing notes: %w", sqlStateError("3F000")), 404},
		{sqlStateError("42P01"), 500},
	} {
		if got := tenanthttp.StatusOf(tc.err); got != tc.want {
			t.Errorf("StatusOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// Client messages speak of the id the client sent, never of the schema
// made from it: no prefix, no byte offset or length that counts it.
func TestClientMessagesHideTheSchema(t *testing.T) {
	prefix := tenantpath.Naming{Prefix: "org_"}
	format := tenantpath.Naming{
		Format: func(id string) string { return "tenant_" + id + "_v1" },
		Parse:  func(s string) (string, bool) { return "", false },
	}
	custom := tenantpath.Naming{Prefix: "org_", Validate: func(schema string) error {
		if strings.Contains(schema, "x") {
			return fmt.Errorf("schema %q: no x at byte %d", schema, strings.Index(schema, "x"))
		}
		return nil
	}}
	for _, tc := range []struct {
		name   string
		naming tenantpath.Naming
		id     string
		want   string
	}{
		{"identity naming: the reason is about the id", tenantpath.Naming{}, "acme;drop",
			`invalid tenant "acme;drop": byte 4 (';') is not allowed: use lowercase ASCII letters, digits, '_' or '-'`},
		{"prefix: offset in the id", prefix, "acme;drop",
			`invalid tenant "acme;drop": byte 4 (';') is not allowed: use lowercase ASCII letters, digits, '_' or '-'`},
		{"format: offset in the id", format, "Acme",
			`invalid tenant "Acme": byte 0 ('A') is not allowed: use lowercase ASCII letters, digits, '_' or '-'`},
		{"prefix: too long, without the limit", prefix, strings.Repeat("a", 60), `: too long`},
		{"prefix: non-ASCII", prefix, "caf\u00e9", `invalid tenant "caf\u00e9": byte 3 (`},
		{"custom validator: nothing of its text", custom, "xyz", `invalid tenant "xyz": not a tenant id this service accepts`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *tenanthttp.Error
			h, _ := build(t, []tenanthttp.Resolver{tenanthttp.Header("")}, tenanthttp.WithNaming(tc.naming),
				tenanthttp.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, e *tenanthttp.Error) {
					got = e
					tenanthttp.DefaultErrorHandler(w, r, e)
				}))
			w := serve(h, request("/", "X-Tenant-ID", tc.id))
			body := strings.TrimSpace(w.Body.String())
			if w.Code != 400 || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d, body %q; want 400 with %q", w.Code, body, tc.want)
			}
			schema := tc.naming.Prefix + tc.id
			if tc.naming.Format != nil {
				schema = tc.naming.Format(tc.id)
			}
			for _, leak := range []string{"org_", "tenant_", "_v1", "schema", "63", "64", "byte 8", "byte 7"} {
				if strings.Contains(body, leak) {
					t.Errorf("body %q reveals the schema naming (%q)", body, leak)
				}
			}
			// The Error itself keeps the detail, for logs.
			var inv *tenantpath.InvalidTenantError
			if !errors.As(got, &inv) || inv.Schema != schema || got.Message != body {
				t.Errorf("Error %+v: want the InvalidTenantError with schema %q and Message = body", got, schema)
			}
		})
	}
}
