package migrator_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/migrator"
)

// timeoutDB opens a pool whose sessions carry a server setting (as a DBA's
// ALTER ROLE … SET would), through the libpq "options" parameter that both
// pgx and lib/pq pass to the server.
func timeoutDB(t *testing.T, driverName, setting string) *sql.DB {
	t.Helper()
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	// %20, not "+", for the space: pgx does not read "+" as a space.
	u.RawQuery += "&options=" + strings.ReplaceAll(url.QueryEscape("-c "+setting), "+", "%20")
	db, err := sql.Open(driverName, u.String())
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { db.Close() })
	return db
}

// timeoutFS: version 1 makes notes; version 2 adds a column and then, in
// the schema whose name ends in "slow" only, runs for a second.
func timeoutFS() fstest.MapFS {
	return fstest.MapFS{
		"tenant_migrations/0001_notes.up.sql": {Data: []byte("CREATE TABLE notes (id bigserial PRIMARY KEY, body text);\n")},
		"tenant_migrations/0002_flag.up.sql": {Data: []byte(`ALTER TABLE notes ADD COLUMN flag boolean NOT NULL DEFAULT false;
SELECT pg_sleep(CASE WHEN current_schema() LIKE '%slow' THEN 1 ELSE 0 END);
`)},
	}
}

func schemaVersions(t *testing.T, db *sql.DB, schema string) []int64 {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf("SELECT version FROM %s.%s ORDER BY version",
		tenantpath.QuoteIdentifier(schema), tenantpath.QuoteIdentifier(migrator.DefaultVersionTable)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func columnExists(t *testing.T, db *sql.DB, schema, table, column string) bool {
	t.Helper()
	var ok bool
	if err := db.QueryRow(`SELECT EXISTS (SELECT FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2 AND column_name = $3)`, schema, table, column).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// checkStuck checks one tenant's failed run: reported with the server's
// SQLSTATE, still at version 1 in its result and its version table, and
// nothing of migration 2 left behind.
func checkStuck(t *testing.T, admin *sql.DB, res []migrator.Result, runErr error, schema, wantState string) {
	t.Helper()
	var pe *migrator.PartialError
	if !errors.As(runErr, &pe) || len(pe.Failed) != 1 || pe.Failed[0].Schema != schema {
		t.Fatalf("run error = %v, want a PartialError naming %s alone", runErr, schema)
	}
	var r *migrator.Result
	for i := range res {
		if res[i].Schema == schema {
			r = &res[i]
		} else if res[i].Err != nil || res[i].To != 2 {
			t.Errorf("tenant %s: to %d, err %v; want version 2", res[i].Tenant, res[i].To, res[i].Err)
		}
	}
	if r == nil {
		t.Fatalf("no result for %s in %+v", schema, res)
	}
	var me *migrator.MigrationError
	if !errors.As(r.Err, &me) || me.Version != 2 {
		t.Fatalf("%s: err = %v, want a MigrationError for version 2", schema, r.Err)
	}
	var coded interface{ SQLState() string }
	if !errors.As(r.Err, &coded) || coded.SQLState() != wantState {
		t.Fatalf("%s: err = %v, want SQLSTATE %s", schema, r.Err, wantState)
	}
	if r.From != 1 || r.To != 1 || len(r.Applied) != 0 {
		t.Fatalf("%s: result from %d to %d, %d applied; want 1 to 1, none applied", schema, r.From, r.To, len(r.Applied))
	}
	if got := schemaVersions(t, admin, schema); len(got) != 1 || got[0] != 1 {
		t.Fatalf("%s: version table %v, want [1]", schema, got)
	}
	if columnExists(t, admin, schema, "notes", "flag") {
		t.Fatalf("%s: migration 2's column is there although it failed", schema)
	}
}

// A migration cut off by statement_timeout leaves its tenant at the
// previous version, the run reports that tenant (with SQLSTATE 57014), and
// the other tenants go on; the next run, without the timeout, finishes it.
func TestMigrationStatementTimeout(t *testing.T) {
	for _, driverName := range []string{"pgx", "postgres"} {
		t.Run(driverName, func(t *testing.T) {
			ctx := context.Background()
			prefix := pgtest.UniquePrefix(t)
			naming := tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "shared"}}
			admin := timeoutDB(t, driverName, "statement_timeout=0")
			v1 := fstest.MapFS{"tenant_migrations/0001_notes.up.sql": timeoutFS()["tenant_migrations/0001_notes.up.sql"]}
			m1, err := migrator.New(admin, v1, naming)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"a", "b", "slow"} {
				if err := m1.Create(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			limited := timeoutDB(t, driverName, "statement_timeout=300")
			m2, err := migrator.New(limited, timeoutFS(), naming)
			if err != nil {
				t.Fatal(err)
			}
			res, err := m2.MigrateTenants(ctx, migrator.ContinueOnError())
			checkStuck(t, admin, res, err, prefix+"slow", "57014")
			t.Logf("statement_timeout, %s: %d tenants run, 1 failed and stayed at version 1: %v", driverName, len(res), err)

			m3, err := migrator.New(admin, timeoutFS(), naming)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m3.MigrateTenant(ctx, "slow"); err != nil {
				t.Fatalf("re-run without the timeout: %v", err)
			}
			if got := schemaVersions(t, admin, prefix+"slow"); len(got) != 2 {
				t.Fatalf("after the re-run: versions %v", got)
			}
		})
	}
}

// A migration that cannot get its table lock within lock_timeout (the
// application holds the table) leaves its tenant at the previous version
// and the run reports it (SQLSTATE 55P03); once the lock is gone, the next
// run finishes it.
func TestMigrationLockTimeout(t *testing.T) {
	for _, driverName := range []string{"pgx", "postgres"} {
		t.Run(driverName, func(t *testing.T) {
			ctx := context.Background()
			prefix := pgtest.UniquePrefix(t)
			naming := tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "shared"}}
			admin := timeoutDB(t, driverName, "lock_timeout=0")
			v1 := fstest.MapFS{"tenant_migrations/0001_notes.up.sql": timeoutFS()["tenant_migrations/0001_notes.up.sql"]}
			m1, err := migrator.New(admin, v1, naming)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"a", "b", "busy"} {
				if err := m1.Create(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			// The application holds tenant busy's table.
			holder, err := admin.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Rollback()
			if _, err := holder.Exec("LOCK TABLE " + tenantpath.QuoteIdentifier(prefix+"busy") + ".notes IN ACCESS SHARE MODE"); err != nil {
				t.Fatal(err)
			}

			limited := timeoutDB(t, driverName, "lock_timeout=300")
			m2, err := migrator.New(limited, timeoutFS(), naming)
			if err != nil {
				t.Fatal(err)
			}
			res, err := m2.MigrateTenants(ctx, migrator.ContinueOnError())
			checkStuck(t, admin, res, err, prefix+"busy", "55P03")
			t.Logf("lock_timeout, %s: %d tenants run, 1 failed and stayed at version 1: %v", driverName, len(res), err)

			if err := holder.Rollback(); err != nil {
				t.Fatal(err)
			}
			if _, err := m2.MigrateTenant(ctx, "busy"); err != nil {
				t.Fatalf("re-run after the lock was released: %v", err)
			}
			if got := schemaVersions(t, admin, prefix+"busy"); len(got) != 2 {
				t.Fatalf("after the re-run: versions %v", got)
			}
		})
	}
}
