package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

// The throughput fixture: fixtureTenants schemas named fixturePrefix+id,
// each holding the same items table of rowsPerTenant rows. The one-tenant
// and 100-tenant workloads use the first tenants of the same set.
const (
	fixturePrefix  = "tpb_"
	fixtureTenants = 10000
	rowsPerTenant  = 100
)

// minStatementsMax is the pg_stat_statements.max the benchmarks need: the
// raw contender sends a different (schema-qualified) text per tenant, five
// per tenant for the request workload, and evicted entries would lose
// their counts.
const minStatementsMax = 60000

var fixtureNaming = tenantpath.Naming{Prefix: fixturePrefix}

// The statements every contender runs: the raw contender schema-qualified,
// the others on the search_path.

var requestSQL = [5]string{
	`SELECT name FROM %s WHERE id = $1`,
	`SELECT id, name FROM %s WHERE id BETWEEN $1 AND $1 + 4`,
	`SELECT count(*) FROM %s WHERE hits > $1`,
	`UPDATE %s SET hits = hits + 1 WHERE id = $1`,
	`SELECT hits FROM %s WHERE id = $1`,
}

// tenantSQL is everything precomputed for one tenant, so that no contender
// builds strings while it is timed.
type tenantSQL struct {
	id        string
	ctx       context.Context // tenantpath.WithTenant(context.Background(), id)
	plain     [5]string       // statements on the search_path
	qualified [5]string       // statements naming the tenant's schema
	set       string          // SET search_path TO …
	setLocal  string          // SET LOCAL search_path TO …
}

var (
	tenantsOnce sync.Once
	tenantsSQL  []tenantSQL
)

func allTenants() []tenantSQL {
	tenantsOnce.Do(func() {
		var plain [5]string
		for i, q := range requestSQL {
			plain[i] = fmt.Sprintf(q, "items")
		}
		tenantsSQL = make([]tenantSQL, fixtureTenants)
		for i := range tenantsSQL {
			id := strconv.Itoa(i)
			schema := tenantpath.QuoteIdentifier(fixturePrefix + id)
			t := &tenantsSQL[i]
			t.id = id
			t.ctx = tenantpath.WithTenant(context.Background(), id)
			t.plain = plain
			for j, q := range requestSQL {
				t.qualified[j] = fmt.Sprintf(q, schema+".items")
			}
			t.set = "SET search_path TO " + schema + ", public"
			t.setLocal = "SET LOCAL search_path TO " + schema + ", public"
		}
	})
	return tenantsSQL
}

var (
	fixtureMu    sync.Mutex
	fixtureReady bool
)

// benchFixture makes sure the throughput fixture exists and
// pg_stat_statements can count every statement, and returns the DSN.
// On a server given by TENANTPATH_TEST_DSN a complete fixture is reused.
func benchFixture(tb testing.TB) string {
	tb.Helper()
	dsn := pgtest.DSN(tb)
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if fixtureReady {
		return dsn
	}
	ctx := context.Background()
	if err := ensureStatements(ctx, dsn, minStatementsMax); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	created, err := createTenants(ctx, dsn, fixturePrefix, fixtureTenants, 500, createItems)
	if err != nil {
		tb.Fatal(err)
	}
	if created {
		tb.Logf("created %d tenant schemas in %v", fixtureTenants, time.Since(start).Round(time.Millisecond))
	}
	fixtureReady = true
	return dsn
}

// createItems is the per-tenant body of the DO block that builds the
// throughput fixture; %1$I is the schema.
var createItems = `
		EXECUTE format('CREATE SCHEMA %1$I', s);
		EXECUTE format('CREATE TABLE %1$I.items (id int PRIMARY KEY, name varchar(40) NOT NULL, hits int NOT NULL DEFAULT 0) WITH (autovacuum_enabled = false)', s);
		EXECUTE format('INSERT INTO %1$I.items SELECT g, ''item '' || g, 0 FROM generate_series(1, ` + strconv.Itoa(rowsPerTenant) + `) g', s);`

