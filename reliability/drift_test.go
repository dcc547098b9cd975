package reliability_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// driftEnv has tenants at two schema versions, as in the middle of a
// rollout: "10" and "12" at version N (notes: id, tenant), "11" and "13" at
// N+1 (a column added). Each tenant also has its own enum type `mood`,
// created in its own schema, so its OID differs from every other tenant's,
// and the labels differ by version.
func newDriftEnv(t *testing.T) *tptest.Env {
	t.Helper()
	e := tptest.NewEnv(t)
	for _, id := range []string{"10", "11", "12", "13"} {
		s := tenantpath.QuoteIdentifier(e.Schema(id))
		newer := id == "11" || id == "13"
		labels := "'happy', 'sad'"
		extra := ""
		if newer {
			labels = "'happy', 'sad', 'meh'"
			extra = ", extra int NOT NULL DEFAULT 7"
		}
		e.Exec(fmt.Sprintf(`CREATE SCHEMA %[1]s;
			CREATE TYPE %[1]s.mood AS ENUM (%[2]s);
			CREATE TABLE %[1]s.notes (id int, tenant text, mood %[1]s.mood%[3]s);
			INSERT INTO %[1]s.notes VALUES (1, %[4]s, 'happy')`, s, labels, extra, tenantpath.QuoteLiteral(id)))
	}
	return e
}

// selectAll runs `SELECT *` and returns the column names and the tenant
// column of its one row.
func selectAll(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) (cols []string, tenant string, err error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	if cols, err = rows.Columns(); err != nil {
		return nil, "", err
	}
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, "", err
		}
		for i, c := range cols {
			if c == "tenant" {
				tenant = fmt.Sprint(vals[i])
			}
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if n != 1 {
		return nil, "", fmt.Errorf("%d rows, want 1", n)
	}
	return cols, tenant, nil
}

func wantCols(id string) string {
	if id == "11" || id == "13" {
		return "id,tenant,mood,extra"
	}
	return "id,tenant,mood"
}

// With pgx's default statement cache, a `SELECT *` prepared on one
// tenant's path and run on another of a different version fails with
// "cached plan must not change result type" (SQLSTATE 0A000). Outside a
// transaction the driver retries it once, on the new path, and the result
// is the new tenant's, with its columns. lib/pq prepares nothing across
// calls; the same workload must give the same right answers there.
func TestSchemaDriftOutsideTransactions(t *testing.T) {
	e := newDriftEnv(t)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		rec := &tptest.Recorder{Connector: bd.Connector(t, pgtest.DSN(t), false)}
		db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(e.Naming))
		db.SetMaxOpenConns(1) // one connection, one statement cache: every switch drifts
		ctx := context.Background()
		queries := []struct {
			sql  string
			args []any
		}{
			// The mood column is of each tenant's own enum type, so even
			// tenants at the same version (10 and 12) drift: the result
			// type's OID differs.
			{"SELECT * FROM notes WHERE id >= $1", []any{0}},
			{"SELECT *, mood::text AS label FROM notes WHERE mood::text = $1", []any{"happy"}},
		}
		var ops, failures int
		order := []string{"10", "11", "10", "12", "13", "11", "11", "10", "13", "12"}
		for round := range 5 {
			for _, id := range order {
				for _, q := range queries {
					ops++
					cols, got, err := selectAll(tenantpath.WithTenant(ctx, id), db, q.sql, q.args...)
					if err != nil {
						failures++
						t.Errorf("round %d, tenant %s, %s: %v", round, id, q.sql, err)
						continue
					}
					want := wantCols(id)
					if strings.HasSuffix(q.sql, "= $1") && strings.Contains(q.sql, "label") {
						want += ",label"
					}
					if got != id || strings.Join(cols, ",") != want {
						failures++
						t.Errorf("round %d, tenant %s, %s: columns %v, tenant %q; want %s of %q", round, id, q.sql, cols, got, want, id)
					}
				}
			}
		}
		stmts := rec.Take()
		sent := 0
		for _, s := range stmts {
			if !tptest.IsSwitch(s) {
				sent++
			}
		}
		t.Logf("schema drift outside transactions, %s: %d statements over 4 tenants at 2 versions, %d sent to the server (%d retries), %d wrong or failed",
			bd.Name, ops, sent, sent-ops, failures)
		if bd.Name == "pgx" && sent == ops {
			t.Fatal("no statement was retried: pgx's statement cache never drifted, so the scenario did not happen")
		}
	})
}

// Inside a transaction a drifted statement cannot be retried (the error
// aborted the transaction): it is returned as a *SchemaDriftError that
// explains what happened and unwraps to the driver's error.
func TestSchemaDriftInsideTransaction(t *testing.T) {
	e := newDriftEnv(t)
	db := e.OpenOn(t, tptest.PGX, pgtest.DSN(t), false)
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	const q = "SELECT * FROM notes WHERE id >= $1"
	if _, got, err := selectAll(tenantpath.WithTenant(ctx, "10"), db, q, 0); err != nil || got != "10" {
		t.Fatalf("tenant 10: %q, %v", got, err)
	}
	in11 := tenantpath.WithTenant(ctx, "11")
	tx, err := db.BeginTx(in11, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, _, err = selectAll(in11, tx, q, 0)
	var drift *tenantpath.SchemaDriftError
	if !errors.As(err, &drift) {
		t.Fatalf("drifted statement in a transaction: err = %T %v, want a *tenantpath.SchemaDriftError", err, err)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "0A000" {
		t.Fatalf("SchemaDriftError does not unwrap to the driver's 0A000 error: %v", err)
	}
	if !drift.InTx || !strings.Contains(err.Error(), "transaction") || !strings.Contains(err.Error(), "cached plan must not change result type") {
		t.Fatalf("the message does not explain: %v (InTx %v)", err, drift.InTx)
	}
	t.Logf("schema drift inside a transaction: %v", err)
	tx.Rollback()
	// Retrying the whole transaction works.
	tx, err = db.BeginTx(in11, nil)
	if err != nil {
		t.Fatal(err)
	}
	cols, got, err := selectAll(in11, tx, q, 0)
	if err != nil || got != "11" || strings.Join(cols, ",") != wantCols("11") {
		t.Fatalf("retried transaction: %v %q %v", cols, got, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
