package tenantpath_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/delayproxy"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// Edges of the recent options (settings, roles, recheck, hand-back to a
// pool connector, MaxTenantsPerConn, TransactionPooling), on the plain
// database/sql path.

// edgeCtx bounds every test here, so that a hang fails instead.
func edgeCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// OnePgxPool returns a pgxpool with a single connection (the one a routed
// call hands back is the one a direct call gets next), whose base path is
// the shared schema.
func onePgxPool(t *testing.T, e *tptest.Env) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	cfg.ConnConfig.RuntimeParams["search_path"] = e.Prefix + "shared"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// OverPool opens tenantpath over pool as the README shows, every connection
// going back to pgxpool after use (as stdlib.OpenDBFromPool does).
func overPool(t *testing.T, e *tptest.Env, pool *pgxpool.Pool, opts ...tenantpath.Option) *sql.DB {
	t.Helper()
	db := tptest.OpenWrapped(t, stdlib.GetPoolConnector(pool), append([]tenantpath.Option{tenantpath.WithNaming(e.Naming)}, opts...)...)
	db.SetMaxIdleConns(0)
	return db
}

// DirectState is what a direct pgxpool user sees on the pool's connection:
// the notes on its path, its role and two settings.
type directState struct{ notes, user, timeout, tenantID string }

func readDirect(t *testing.T, ctx context.Context, pool *pgxpool.Pool) directState {
	t.Helper()
	var s directState
	var notes sql.NullString
	if err := pool.QueryRow(ctx, `SELECT (SELECT string_agg(DISTINCT tenant, ',') FROM notes), current_user::text,
		current_setting('statement_timeout'), coalesce(current_setting('app.tenant_id', true), '')`).Scan(&notes, &s.user, &s.timeout, &s.tenantID); err != nil {
		t.Fatal(err)
	}
	s.notes = notes.String
	return s
}

func tenantSettings10(tenant string) map[string]string {
	if tenant == "10" {
		return map[string]string{"statement_timeout": "1234ms", "app.tenant_id": "10"}
	}
	return nil
}

// A connection handed back to a pool connector gets its path, role and the
// tenant's WithTenantSettings back: pgxpool's direct users never run with
// tenant 10's statement_timeout or app.tenant_id (the setting row-level
// security reads).
func TestHandBackResetsTenantSettings(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	pool := onePgxPool(t, e)
	ctx := edgeCtx(t)
	before := readDirect(t, ctx, pool)
	db := overPool(t, e, pool, tenantpath.WithTenantSettings(tenantSettings10))
	ten := tenantpath.WithTenant(ctx, "10")
	if got := setting(t, ten, db, "statement_timeout"); got != "1234ms" {
		t.Fatalf("tenant 10 runs with statement_timeout %s, want 1234ms", got)
	}
	after := readDirect(t, ctx, pool)
	if after != before {
		t.Fatalf("a direct pgxpool call after a tenant 10 call sees %+v, want what it saw before, %+v", after, before)
	}
}

// A connection discarded because its switch failed (a server error: here
// tenant 11's settings have a value the server refuses) is reset before it
// is handed back to pgxpool (or its session is ended when that fails): the
// next direct pgxpool user never reads tenant 10's rows or runs with its
// settings.
func TestHandBackAfterFailedSwitch(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := onePgxPool(t, e)
	ctx := edgeCtx(t)
	before := readDirect(t, ctx, pool)
	settings := func(tenant string) map[string]string {
		if tenant == "11" {
			return map[string]string{"statement_timeout": "not a duration"}
		}
		return tenantSettings10(tenant)
	}
	db := overPool(t, e, pool, tenantpath.WithTenantSettings(settings))
	db.SetMaxOpenConns(1)
	tptest.MustRead(t, tenantpath.WithTenant(ctx, "10"), db, "10")
	// Keep the connection in database/sql for the failing call: a pinned
	// connection, released once the switch has failed.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tptest.MustRead(t, tenantpath.WithTenant(ctx, "10"), conn, "10")
	if _, err := tptest.ReadTenant(tenantpath.WithTenant(ctx, "11"), conn); err == nil {
		t.Fatal("tenant 11's switch with an invalid statement_timeout succeeded")
	}
	conn.Close()
	if after := readDirect(t, ctx, pool); after != before {
		t.Fatalf("a direct pgxpool call after a failed switch sees %+v, want %+v", after, before)
	}
}

