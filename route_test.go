package tenantpath_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// DESIGN 1, 3: each tenant reads its own schema; switching back and forth on
// one connection keeps following the context.
func TestRoutesEachCallToItsTenant(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		db.SetMaxOpenConns(1) // one connection: every change of tenant is a switch
		ctx := context.Background()
		for _, id := range []string{"10", "11", "11", "10", "11"} {
			tptest.MustRead(t, tenantpath.WithTenant(ctx, id), db, id)
		}
		want := `"` + e.Prefix + `10", "` + e.Prefix + `shared", "pg_temp"`
		if got := searchPath(t, tenantpath.WithTenant(ctx, "10"), db); got != want {
			t.Fatalf("search_path = %s, want %s", got, want)
		}
	})
}

// DESIGN 3: an unknown tenant is an error, never a read of the shared
// schema's table of the same name; the connection keeps its old path.
func TestUnknownTenantNeverFallsThroughToShared(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10")
		db := e.Open(bd)
		db.SetMaxOpenConns(1)
		ctx := context.Background()
		tptest.MustRead(t, tenantpath.WithTenant(ctx, "10"), db, "10")

		got, err := tptest.ReadTenant(tenantpath.WithTenant(ctx, "99"), db)
		if !errors.Is(err, tenantpath.ErrUnknownTenant) {
			t.Fatalf("unknown tenant read %q, err %v; want ErrUnknownTenant", got, err)
		}
		var ute *tenantpath.UnknownTenantError
		if !errors.As(err, &ute) || ute.Tenant != "99" || ute.Schema != e.Prefix+"99" {
			t.Fatalf("error %#v does not name the tenant and schema", err)
		}
		// Same connection, still usable, still on tenant 10.
		tptest.MustRead(t, tenantpath.WithTenant(ctx, "10"), db, "10")
		if s := db.Stats(); s.OpenConnections != 1 {
			t.Fatalf("an unknown tenant cost the connection: %+v", s)
		}
	})
}

// DESIGN 1: invalid names fail before anything is sent.
func TestInvalidTenantIsTypedAndNothingIsSent(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t)
		rec := &tptest.Recorder{Connector: bd.Connector(t, dsn(t), false)}
		db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(e.Naming))
		if err := db.Ping(); err != nil { // opens the connection
			t.Fatal(err)
		}
		rec.Take()
		for _, id := range []string{"", "Acme", "a b", `x"; DROP SCHEMA public; --`, "a\x00b", strings.Repeat("a", 64), "shared", "../x", "ａcme"} {
			_, err := db.ExecContext(tenantpath.WithTenant(context.Background(), id), "SELECT 1")
			if !errors.Is(err, tenantpath.ErrInvalidTenant) {
				t.Errorf("tenant %q: err %v, want ErrInvalidTenant", id, err)
			}
			var ite *tenantpath.InvalidTenantError
			if !errors.As(err, &ite) || ite.Reason == "" {
				t.Errorf("tenant %q: %v is not an InvalidTenantError with a reason", id, err)
			}
		}
		if sent := rec.Take(); len(sent) != 0 {
			t.Fatalf("invalid tenants reached the server: %q", sent)
		}
	})
}

// DESIGN 2: the base path, asked for with WithBasePath or (under
// AllowNoTenant) by a context without a tenant, is the connection's own,
// even right after the same connection served a tenant.
func TestBasePathAfterTenantCall(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10")
		bg := context.Background()
		for _, c := range []struct {
			name string
			ctx  context.Context
			opts []tenantpath.Option
		}{
			{"WithBasePath", tenantpath.WithBasePath(tenantpath.WithTenant(bg, "10")), nil},
			{"AllowNoTenant", bg, []tenantpath.Option{tenantpath.AllowNoTenant()}},
		} {
			t.Run(c.name, func(t *testing.T) {
				db := e.Open(bd, c.opts...)
				db.SetMaxOpenConns(1)
				base := searchPath(t, c.ctx, db)
				if strings.Contains(base, e.Prefix) {
					t.Fatalf("base path %q already names a tenant", base)
				}
				tptest.MustRead(t, tenantpath.WithTenant(bg, "10"), db, "10")
				if got := searchPath(t, c.ctx, db); got != base {
					t.Fatalf("call for the base path ran on %q after a tenant call; want %q", got, base)
				}
			})
		}
	})
}

