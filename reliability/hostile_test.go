package reliability_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// hostileIDs are tenant ids built to attack: SQL injection through the
// identifier or the literal, quoting tricks, NUL, names PostgreSQL would
// truncate, look-alikes, system and shared schemas, path syntax, empty and
// blank ids.
func hostileIDs(prefix string) []string {
	return []string{
		`"; DROP SCHEMA public CASCADE; --`,
		`10"; DROP SCHEMA ` + prefix + `shared CASCADE; --`,
		`10'; DROP SCHEMA ` + prefix + `shared CASCADE; --`,
		`10', false); DROP SCHEMA ` + prefix + `shared CASCADE; --`,
		`'`, `"`, `''`, `""`, `\`, `10\'`, `$$`, `$q$`, `a,b`, `a, public`, `10;`,
		"\x00", "10\x00", "\x0010", "10\x00; DROP SCHEMA public",
		strings.Repeat("a", 64),
		strings.Repeat("é", 32), // 64 bytes in 32 characters
		"оrg_10",                // Cyrillic о
		"10\u200b",              // zero-width space
		"１０",                    // full-width digits
		"ｏrg",                   // full-width o
		"10\u0301",              // combining accent
		"İ", "ß", "K",           // Turkish dotted I, sharp s, Kelvin sign
		"Org_10", "ORG", // case twins
		"PG_TOAST", "PUBLIC",
		"..", ".", "../10", "10.notes", "a/b", "*",
		"", " ", "\t", "\n", " 10", "10 ", "1 0", "\r\n",
		"$user", "%", "10%",
	}
}

// systemIDs name system schemas, and the shared schema, when the tenant id
// is the schema name (the identity naming). Under a prefix they name
// ordinary tenant schemas ("org_public"), which is harmless.
func systemIDs(prefix string) []string {
	return []string{"pg_toast", "pg_catalog", "pg_temp", "pg_temp_1", "pg_toast_temp_1", "public", "information_schema", prefix + "shared"}
}

// wantInvalid fails unless err says the tenant id was refused.
func wantInvalid(t *testing.T, what, id string, err error) {
	t.Helper()
	var ite *tenantpath.InvalidTenantError
	if !errors.Is(err, tenantpath.ErrInvalidTenant) || !errors.As(err, &ite) || ite.Reason == "" {
		t.Errorf("%s for hostile tenant %q: err = %v, want an *InvalidTenantError", what, id, err)
	}
}

// Hostile tenant ids get a typed error and nothing reaches the server:
// checked on the client side by a connector that records every statement
// its connections receive, and on the server side with pg_stat_statements,
// counting the statements run by a login role used by this test alone.
func TestHostileTenantIDs(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	ctx := context.Background()
	e.Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
	role := e.Prefix + "hostile"
	e.Exec("CREATE ROLE " + tenantpath.QuoteIdentifier(role) + " LOGIN")
	t.Cleanup(func() { e.Exec("DROP ROLE IF EXISTS " + tenantpath.QuoteIdentifier(role)) }) // after the pools below close
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	dsn := u.String()
	roleCalls := func() int64 {
		t.Helper()
		var n sql.NullInt64
		if err := e.Admin.QueryRow(`SELECT sum(calls) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
			WHERE r.rolname = $1`, role).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n.Int64
	}

	// Two namings: a prefixed one (the usual), and the identity naming
	// where the id is the schema name itself, so "public" or "pg_toast"
	// would name real schemas.
	namings := map[string]tenantpath.Naming{
		"prefix":   e.Naming,
		"identity": {Shared: []string{e.Prefix + "shared"}},
	}
	ops := 0
	for _, nname := range []string{"prefix", "identity"} {
		naming := namings[nname]
		t.Run(nname, func(t *testing.T) {
			tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
				rec := &tptest.Recorder{Connector: bd.Connector(t, dsn, false)}
				db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(naming))
				db.SetMaxOpenConns(2)
				// A prepared statement and a pinned connection, made before
				// the attack, in the shared scope.
				shared := tenantpath.WithShared(ctx)
				st, err := db.PrepareContext(shared, "SELECT $1::text")
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				conn, err := db.Conn(shared)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if err := conn.PingContext(shared); err != nil {
					t.Fatal(err)
				}
				rec.Take()
				before := roleCalls()

				attack := hostileIDs(e.Prefix)
				if nname == "identity" {
					attack = append(attack, systemIDs(e.Prefix)...)
				} else {
					attack = append(attack, strings.Repeat("1", 64-len(e.Prefix))) // 64 bytes once prefixed
					for _, id := range systemIDs(e.Prefix) {
						if s, err := naming.Schema(id); err != nil || s != e.Prefix+id {
							t.Errorf("prefix naming maps %q to %q, %v; want %q", id, s, err, e.Prefix+id)
						}
					}
				}
				for _, id := range attack {
					if _, err := naming.Schema(id); err == nil {
						t.Errorf("naming %s accepts hostile tenant %q", nname, id)
						continue
					}
					hctx := tenantpath.WithTenant(ctx, id)
					var s string
					wantInvalid(t, "QueryRow", id, db.QueryRowContext(hctx, "SELECT 'x'").Scan(&s))
					_, err := db.ExecContext(hctx, "SELECT 1")
					wantInvalid(t, "Exec", id, err)
					_, err = db.BeginTx(hctx, nil)
					wantInvalid(t, "BeginTx", id, err)
					_, err = db.PrepareContext(hctx, "SELECT 1")
					wantInvalid(t, "Prepare", id, err)
					wantInvalid(t, "prepared statement", id, st.QueryRowContext(hctx, "x").Scan(&s))
					wantInvalid(t, "pinned connection", id, conn.QueryRowContext(hctx, "SELECT 'x'").Scan(&s))
					ops += 6
				}
				if got := rec.Take(); len(got) != 0 {
					t.Errorf("naming %s: statements reached the base driver: %q", nname, got)
				}
				if after := roleCalls(); after != before {
					t.Errorf("naming %s: pg_stat_statements counts %d statements run by %s during the attack, want 0", nname, after-before, role)
				}
				// The pool is still healthy, and the server-side count does
				// see what this role runs.
				if err := db.QueryRowContext(shared, "SELECT 'ok'").Scan(new(string)); err != nil {
					t.Fatal(err)
				}
				if after := roleCalls(); after <= before {
					t.Errorf("pg_stat_statements did not count a statement run by %s: the check above proves nothing", role)
				}
			})
		})
	}
	// The shared schema and the tenant survived every attempt.
	tptest.MustRead(t, tenantpath.WithTenant(ctx, "10"), e.OpenOn(t, tptest.PGX, pgtest.DSN(t), false), "10")
	var n int
	if err := e.Admin.QueryRow("SELECT count(*) FROM pg_namespace WHERE nspname IN ('public', $1)", e.Prefix+"shared").Scan(&n); err != nil || n != 2 {
		t.Fatalf("schemas public and %sshared: %d found (%v)", e.Prefix, n, err)
	}
	t.Logf("hostile tenant ids: %d under the prefix naming, %d under the identity naming, x 2 drivers x 6 kinds of call: %d operations refused with InvalidTenantError, 0 statements sent",
		len(hostileIDs(e.Prefix))+1, len(hostileIDs(e.Prefix))+len(systemIDs(e.Prefix)), ops)
}