// The role of WithTenantRoles does go back before the hand-back.
func TestHandBackResetsTenantRole(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	roles := e.TenantRoles(t, "10")
	pool := onePgxPool(t, e)
	ctx := edgeCtx(t)
	before := readDirect(t, ctx, pool)
	db := overPool(t, e, pool, tenantpath.WithTenantRoles(roles))
	ten := tenantpath.WithTenant(ctx, "10")
	var user string
	if err := db.QueryRowContext(ten, "SELECT current_user").Scan(&user); err != nil {
		t.Fatal(err)
	}
	if user != roles(e.Schema("10")) {
		t.Fatalf("tenant 10 runs as %s", user)
	}
	if after := readDirect(t, ctx, pool); after != before {
		t.Fatalf("a direct pgxpool call after a tenant 10 call sees %+v, want %+v", after, before)
	}
}

// A custom setting (app.tenant_id, as row-level security reads it)
// set for tenant 10 is gone for tenant 11, the shared scope and the base
// path, on one connection, with both base drivers, in session mode and
// under TransactionPooling, also after the tenant's transaction rolled
// back to a savepoint.
func TestTenantCustomSettingDoesNotFollow(t *testing.T) {
	tptest.ForDrivers(t, []tptest.Driver{tptest.PGX, tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		for _, mode := range []struct {
			name string
			opts []tenantpath.Option
		}{{"session", nil}, {"transaction pooling", []tenantpath.Option{tenantpath.TransactionPooling()}}} {
			t.Run(mode.name, func(t *testing.T) {
				db := e.Open(bd, append([]tenantpath.Option{tenantpath.WithTenantSettings(tenantSettings10)}, mode.opts...)...)
				db.SetMaxOpenConns(1)
				ctx := edgeCtx(t)
				ten := tenantpath.WithTenant(ctx, "10")
				read := func(c context.Context) string {
					var v string
					if err := db.QueryRowContext(c, "SELECT coalesce(current_setting('app.tenant_id', true), '')").Scan(&v); err != nil {
						t.Fatal(err)
					}
					return v
				}
				others := []context.Context{tenantpath.WithTenant(ctx, "11"), tenantpath.WithShared(ctx), tenantpath.WithBasePath(ctx)}
				for _, other := range others {
					if got := read(ten); got != "10" {
						t.Fatalf("tenant 10 sees app.tenant_id %q", got)
					}
					tx, err := db.BeginTx(ten, nil)
					if err != nil {
						t.Fatal(err)
					}
					for _, q := range []string{"SAVEPOINT s", "SELECT 1", "ROLLBACK TO SAVEPOINT s"} {
						if _, err := tx.ExecContext(ten, q); err != nil {
							t.Fatal(err)
						}
					}
					tx.Rollback()
					if got := read(other); got != "" {
						t.Fatalf("%v sees tenant 10's app.tenant_id %q", tenantpath.ScopeOf(other), got)
					}
				}
			})
		}
	})
}

