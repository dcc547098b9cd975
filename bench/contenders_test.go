package bench

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

// querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// runStatements runs the first n statements of a request (1: the point
// select; 5: the whole request) for row id.
func runStatements(ctx context.Context, q querier, stmts *[5]string, n, id int) error {
	var name string
	if err := q.QueryRowContext(ctx, stmts[0], id).Scan(&name); err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	rows, err := q.QueryContext(ctx, stmts[1], id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var rid int
		if err := rows.Scan(&rid, &name); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var count int64
	if err := q.QueryRowContext(ctx, stmts[2], 1<<30).Scan(&count); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, stmts[3], id); err != nil {
		return err
	}
	var hits int
	return q.QueryRowContext(ctx, stmts[4], id).Scan(&hits)
}

// A contender is one way of running a tenant's request. open gets the DSN
// of the link the scenario runs over (loopback or the delaying proxy).
type contender struct {
	name string
	open func(tb testing.TB, dsn string) *sql.DB
	// openPool, if set, replaces open for a contender that owns its pool
	// (tenantpath.Pool): it gets the scenario's pool size, and
	// database/sql's own pool is left as OpenDB set it.
	openPool func(tb testing.TB, dsn string, size int) *sql.DB
	run      func(db *sql.DB, t *tenantSQL, n, id int) error
}

var bg = context.Background()

// contenders run in this order in every scenario of BenchmarkRoute (and in
// reverse every other round). bench/cmd/report reads their names from the
// results; a name it has no description for is listed as it is.
var contenders = []contender{
	{
		// 1. No routing at all: schema-qualified statements.
		name: "raw-pgx",
		open: func(tb testing.TB, dsn string) *sql.DB { return sql.OpenDB(pgxConnector(tb, dsn)) },
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			return runStatements(bg, db, &t.qualified, n, id)
		},
	},
	{
		// 2. Check out a connection, SET search_path, run, return it.
		name: "set-conn",
		open: func(tb testing.TB, dsn string) *sql.DB { return sql.OpenDB(pgxConnector(tb, dsn)) },
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			c, err := db.Conn(bg)
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.ExecContext(bg, t.set); err != nil {
				return err
			}
			return runStatements(bg, c, &t.plain, n, id)
		},
	},
	{
		// 3. A transaction with SET LOCAL search_path around the request.
		name: "set-local-tx",
		open: func(tb testing.TB, dsn string) *sql.DB { return sql.OpenDB(pgxConnector(tb, dsn)) },
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			tx, err := db.BeginTx(bg, nil)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(bg, t.setLocal); err != nil {
				tx.Rollback()
				return err
			}
			if err := runStatements(bg, tx, &t.plain, n, id); err != nil {
				tx.Rollback()
				return err
			}
			return tx.Commit()
		},
	},
	// 4. tenantpath over pgx.
	routedSharedDB("tenantpath-pgx", func(tb testing.TB, dsn string) (*sql.DB, error) {
		return tenantpath.OpenDB(pgxConnector(tb, dsn), tenantpath.WithNaming(fixtureNaming))
	}),
	{
		// 4, with the request's statements on one connection: db.Conn per
		// request, as contender 2 does, so a request switches at most once.
		name: "tenantpath-pgx-conn",
		open: func(tb testing.TB, dsn string) *sql.DB {
			return openTenantpath(tb, pgxConnector(tb, dsn), fixtureNaming)
		},
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			c, err := db.Conn(t.ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			return runStatements(t.ctx, c, &t.plain, n, id)
		},
	},
	{
		// The floor for lib/pq: schema-qualified statements over lib/pq.
		name: "raw-pq",
		open: func(tb testing.TB, dsn string) *sql.DB { return sql.OpenDB(pqConnector(tb, dsn)) },
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			return runStatements(bg, db, &t.qualified, n, id)
		},
	},
	// 4. tenantpath over lib/pq.
	routedSharedDB("tenantpath-pq", func(tb testing.TB, dsn string) (*sql.DB, error) {
		return tenantpath.OpenDB(pqConnector(tb, dsn), tenantpath.WithNaming(fixtureNaming))
	}),

	// 6. tenantpath over pgx through tenantpgx.GetConnector: the switch
	// travels in the statement's own network write.
	routedSharedDB("tenantpgx-pgx", func(tb testing.TB, dsn string) (*sql.DB, error) {
		return tenantpgx.OpenDB(*pgxConfig(tb, dsn), tenantpath.WithNaming(fixtureNaming))
	}),

	// 7. The same with tenantpath.Pool(n): a call gets a connection already
	// on its tenant's path (its request's last one first), so a request
	// switches about once, and that switch rides on its statement. A
	// context per request, cancelled when it ends, as a handler gets.
	{
		name: "tenantpgx-pgx-pool",
		openPool: func(tb testing.TB, dsn string, size int) *sql.DB {
			db, err := tenantpgx.OpenDB(*pgxConfig(tb, dsn), tenantpath.WithNaming(fixtureNaming), tenantpath.Pool(size))
			if err != nil {
				tb.Fatalf("tenantpgx-pgx-pool: %v", err)
			}
			return db
		},
		run: runRequest,
	},

	// ─── More routing contenders go here, one line each ───────────────────
	// A routed *sql.DB with the tenant in the context, every statement on
	// the shared *sql.DB: routedSharedDB(name, open). bench/cmd/report
	// needs a line in its contenderDocs for a new name.
}

// routedSharedDB is a contender that routes through a *sql.DB that open
// builds: the tenant goes in the context and every statement of a request
// runs on the shared *sql.DB, as the README shows.
func routedSharedDB(name string, open func(tb testing.TB, dsn string) (*sql.DB, error)) contender {
	return contender{
		name: name,
		open: func(tb testing.TB, dsn string) *sql.DB {
			tb.Helper()
			db, err := open(tb, dsn)
			if err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			return db
		},
		run: func(db *sql.DB, t *tenantSQL, n, id int) error {
			return runStatements(t.ctx, db, &t.plain, n, id)
		},
	}
}

// pgxConfig parses dsn for pgx.
func pgxConfig(tb testing.TB, dsn string) *pgx.ConnConfig {
	tb.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}
