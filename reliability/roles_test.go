package reliability_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/migrator"
)

func roleOf(schema string) string { return schema + "_rw" }

// provisionRoles gives every tenant of e its own role with the migrator,
// and drops the roles when t ends (roles belong to the cluster, not to the
// schemas the harness drops).
func provisionRoles(t *testing.T, e *tptest.Env, ids []string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		t.Cleanup(func() {
			if err := migrator.DropTenantRole(context.Background(), e.Admin, e.Naming, roleOf, id); err != nil {
				t.Errorf("DropTenantRole(%s): %v", id, err)
			}
		})
		if err := migrator.ProvisionTenantRole(ctx, e.Admin, e.Naming, roleOf, id); err != nil {
			t.Fatalf("ProvisionTenantRole(%s): %v", id, err)
		}
	}
}

func sqlState(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}

// In per-tenant roles mode, under the concurrency workload, every attempt
// to read another tenant's table by naming its schema is refused by
// PostgreSQL itself (42501), while every read through the path sees only
// the tenant's own rows: directly, and behind PgBouncer in transaction mode
// with TransactionPooling (where the role, like the path, is set per
// transaction).
func TestTenantRolesUnderLoad(t *testing.T) {
	ids := tptest.TenantIDs(8)
	e := tptest.NewEnv(t, ids...)
	provisionRoles(t, e, ids)
	bouncer := pgtest.StartPgBouncer(t, "transaction", 2)
	for _, setup := range []struct {
		name     string
		dsn      string
		txPooler bool
		opts     []tenantpath.Option
	}{
		{"direct", pgtest.DSN(t), false, nil},
		{"transaction-pooler", bouncer, true, []tenantpath.Option{tenantpath.TransactionPooling()}},
	} {
		t.Run(setup.name, func(t *testing.T) {
			tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
				db := e.OpenOn(t, bd, setup.dsn, setup.txPooler, append([]tenantpath.Option{tenantpath.WithTenantRoles(roleOf)}, setup.opts...)...)
				db.SetMaxOpenConns(4)
				w := &tptest.Workload{T: t, DB: db, IDs: ids, NoPrepared: setup.txPooler}
				if !setup.txPooler {
					w = tptest.NewWorkload(t, db, ids, false)
				}
				var attempts, refused, crossLeaks atomic.Int64
				var wg sync.WaitGroup
				deadline := time.Now().Add(60 * time.Second)
				for g := range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
						for i := 0; i < 60 && time.Now().Before(deadline); i++ {
							w.RandomOp(context.Background(), rng)
							// An explicit read of another tenant's table.
							id, other := w.Pick(rng), w.Pick(rng)
							if id == other {
								continue
							}
							attempts.Add(1)
							var got sql.NullString
							err := db.QueryRowContext(tenantpath.WithTenant(context.Background(), id),
								"SELECT string_agg(tenant, ',') FROM "+tenantpath.QuoteIdentifier(e.Schema(other))+".notes").Scan(&got)
							switch {
							case err == nil:
								crossLeaks.Add(1)
								t.Errorf("LEAK: tenant %s read tenant %s's table by name: %q", id, other, got.String)
							case sqlState(err) == "42501":
								refused.Add(1)
							default:
								t.Errorf("tenant %s reading tenant %s's table: %v, want SQLSTATE 42501", id, other, err)
							}
						}
					}()
				}
				wg.Wait()
				// Calls without a tenant, and in the shared scope, run as
				// the login role again, on every connection.
				var conns []*sql.Conn
				for range 4 {
					c, err := db.Conn(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					conns = append(conns, c)
				}
				login := pgtest.LoginRole(t)
				for _, c := range conns {
					for _, ctx := range []context.Context{tenantpath.WithBasePath(context.Background()), tenantpath.WithShared(context.Background())} {
						var user string
						if err := c.QueryRowContext(ctx, "SELECT current_user").Scan(&user); err != nil || user != login {
							t.Fatalf("after tenant work, a call without a tenant runs as %q (%v), want the login role %q", user, err, login)
						}
					}
				}
				t.Logf("%s; explicit reads of another tenant's schema: %d attempts, %d refused by PostgreSQL (42501), %d leaks",
					w.Summary("tenant roles, "+setup.name+", "+bd.Name), attempts.Load(), refused.Load(), crossLeaks.Load())
				if w.Leaks.Load()+crossLeaks.Load() != 0 || w.Errs.Load() != 0 {
					t.Fatalf("%d leaks, %d errors", w.Leaks.Load()+crossLeaks.Load(), w.Errs.Load())
				}
				if refused.Load() == 0 || refused.Load() != attempts.Load() {
					t.Fatalf("%d of %d cross-tenant reads refused", refused.Load(), attempts.Load())
				}
			})
		})
	}
}