// A schema dropped, or renamed away, by another process is noticed
// after RecheckAfter, by plain calls and by a statement prepared before,
// with both base drivers: the call fails with ErrUnknownTenant instead of
// reading the shared schema's table of the same name.
func TestRecheckNoticesDroppedSchema(t *testing.T) {
	tptest.ForDrivers(t, []tptest.Driver{tptest.PGX, tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		for _, how := range []string{"drop", "rename"} {
			t.Run(how, func(t *testing.T) {
				e := tptest.NewEnv(t, "10")
				db := e.Open(bd, tenantpath.RecheckAfter(100*time.Millisecond))
				db.SetMaxOpenConns(1)
				ctx := edgeCtx(t)
				ten := tenantpath.WithTenant(ctx, "10")
				stmt, err := db.PrepareContext(ten, tptest.TenantsSeen)
				if err != nil {
					t.Fatal(err)
				}
				defer stmt.Close()
				tptest.MustRead(t, ten, db, "10")
				s := tenantpath.QuoteIdentifier(e.Schema("10"))
				if how == "drop" {
					e.Exec("DROP SCHEMA " + s + " CASCADE")
				} else {
					e.Exec("ALTER SCHEMA " + s + " RENAME TO " + tenantpath.QuoteIdentifier(e.Schema("10")+"_old"))
				}
				time.Sleep(250 * time.Millisecond)
				var got sql.NullString
				if err := stmt.QueryRowContext(ten).Scan(&got); !errors.Is(err, tenantpath.ErrUnknownTenant) {
					t.Fatalf("prepared statement after the %s: read %q, err %v; want ErrUnknownTenant", how, got.String, err)
				}
				if got, err := tptest.ReadTenant(ten, db); !errors.Is(err, tenantpath.ErrUnknownTenant) {
					t.Fatalf("call after the %s: read %q, err %v; want ErrUnknownTenant", how, got, err)
				}
			})
		}
	})
}

// Setting names are case-insensitive in PostgreSQL, and so in tenantpath:
// after tenant 10 (Work_Mem) ran on a connection, tenant 11's switch sets
// its work_mem and does not reset it again as "Work_Mem, not set by tenant
// 11"; each tenant runs with its own value.
func TestTenantSettingNameCase(t *testing.T) {
	tptest.ForDrivers(t, []tptest.Driver{tptest.PGX, tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		settings := func(tenant string) map[string]string {
			if tenant == "10" {
				return map[string]string{"Work_Mem": "64MB"}
			}
			return map[string]string{"work_mem": "8MB"}
		}
		db := e.Open(bd, tenantpath.WithTenantSettings(settings))
		db.SetMaxOpenConns(1)
		ctx := edgeCtx(t)
		for _, step := range []struct{ id, want string }{{"10", "64MB"}, {"11", "8MB"}, {"10", "64MB"}, {"11", "8MB"}} {
			if got := setting(t, tenantpath.WithTenant(ctx, step.id), db, "work_mem"); got != step.want {
				t.Fatalf("tenant %s runs with work_mem %s, want its own %s", step.id, got, step.want)
			}
		}
	})
}

