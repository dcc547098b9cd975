package tenantpath_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
)

func TestNamingSchema(t *testing.T) {
	org := tenantpath.Naming{Prefix: "org_"}
	cases := []struct {
		naming tenantpath.Naming
		tenant string
		schema string // "" when refused
	}{
		{tenantpath.Naming{}, "acme", "acme"},
		{org, "10", "org_10"},
		{org, "a-b_c9", "org_a-b_c9"},
		{org, strings.Repeat("x", 59), "org_" + strings.Repeat("x", 59)}, // 63 bytes
		{org, strings.Repeat("x", 60), ""},                               // 64 bytes
		{org, "", ""},
		{org, "Acme", ""},
		{org, "a b", ""},
		{org, "a\x00", ""},
		{org, `a"b`, ""},
		{org, "ａ", ""}, // full-width look-alike
		{org, "..", ""},
		{tenantpath.Naming{}, "public", ""},
		{tenantpath.Naming{}, "information_schema", ""},
		{tenantpath.Naming{}, "pg_toast", ""},
		{tenantpath.Naming{}, "pg_catalog", ""},
		{tenantpath.Naming{Prefix: "pg_"}, "1", ""},
		{tenantpath.Naming{Shared: []string{"common"}}, "common", ""},
		{tenantpath.Naming{Shared: []string{"common"}}, "public", ""}, // still a system schema
		{tenantpath.Naming{Format: func(id string) string { return "t" + id + "_s" }}, "7", "t7_s"},
		// A permissive validator cannot lift the rules that keep tenants apart.
		{tenantpath.Naming{Validate: func(string) error { return nil }}, `Mixed "Case" é`, `Mixed "Case" é`},
		{tenantpath.Naming{Validate: func(string) error { return nil }}, "PG_x", ""},
		{tenantpath.Naming{Validate: func(string) error { return nil }}, strings.Repeat("é", 32), ""}, // 64 bytes
		{tenantpath.Naming{Validate: func(string) error { return errors.New("no") }}, "ok", ""},
		{tenantpath.Naming{Validate: func(string) error { return nil }}, "$user", ""},
	}
	for _, c := range cases {
		got, err := c.naming.Schema(c.tenant)
		if c.schema == "" {
			var ite *tenantpath.InvalidTenantError
			if !errors.As(err, &ite) || !errors.Is(err, tenantpath.ErrInvalidTenant) || ite.Reason == "" {
				t.Errorf("Schema(%q) = %q, %v; want an InvalidTenantError", c.tenant, got, err)
			}
			continue
		}
		if err != nil || got != c.schema {
			t.Errorf("Schema(%q) = %q, %v; want %q", c.tenant, got, err, c.schema)
		}
	}
}

func TestNamingTenantInvertsSchema(t *testing.T) {
	org := tenantpath.Naming{Prefix: "org_"}
	for schema, want := range map[string]string{"org_10": "10", "org_": "", "org_Acme": "", "other": "", "org_org_1": "org_1"} {
		got, ok := org.Tenant(schema)
		if ok != (want != "") || got != want {
			t.Errorf("Tenant(%q) = %q, %v; want %q", schema, got, ok, want)
		}
	}
	format := tenantpath.Naming{Format: func(id string) string { return "t_" + id }}
	if _, ok := format.Tenant("t_1"); ok {
		t.Error("a Format without Parse must recognise nothing")
	}
	format.Parse = func(s string) (string, bool) { return strings.CutPrefix(s, "t_") }
	if got, ok := format.Tenant("t_1"); !ok || got != "1" {
		t.Errorf("Tenant with Parse = %q, %v", got, ok)
	}
}

func TestSearchPathQuotesEverything(t *testing.T) {
	n := tenantpath.Naming{Prefix: "org_", Shared: []string{"public", `we"ird`}}
	got, err := n.SearchPath("10")
	if err != nil {
		t.Fatal(err)
	}
	if want := `"org_10", "public", "we""ird", "pg_temp"`; got != want {
		t.Fatalf("SearchPath = %s, want %s", got, want)
	}
	if got, want := n.SharedPath(), `"public", "we""ird", "pg_temp"`; got != want {
		t.Fatalf("SharedPath = %s, want %s", got, want)
	}
	if got := (tenantpath.Naming{Shared: []string{}}).SharedPath(); got != `"pg_temp"` {
		t.Fatalf("empty SharedPath = %s", got)
	}
	for in, want := range map[string]string{`a'b`: `'a''b'`, `a\b`: `E'a\\b'`, `"x"`: `'"x"'`} {
		if got := tenantpath.QuoteLiteral(in); got != want {
			t.Errorf("QuoteLiteral(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestNamingCheckRefusesBadShared(t *testing.T) {
	for _, shared := range [][]string{{""}, {"a\x00"}, {strings.Repeat("s", 64)}, {"public", "public"}, {"$user"}} {
		if err := (tenantpath.Naming{Shared: shared}).Check(); err == nil {
			t.Errorf("Check accepted shared %q", shared)
		}
		if _, err := tenantpath.Wrap(stdlibDriver(), tenantpath.WithNaming(tenantpath.Naming{Shared: shared})); err == nil {
			t.Errorf("Wrap accepted shared %q", shared)
		}
	}
}