// DESIGN 2: by default a call without a tenant is refused before anything
// is sent; Ping, the explicit shared scope and the explicit base path still
// work.
func TestNoTenantIsRefusedByDefault(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10")
		rec := &tptest.Recorder{Connector: bd.Connector(t, dsn(t), false)}
		db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(e.Naming))
		ctx := context.Background()
		if err := db.PingContext(ctx); err != nil {
			t.Fatalf("Ping must be exempt: %v", err)
		}
		rec.Take()
		if _, err := db.ExecContext(ctx, "SELECT 1"); !errors.Is(err, tenantpath.ErrNoTenant) {
			t.Fatalf("Exec without tenant: %v, want ErrNoTenant", err)
		}
		if _, err := db.BeginTx(ctx, nil); !errors.Is(err, tenantpath.ErrNoTenant) {
			t.Fatalf("BeginTx without tenant: %v, want ErrNoTenant", err)
		}
		if _, err := db.PrepareContext(ctx, "SELECT 1"); !errors.Is(err, tenantpath.ErrNoTenant) {
			t.Fatalf("Prepare without tenant: %v, want ErrNoTenant", err)
		}
		if sent := rec.Take(); len(sent) != 0 {
			t.Fatalf("refused calls reached the server: %q", sent)
		}
		tptest.MustRead(t, tenantpath.WithShared(ctx), db, "shared")
		tptest.MustRead(t, tenantpath.WithTenant(ctx, "10"), db, "10")
		if _, err := db.ExecContext(tenantpath.WithBasePath(ctx), "SELECT 1"); err != nil {
			t.Fatalf("Exec for the base path: %v", err)
		}
		if !strings.Contains(tenantpath.ErrNoTenant.Error(), "WithShared") {
			t.Fatalf("ErrNoTenant does not say what to do: %v", tenantpath.ErrNoTenant)
		}
	})
}

// DESIGN 2: the shared scope puts exactly the shared schemas on the path.
func TestSharedScope(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10")
		db := e.Open(bd)
		db.SetMaxOpenConns(1)
		ctx := context.Background()
		tptest.MustRead(t, tenantpath.WithTenant(ctx, "10"), db, "10")
		shared := tenantpath.WithShared(tenantpath.WithTenant(ctx, "10"))
		tptest.MustRead(t, shared, db, "shared")
		if got, want := searchPath(t, shared, db), `"`+e.Prefix+`shared", "pg_temp"`; got != want {
			t.Fatalf("shared path = %s, want %s", got, want)
		}
		if _, ok := tenantpath.TenantFrom(shared); ok || !tenantpath.IsShared(shared) {
			t.Fatal("WithShared must replace the tenant")
		}
	})
}

// DESIGN 3: same-tenant reuse sends nothing extra; a change sends exactly
// one statement, against a real server.
func TestSwitchOnlyWhenPathDiffers(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		rec := &tptest.Recorder{Connector: bd.Connector(t, dsn(t), false)}
		db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(e.Naming))
		db.SetMaxOpenConns(1)
		ctx := context.Background()
		ten, eleven := tenantpath.WithTenant(ctx, "10"), tenantpath.WithTenant(ctx, "11")
		steps := []struct {
			ctx      context.Context
			want     string
			switches int
		}{{ten, "10", 1}, {ten, "10", 0}, {ten, "10", 0}, {eleven, "11", 1}, {eleven, "11", 0}, {ten, "10", 1}}
		for i, s := range steps {
			rec.Take()
			tptest.MustRead(t, s.ctx, db, s.want)
			sent := rec.Take()
			if got := tptest.Count(sent, "set_config"); got != s.switches || len(sent) != 1+s.switches {
				t.Fatalf("step %d: sent %q; want %d switch(es) and the query", i, sent, s.switches)
			}
		}
	})
}

func dsn(t testing.TB) string { t.Helper(); return pgtest.DSN(t) }