// A pinned connection (sql.Conn) that passes MaxTenantsPerConn keeps
// working while pinned and is closed once released.
func TestMaxTenantsPerConnPinned(t *testing.T) {
	tptest.ForDrivers(t, []tptest.Driver{tptest.PGX, tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11", "12")
		db := e.Open(bd, tenantpath.MaxTenantsPerConn(2))
		db.SetMaxOpenConns(1)
		ctx := edgeCtx(t)
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pid := func(q tptest.Querier, c context.Context) int {
			var p int
			if err := q.QueryRowContext(c, "SELECT pg_backend_pid()").Scan(&p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		first := pid(conn, tenantpath.WithShared(ctx))
		for _, id := range []string{"10", "11", "12", "10"} {
			tptest.MustRead(t, tenantpath.WithTenant(ctx, id), conn, id)
		}
		if p := pid(conn, tenantpath.WithShared(ctx)); p != first {
			t.Fatalf("the pinned connection changed backend (%d, then %d)", first, p)
		}
		conn.Close()
		if p := pid(db, tenantpath.WithShared(ctx)); p == first {
			t.Fatalf("backend %d served 3 tenants under MaxTenantsPerConn(2) and was not retired", p)
		}
	})
}

// Setting values are quoted: quotes, semicolons, dollar quotes,
// backslashes, unicode escapes and non-ASCII text arrive as they are, in
// session mode and under TransactionPooling, with both base drivers.
func TestTenantSettingValuesAreLiteral(t *testing.T) {
	values := []string{
		`'; SELECT pg_sleep(10); --`, `$$; SELECT 1; $$`, `\'); SELECT 1; --`, `\`, `E'\x41'`,
		`U&'\0041'`, "é 😀 \u202e", "two\nlines", `"`, `''`,
	}
	tptest.ForDrivers(t, []tptest.Driver{tptest.PGX, tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10")
		for _, pooling := range []bool{false, true} {
			for _, v := range values {
				opts := []tenantpath.Option{tenantpath.WithTenantSettings(func(string) map[string]string {
					return map[string]string{"app.v": v, "application_name": v}
				})}
				if pooling {
					opts = append(opts, tenantpath.TransactionPooling())
				}
				db := e.Open(bd, opts...)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				ten := tenantpath.WithTenant(ctx, "10")
				if got := setting(t, ten, db, "app.v"); got != v {
					t.Errorf("pooling %v: app.v = %q, want %q", pooling, got, v)
				}
				tptest.MustRead(t, ten, db, "10")
				cancel()
				db.Close()
			}
		}
	})
}

// Behind PgBouncer in transaction mode (one server connection),
// TransactionPooling scopes tenant 10's settings and role to its own
// transactions: after its autocommit calls, a failed one, a transaction
// with a savepoint rollback and one rolled back, another client's calls for
// tenant 11, the shared scope and the base path see the defaults.
func TestTransactionPoolingSettingsBehindPgBouncer(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	roles := e.TenantRoles(t, "10", "11")
	bouncer := pgtest.StartPgBouncer(t, "transaction", 1)
	tptest.ForDrivers(t, []tptest.Driver{tptest.PGX, tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		opts := []tenantpath.Option{tenantpath.TransactionPooling(), tenantpath.WithTenantSettings(tenantSettings10), tenantpath.WithTenantRoles(roles)}
		a := e.OpenOn(t, bd, bouncer, true, opts...)
		b := e.OpenOn(t, bd, bouncer, true, opts...)
		a.SetMaxOpenConns(1)
		b.SetMaxOpenConns(1)
		ctx := edgeCtx(t)
		ten := tenantpath.WithTenant(ctx, "10")
		state := func(c context.Context) string {
			var s string
			if err := b.QueryRowContext(c, `SELECT current_user || ' ' || current_setting('statement_timeout') || ' ' ||
				coalesce(current_setting('app.tenant_id', true), '')`).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		base := state(tenantpath.WithBasePath(ctx))
		var own string
		if err := a.QueryRowContext(ten, `SELECT current_user || ' ' || current_setting('statement_timeout') || ' ' ||
			coalesce(current_setting('app.tenant_id', true), '')`).Scan(&own); err != nil || own != roles(e.Schema("10"))+" 1234ms 10" {
			t.Fatalf("tenant 10 runs with %q, %v", own, err)
		}
		for i, step := range []func() error{
			func() error { _, err := a.ExecContext(ten, "SELECT 1"); return err },
			func() error {
				if _, err := a.ExecContext(ten, "SELECT 1/0"); err == nil {
					return errors.New("1/0 succeeded")
				}
				return nil
			},
			func() error {
				tx, err := a.BeginTx(ten, nil)
				if err != nil {
					return err
				}
				for _, q := range []string{"SAVEPOINT s", "SELECT 1", "ROLLBACK TO SAVEPOINT s"} {
					if _, err := tx.ExecContext(ten, q); err != nil {
						return err
					}
				}
				return tx.Commit()
			},
			func() error {
				tx, err := a.BeginTx(ten, nil)
				if err != nil {
					return err
				}
				tx.ExecContext(ten, "SELECT 1")
				return tx.Rollback()
			},
		} {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			for _, c := range []context.Context{tenantpath.WithBasePath(ctx), tenantpath.WithShared(ctx)} {
				if got := state(c); got != base {
					t.Fatalf("step %d: %v on the server connection tenant 10 used sees %q, want %q", i, tenantpath.ScopeOf(c), got, base)
				}
			}
			if got, want := state(tenantpath.WithTenant(ctx, "11")), roles(e.Schema("11"))+" 0 "; got != want {
				t.Fatalf("step %d: tenant 11 sees %q, want %q", i, got, want)
			}
		}
	})
}

// A context cancelled while the switch is on its way (the link to
// the server delays each direction by 100ms) leaves no connection on a
// path the driver does not know: the next calls for tenant 10, tenant 11
// and the shared scope read their own rows, with both base drivers, for a
// plain call and for BeginTx.
func TestCancelledSwitchOverSlowLink(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := delayproxy.Start(u.Host, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	u.Host = proxy.Addr()
	tptest.ForDrivers(t, []tptest.Driver{tptest.PGX, tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		for _, call := range []string{"query", "begin"} {
			for _, after := range []time.Duration{50 * time.Millisecond, 150 * time.Millisecond} {
				db := e.OpenOn(t, bd, u.String(), false, tenantpath.WithTenantSettings(tenantSettings10))
				db.SetMaxOpenConns(1)
				ctx := edgeCtx(t)
				tptest.MustRead(t, tenantpath.WithTenant(ctx, "10"), db, "10")
				short, cancel := context.WithTimeout(tenantpath.WithTenant(ctx, "11"), after)
				if call == "query" {
					if _, err := tptest.ReadTenant(short, db); err == nil {
						t.Fatalf("%s cancelled after %v: no error", call, after)
					}
				} else if tx, err := db.BeginTx(short, nil); err == nil {
					tx.Rollback()
					t.Fatalf("%s cancelled after %v: no error", call, after)
				}
				cancel()
				tptest.MustRead(t, tenantpath.WithTenant(ctx, "11"), db, "11")
				if got := setting(t, tenantpath.WithTenant(ctx, "11"), db, "statement_timeout"); got != "0" {
					t.Fatalf("%s cancelled after %v: tenant 11 then runs with statement_timeout %s", call, after, got)
				}
				tptest.MustRead(t, tenantpath.WithTenant(ctx, "10"), db, "10")
				tptest.MustRead(t, tenantpath.WithShared(ctx), db, "shared")
				db.Close()
			}
		}
	})
}

// A statement prepared for tenant 10 and run for tenant 11 (and the
// shared scope) runs on their paths, with their settings, not 10's: with
// both base drivers, in session mode and under TransactionPooling.
func TestPreparedAcrossTenantsWithSettings(t *testing.T) {
	const q = `SELECT coalesce(current_setting('app.tenant_id', true), '') || '/' ||
		(SELECT string_agg(DISTINCT tenant, ',') FROM notes)`
	tptest.ForDrivers(t, []tptest.Driver{tptest.PGX, tptest.PQ}, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		for _, pooling := range []bool{false, true} {
			opts := []tenantpath.Option{tenantpath.WithTenantSettings(tenantSettings10)}
			if pooling {
				opts = append(opts, tenantpath.TransactionPooling())
			}
			db := e.Open(bd, opts...)
			db.SetMaxOpenConns(1)
			ctx := edgeCtx(t)
			stmt, err := db.PrepareContext(tenantpath.WithTenant(ctx, "10"), q)
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range []struct {
				ctx  context.Context
				want string
			}{
				{tenantpath.WithTenant(ctx, "10"), "10/10"}, {tenantpath.WithTenant(ctx, "11"), "/11"},
				{tenantpath.WithTenant(ctx, "10"), "10/10"}, {tenantpath.WithShared(ctx), "/shared"},
			} {
				var got string
				if err := stmt.QueryRowContext(step.ctx).Scan(&got); err != nil || got != step.want {
					t.Fatalf("pooling %v, %v: got %q, %v; want %q", pooling, tenantpath.ScopeOf(step.ctx), got, err, step.want)
				}
			}
			stmt.Close()
			db.Close()
		}
	})
}
