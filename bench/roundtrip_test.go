package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

// TestRoundTrips counts, on the server (pg_stat_statements), the
// statements tenantpath sends: reuse of the connection's tenant adds none,
// each change of tenant adds exactly one, in or out of a transaction. It runs in a database of its own so that nothing else on
// the server is counted.
func TestRoundTrips(t *testing.T) {
	ctx := context.Background()
	dsn := roundTripDatabase(t)
	admin := sql.OpenDB(pgxConnector(t, dsn))
	admin.SetMaxOpenConns(1)
	t.Cleanup(func() { admin.Close() })
	naming := tenantpath.Naming{Prefix: "rt_"}

	bases := []struct {
		name string
		base func(testing.TB, string) driver.Connector
	}{{"pgx", pgxConnector}, {"pq", pqConnector}}
	for _, bd := range bases {
		t.Run(bd.name, func(t *testing.T) {
			db := openTenantpath(t, bd.base(t, dsn), naming)
			db.SetMaxOpenConns(1) // every call on the same connection
			t.Cleanup(func() { db.Close() })
			a := tenantpath.WithTenant(ctx, "a")
			b := tenantpath.WithTenant(ctx, "b")
			stmts := allTenants()[0].plain

			steps := []struct {
				name string
				run  func() error
				want stmtCounts
			}{
				{"first use: one switch", func() error { return repeat(10, a, db, &stmts, 1) },
					stmtCounts{Switch: 1, User: 10}},
				{"same tenant again: no switch", func() error { return repeat(10, a, db, &stmts, 1) },
					stmtCounts{User: 10}},
				{"five-statement request, same tenant: no switch", func() error { return runStatements(a, db, &stmts, 5, 3) },
					stmtCounts{User: 5}},
				{"tenants taking turns: one switch each", func() error {
					for i := range 10 {
						ctx := b
						if i%2 == 1 {
							ctx = a
						}
						if err := runStatements(ctx, db, &stmts, 1, 1+i); err != nil {
							return err
						}
					}
					return nil
				}, stmtCounts{Switch: 10, User: 10}},
				{"transaction for another tenant: one switch", func() error {
					tx, err := db.BeginTx(b, nil)
					if err != nil {
						return err
					}
					if err := runStatements(b, tx, &stmts, 5, 4); err != nil {
						tx.Rollback()
						return err
					}
					return tx.Commit()
				}, stmtCounts{Switch: 1, Txn: 2, User: 5}},
				{"prepared statement, same tenant: no switch", func() error {
					st, err := db.PrepareContext(b, stmts[0])
					if err != nil {
						return err
					}
					defer st.Close()
					var name string
					for i := range 5 {
						if err := st.QueryRowContext(b, 1+i).Scan(&name); err != nil {
							return err
						}
					}
					return nil
				}, stmtCounts{User: 5}},
			}
			for _, step := range steps {
				if err := resetStatements(ctx, admin); err != nil {
					t.Fatal(err)
				}
				if err := step.run(); err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				got, err := readStatements(ctx, admin)
				if err != nil {
					t.Fatal(err)
				}
				if got != step.want {
					t.Errorf("%s: server executed %+v, want %+v", step.name, got, step.want)
				} else {
					t.Logf("%s: %+v", step.name, got)
				}
			}
		})
	}
}

func repeat(n int, ctx context.Context, db *sql.DB, stmts *[5]string, perOp int) error {
	for i := range n {
		if err := runStatements(ctx, db, stmts, perOp, 1+i); err != nil {
			return err
		}
	}
	return nil
}

// roundTripDatabase creates a database holding tenants "a" and "b" (schemas
// rt_a and rt_b with the items table) and pg_stat_statements, drops it when
// the test ends, and returns its DSN.
func roundTripDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	if err := ensureStatements(ctx, dsn, 0); err != nil {
		t.Fatal(err)
	}
	name := "rt_" + strings.TrimSuffix(pgtest.UniquePrefix(t), "_")
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+tenantpath.QuoteIdentifier(name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+tenantpath.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	rt, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	setup := "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"
	for _, s := range []string{"rt_a", "rt_b"} {
		setup += fmt.Sprintf(`CREATE SCHEMA %[1]s;
			CREATE TABLE %[1]s.items (id int PRIMARY KEY, name varchar(40) NOT NULL, hits int NOT NULL DEFAULT 0);
			INSERT INTO %[1]s.items SELECT g, 'item ' || g, 0 FROM generate_series(1, %[2]d) g;`, s, rowsPerTenant)
	}
	if _, err := rt.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	return u.String()
}
