package tenantpath_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// The isolation holes found by probing as an attacker would (issue 9), one
// test each, on every base driver.

// DESIGN 3: a temporary table created under one tenant never shadows
// another tenant's table on the same connection: the path ends with
// pg_temp.
func TestTempTableNeverShadowsATenant(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		db.SetMaxOpenConns(1)
		bg := context.Background()
		ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
		if _, err := db.ExecContext(ten, "CREATE TEMP TABLE notes (tenant text)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ten, "INSERT INTO pg_temp.notes VALUES ('temp of 10')"); err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, eleven, db, "11")
		tptest.MustRead(t, ten, db, "10")
		var n int
		if err := db.QueryRowContext(ten, "SELECT count(*) FROM pg_temp.notes").Scan(&n); err != nil || n != 1 {
			t.Fatalf("the temporary table, named: %d rows, %v", n, err)
		}
	})
}

// DESIGN 5: a statement is retried only when the server provably refused it
// before running any of it. An operator or function that does not exist
// (42883) can be raised half-way through a run; such a statement must run
// once, whatever it did before failing.
func TestFailedStatementRunsOnce(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10")
		s := tenantpath.QuoteIdentifier(e.Schema("10"))
		e.Exec(fmt.Sprintf(`CREATE TABLE %[1]s.log (n int);
			CREATE SEQUENCE %[1]s.s;
			CREATE PROCEDURE %[1]s.p() LANGUAGE plpgsql AS $$
				BEGIN INSERT INTO log VALUES (1); COMMIT; PERFORM no_such_function(); END $$;
			CREATE FUNCTION %[1]s.f() RETURNS int LANGUAGE plpgsql AS $$
				BEGIN PERFORM no_such_function(); RETURN 1; END $$`, s))
		db := e.Open(bd)
		ten := tenantpath.WithTenant(context.Background(), "10")
		for _, call := range []func() error{
			func() error { _, err := db.ExecContext(ten, "CALL p()"); return err },
			func() error {
				var v int
				return db.QueryRowContext(ten, "SELECT nextval('s') + f() + $1", 0).Scan(&v)
			},
		} {
			if err := call(); pgCode(err) != "42883" {
				t.Fatalf("got %v, want the server's 42883", err)
			}
		}
		var rows, last int
		if err := e.Admin.QueryRow(fmt.Sprintf("SELECT (SELECT count(*) FROM %[1]s.log), (SELECT last_value FROM %[1]s.s)", s)).Scan(&rows, &last); err != nil {
			t.Fatal(err)
		}
		if rows != 1 || last != 1 {
			t.Fatalf("the procedure committed %d rows and the sequence is at %d; each statement must have run once", rows, last)
		}
	})
}

// DESIGN 6: under TransactionPooling, a statement string that would end
// the transaction carrying its path is refused before anything is sent; its
// tail would otherwise run on no tenant's path.
func TestTransactionPoolingRefusesSQLThatEndsItsTransaction(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10")
		db := e.Open(bd, tenantpath.TransactionPooling())
		ten := tenantpath.WithTenant(context.Background(), "10")
		for _, q := range []string{
			"INSERT INTO notes VALUES ('a'); COMMIT; INSERT INTO notes VALUES ('tail')",
			"INSERT INTO notes VALUES ('a'); END; INSERT INTO notes VALUES ('tail')",
			"ROLLBACK; INSERT INTO notes VALUES ('tail')",
		} {
			_, err := db.ExecContext(ten, q)
			var pe *tenantpath.PooledTxControlError
			if !errors.As(err, &pe) || pe.Scope.Tenant != "10" {
				t.Fatalf("%q: %v, want a PooledTxControlError", q, err)
			}
		}
		var n int
		if err := e.Admin.QueryRow("SELECT count(*) FROM (SELECT tenant FROM " + tenantpath.QuoteIdentifier(e.Schema("10")) +
			".notes UNION ALL SELECT tenant FROM " + tenantpath.QuoteIdentifier(e.Prefix+"shared") + ".notes) n WHERE tenant IN ('a', 'tail')").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d rows written by refused SQL (%v)", n, err)
		}
	})
}