// createTenants creates schemas prefix+"0" … prefix+(n-1), running body
// (PL/pgSQL that reads the schema name from the variable s) for each, in
// DO blocks of batch tenants on two connections. Each created relation
// holds a lock until its block commits; the harness's server has room for
// 512 per connection slot, 300 slots. If all n schemas
// exist already it does nothing and reports false; a partial set (an
// interrupted run) is dropped and rebuilt.
func createTenants(ctx context.Context, dsn, prefix string, n, batch int, body string) (bool, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false, err
	}
	var have int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, $1)`, prefix).Scan(&have)
	conn.Close(ctx)
	if err != nil {
		return false, err
	}
	if have == n {
		return false, nil
	}
	if have > 0 {
		if err := pgtest.DropSchemas(ctx, dsn, prefix); err != nil {
			return false, err
		}
	}
	// Two connections, one per core, each taking the next batch.
	batches := make(chan int)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				for range batches {
				}
				errs <- err
				return
			}
			defer c.Close(context.Background())
			var first error
			for lo := range batches {
				if first != nil {
					continue
				}
				do := fmt.Sprintf(`DO $do$
DECLARE s text;
BEGIN
	FOR i IN %d..%d LOOP
		s := %s || i;%s
	END LOOP;
END
$do$`, lo, min(lo+batch, n)-1, tenantpath.QuoteLiteral(prefix), body)
				_, first = c.Exec(ctx, do)
			}
			errs <- first
		}()
	}
	for lo := 0; lo < n; lo += batch {
		batches <- lo
	}
	close(batches)
	return true, errors.Join(<-errs, <-errs)
}

// ensureStatements installs pg_stat_statements and makes sure it keeps at
// least max entries, restarting the harness's own server once if needed.
// Tests are never skipped: a server without the module is an error that
// says how to fix it.
func ensureStatements(ctx context.Context, dsn string, max int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return fmt.Errorf("pg_stat_statements is needed to count statements on the server: %w "+
			"(install postgresql-contrib and set shared_preload_libraries = 'pg_stat_statements'; "+
			"the harness's own server does both when the module is installed)", err)
	}
	var have int
	if err := conn.QueryRow(ctx, `SELECT current_setting('pg_stat_statements.max')::int`).Scan(&have); err != nil {
		return err
	}
	if have >= max || max == 0 {
		return nil
	}
	srv := pgtest.Current()
	if srv == nil {
		return nil // someone else's server: count with what it keeps
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER SYSTEM SET pg_stat_statements.max = %d`, max)); err != nil {
		return err
	}
	conn.Close(ctx)
	return srv.Restart()
}

// stmtCounts are the statements the server executed, from
// pg_stat_statements, by kind.
type stmtCounts struct {
	Switch int64 // tenantpath's switch: SELECT set_config(…) FROM pg_namespace …
	Set    int64 // SET [LOCAL] search_path
	Txn    int64 // BEGIN, COMMIT, ROLLBACK
	User   int64 // everything else: the workload's own statements
}

func (c stmtCounts) Total() int64 { return c.Switch + c.Set + c.Txn + c.User }

// resetStatements clears pg_stat_statements for the current database.
func resetStatements(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)`)
	return err
}

// readStatements returns the statements executed in the current database
// since the last reset. The queries reading the statistics are left out.
func readStatements(ctx context.Context, db *sql.DB) (stmtCounts, error) {
	var c stmtCounts
	rows, err := db.QueryContext(ctx, `SELECT query, calls FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var q string
		var calls int64
		if err := rows.Scan(&q, &calls); err != nil {
			return c, err
		}
		lq := strings.ToLower(strings.TrimSpace(q))
		switch {
		case strings.Contains(lq, "pg_stat_statements"):
		case lq == "" || lq == ";" || strings.HasPrefix(lq, "--"):
			// pings
		case strings.Contains(lq, "set_config"):
			c.Switch += calls
		case strings.HasPrefix(lq, "set "):
			c.Set += calls
		case lq == "begin" || lq == "commit" || lq == "rollback" || strings.HasPrefix(lq, "begin "):
			c.Txn += calls
		default:
			c.User += calls
		}
	}
	return c, rows.Err()
}

func pgxConnector(tb testing.TB, dsn string) driver.Connector {
	tb.Helper()
	return stdlib.GetConnector(*pgxConfig(tb, dsn))
}

func pqConnector(tb testing.TB, dsn string) driver.Connector {
	tb.Helper()
	c, err := pq.NewConnector(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func openTenantpath(tb testing.TB, base driver.Connector, naming tenantpath.Naming, opts ...tenantpath.Option) *sql.DB {
	tb.Helper()
	db, err := tenantpath.OpenDB(base, append([]tenantpath.Option{tenantpath.WithNaming(naming)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return db
}
