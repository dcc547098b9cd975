package tenantpath_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

func setting(t *testing.T, ctx context.Context, q tptest.Querier, name string) string {
	t.Helper()
	var v string
	if err := q.QueryRowContext(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// DESIGN 3: per-tenant settings are set with the switch, and no tenant or
// scope ever runs with another tenant's values: in session mode, and under
// TransactionPooling (for each transaction).
func TestTenantSettings(t *testing.T) {
	settings := func(tenant string) map[string]string {
		if tenant == "10" {
			return map[string]string{"statement_timeout": "50ms", "work_mem": "7MB"}
		}
		return nil
	}
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		for _, mode := range []struct {
			name string
			opts []tenantpath.Option
		}{{"session", nil}, {"transaction pooling", []tenantpath.Option{tenantpath.TransactionPooling()}}} {
			t.Run(mode.name, func(t *testing.T) {
				db := e.Open(bd, append([]tenantpath.Option{tenantpath.WithTenantSettings(settings)}, mode.opts...)...)
				db.SetMaxOpenConns(1)
				bg := context.Background()
				ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
				for _, step := range []struct {
					ctx           context.Context
					timeout, work string
				}{
					{ten, "50ms", "7MB"}, {eleven, "0", "4MB"}, {ten, "50ms", "7MB"},
					{tenantpath.WithShared(bg), "0", "4MB"}, {ten, "50ms", "7MB"}, {tenantpath.WithBasePath(bg), "0", "4MB"},
				} {
					if got := setting(t, step.ctx, db, "statement_timeout"); got != step.timeout {
						t.Fatalf("%v: statement_timeout %s, want %s", tenantpath.ScopeOf(step.ctx), got, step.timeout)
					}
					if got := setting(t, step.ctx, db, "work_mem"); got != step.work {
						t.Fatalf("%v: work_mem %s, want %s", tenantpath.ScopeOf(step.ctx), got, step.work)
					}
				}
				_, err := db.ExecContext(ten, "SELECT pg_sleep(1)")
				if err == nil || !strings.Contains(err.Error(), "57014") {
					t.Fatalf("tenant 10's statement_timeout did not apply: %v", err)
				}
				if _, err := db.ExecContext(eleven, "SELECT pg_sleep(0.1)"); err != nil {
					t.Fatalf("tenant 11 ran with tenant 10's timeout: %v", err)
				}
			})
		}
	})
}

// Names are checked and values quoted before anything is sent.
func TestTenantSettingsAreChecked(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	for _, bad := range []string{"search_path", "ROLE", "x;y", "a..b", "1x", ""} {
		db := e.Open(tptest.PQ, tenantpath.WithTenantSettings(func(string) map[string]string { return map[string]string{bad: "1"} }))
		if _, err := db.ExecContext(tenantpath.WithTenant(context.Background(), "10"), "SELECT 1"); err == nil || !strings.Contains(err.Error(), "setting") {
			t.Errorf("setting %q: %v, want a refusal", bad, err)
		}
	}
	db := e.Open(tptest.PQ, tenantpath.WithTenantSettings(func(string) map[string]string {
		return map[string]string{"application_name": `it's "quoted" \ twice`, "myext.flag": "on"}
	}))
	ten := tenantpath.WithTenant(context.Background(), "10")
	if got := setting(t, ten, db, "application_name"); got != `it's "quoted" \ twice` {
		t.Fatalf("application_name = %q", got)
	}
	var v sql.NullString
	if err := db.QueryRowContext(ten, "SELECT current_setting('myext.flag', true)").Scan(&v); err != nil || v.String != "on" {
		t.Fatalf("myext.flag = %v, %v", v, err)
	}
}