// DESIGN 5: spellings of a path change other than SET search_path are
// noticed, outside and inside a driver transaction.
func TestOtherSpellingsOfAPathChange(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		db := e.Open(bd)
		bg := context.Background()
		ten := tenantpath.WithTenant(bg, "10")
		s11 := tenantpath.QuoteIdentifier(e.Schema("11"))
		for _, qs := range [][]string{
			{"SET SCHEMA '" + e.Schema("11") + "'"},
			{"UPDATE pg_settings SET setting = '" + s11 + "' WHERE name = 'search' || '_path'"},
			{"PREPARE setpath AS SELECT pg_catalog.set_config('search_path', '" + s11 + "', false)", "EXECUTE setpath", "DEALLOCATE setpath"},
		} {
			conn, err := db.Conn(bg)
			if err != nil {
				t.Fatal(err)
			}
			tptest.MustRead(t, ten, conn, "10")
			for _, q := range qs {
				if _, err := conn.ExecContext(ten, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				tptest.MustRead(t, ten, conn, "10")
			}
			conn.Close()
		}
		// Inside a driver transaction: SET SCHEMA, and a savepoint rollback
		// that undoes the path the driver set again after the caller's
		// own SET LOCAL.
		tx, err := db.BeginTx(ten, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, q := range []string{"SET SCHEMA '" + e.Schema("11") + "'", "SET LOCAL search_path TO " + s11, "SAVEPOINT a"} {
			if _, err := tx.ExecContext(ten, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			tptest.MustRead(t, ten, tx, "10")
		}
		if _, err := tx.ExecContext(ten, "ROLLBACK TO SAVEPOINT a"); err != nil {
			t.Fatal(err)
		}
		tptest.MustRead(t, ten, tx, "10")
	})
}

// DESIGN 5: a function or trigger that calls set_config changes the path
// out of the scan's sight. On PostgreSQL 18, with pgx through tenantpgx,
// the server's report catches it. Elsewhere nothing can see it; per-tenant
// roles contain it: the next statement is refused rather than reading
// another tenant's rows.
func TestFunctionThatChangesThePath(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		shared := tenantpath.QuoteIdentifier(e.Prefix + "shared")
		s11 := tenantpath.QuoteIdentifier(e.Schema("11"))
		e.Exec(fmt.Sprintf(`CREATE FUNCTION %[1]s.hop() RETURNS int LANGUAGE sql
			AS $$ SELECT 1 FROM pg_catalog.set_config('search_path', %[2]s, false) $$;
			CREATE FUNCTION %[1]s.hop_trigger() RETURNS trigger LANGUAGE plpgsql
			AS $$ BEGIN PERFORM pg_catalog.set_config('search_path', %[2]s, false); RETURN NEW; END $$;
			CREATE TRIGGER hop AFTER INSERT ON %[3]s.notes FOR EACH ROW EXECUTE FUNCTION %[1]s.hop_trigger()`,
			shared, tenantpath.QuoteLiteral(s11), tenantpath.QuoteIdentifier(e.Schema("10"))))
		ten := tenantpath.WithTenant(context.Background(), "10")
		reported := bd.Name == tptest.PGXWire.Name && pgtest.ServerVersion(t) >= 18
		var opts []tenantpath.Option
		if !reported {
			opts = append(opts, tenantpath.WithTenantRoles(e.TenantRoles(t, "10", "11")))
		}
		db := e.Open(bd, opts...)
		db.SetMaxOpenConns(1)
		for _, hop := range []string{"SELECT hop()", "INSERT INTO notes VALUES ('10')"} {
			tptest.MustRead(t, ten, db, "10")
			if _, err := db.ExecContext(ten, hop); err != nil {
				t.Fatalf("%s: %v", hop, err)
			}
			got, err := tptest.ReadTenant(ten, db)
			switch {
			case reported && (err != nil || got != "10"):
				t.Fatalf("after %q: read %q, %v; the server's report must have made the driver switch back", hop, got, err)
			case !reported && (err == nil || strings.Contains(got, "11")):
				t.Fatalf("after %q: read %q, %v; tenant roles must refuse the other tenant's schema", hop, got, err)
			}
			if !reported {
				db.ExecContext(tenantpath.WithShared(context.Background()), "SELECT 1") // back on a known path
			}
		}
	})
}

// DESIGN 3: a tenant's schema dropped while connections remember its path:
// in the process that drops it, the next call fails with ErrUnknownTenant;
// elsewhere, after the recheck interval.
func TestDroppedSchemaIsNoticed(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t)
		ten := tenantpath.WithTenant(context.Background(), "10")
		for _, c := range []struct {
			name string
			opts []tenantpath.Option
			drop func()
		}{
			{"this process", []tenantpath.Option{tenantpath.RecheckAfter(-1)}, func() {
				e.Exec("DROP SCHEMA " + tenantpath.QuoteIdentifier(e.Schema("10")) + " CASCADE")
				tenantpath.SchemasChanged()
			}},
			{"another process", []tenantpath.Option{tenantpath.RecheckAfter(50 * time.Millisecond)}, func() {
				e.Exec("DROP SCHEMA " + tenantpath.QuoteIdentifier(e.Schema("10")) + " CASCADE")
				time.Sleep(60 * time.Millisecond)
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.AddTenant("10")
				db := e.Open(bd, c.opts...)
				db.SetMaxOpenConns(1)
				tptest.MustRead(t, ten, db, "10")
				c.drop()
				got, err := tptest.ReadTenant(ten, db)
				if !errors.Is(err, tenantpath.ErrUnknownTenant) {
					t.Fatalf("after the drop: read %q, %v; want ErrUnknownTenant", got, err)
				}
				if got, err := tptest.ReadTenant(ten, db); !errors.Is(err, tenantpath.ErrUnknownTenant) {
					t.Fatalf("again: read %q, %v; want ErrUnknownTenant", got, err)
				}
			})
		}
	})
}
