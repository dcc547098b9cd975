package tenantpgx_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// typeMatrix is one row of every kind of column a result can hold, NULLs
// included, in the same order in every tenant.
const typeMatrix = `
CREATE TYPE %[1]s.mood AS ENUM ('happy', 'sad');
CREATE TYPE %[1]s.pair AS (a int, b text);
CREATE TABLE %[1]s.matrix AS SELECT
	%[2]s::text AS tenant, 1::int2 AS i2, 2::int4 AS i4, 3000000000::int8 AS i8,
	1.5::float4 AS f4, 2.25::float8 AS f8, 12345.678901::numeric(12, 6) AS num,
	true AS b, 'text'::text AS t, 'varchar'::varchar(20) AS vc, 'c'::char(3) AS ch,
	'\xdeadbeef'::bytea AS ba,
	'2026-12-01'::date AS d, '12:34:56.789'::time AS tm, '2026-12-01 12:34:56.789'::timestamp AS ts,
	'2026-12-01 12:34:56.789+02'::timestamptz AS tstz, '1 day 02:03:04'::interval AS iv,
	'6f1f3b8e-4b1a-4b7e-9a63-3c6a4f1d2e0a'::uuid AS u,
	'{"a": [1, 2]}'::json AS js, '{"a": [1, 2]}'::jsonb AS jsb,
	ARRAY[1, 2, 3]::int4[] AS ai, ARRAY['x', NULL, 'z']::text[] AS at,
	'192.168.0.1/24'::inet AS ip, 'happy'::%[1]s.mood AS en, ROW(1, 'one')::%[1]s.pair AS comp,
	NULL::int4 AS n_i4, NULL::text AS n_t, NULL::timestamptz AS n_tstz, NULL::bytea AS n_ba;
CREATE TABLE %[1]s.big AS SELECT g AS id, repeat(md5(g::text || %[2]s), 20) AS body FROM generate_series(1, 5000) g;`

type result struct {
	cols  []string
	types []string // name, database type, scan type, length, precision, nullable
	rows  [][]any
}

func read(t *testing.T, ctx context.Context, db *sql.DB, query string, args ...any) result {
	t.Helper()
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var r result
	r.cols, _ = rows.Columns()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range cts {
		length, okL := ct.Length()
		prec, scale, okP := ct.DecimalSize()
		null, okN := ct.Nullable()
		r.types = append(r.types, fmt.Sprint(ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), length, okL, prec, scale, okP, null, okN))
	}
	for rows.Next() {
		vals := make([]any, len(r.cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r.rows = append(r.rows, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return r
}

// Results through tenantpgx are pgx's own: the same values of the same Go
// types, the same column types, the same RowsAffected and the same error
// types, whether the switch was carried or not, in pgx's default mode and
// with the simple protocol (whose queries the carrier sends in the
// extended form).
func TestResultsAreStdlibs(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	for _, id := range []string{"10", "11"} {
		e.Exec(fmt.Sprintf(typeMatrix, tenantpath.QuoteIdentifier(e.Schema(id)), tenantpath.QuoteLiteral(id)))
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg, err := pgx.ParseConfig(pgtest.DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			cfg.DefaultQueryExecMode = mode
			plain := sql.OpenDB(stdlib.GetConnector(*cfg))
			defer plain.Close()
			routed, err := tenantpgx.OpenDB(*cfg, tenantpath.WithNaming(e.Naming))
			if err != nil {
				t.Fatal(err)
			}
			defer routed.Close()
			routed.SetMaxOpenConns(1) // every tenant change below is a switch
			bg := context.Background()
			for _, id := range []string{"10", "11", "10", "11"} {
				ctx := tenantpath.WithTenant(bg, id)
				s := tenantpath.QuoteIdentifier(e.Schema(id))
				for _, q := range []struct{ plain, routed string }{
					{"SELECT * FROM " + s + ".matrix WHERE $1::int = 1", "SELECT * FROM matrix WHERE $1::int = 1"},
					{"SELECT * FROM " + s + ".big WHERE id > $1 ORDER BY id", "SELECT * FROM big WHERE id > $1 ORDER BY id"},
				} {
					want := read(t, bg, plain, q.plain, 1)
					got := read(t, ctx, routed, q.routed, 1)
					if !reflect.DeepEqual(got, want) {
						diff(t, q.routed, got, want)
					}
				}
				if n := affected(t, ctx, routed, "UPDATE big SET body = body WHERE id <= $1", 7); n != 7 {
					t.Fatalf("RowsAffected %d, want 7", n)
				}
				_, err := routed.ExecContext(ctx, "SELECT 1/0 WHERE $1::int = 1", 1)
				var pgErr *pgconn.PgError
				if !errors.As(err, &pgErr) || pgErr.Code != "22012" {
					t.Fatalf("error %T %v, want a *pgconn.PgError 22012", err, err)
				}
			}
		})
	}
}

func affected(t *testing.T, ctx context.Context, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	res, err := db.ExecContext(ctx, q, args...)
	if err != nil {
		t.Fatal(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func diff(t *testing.T, q string, got, want result) {
	t.Helper()
	if !reflect.DeepEqual(got.types, want.types) {
		t.Fatalf("%s: column types\n got %v\nwant %v", q, got.types, want.types)
	}
	if len(got.rows) != len(want.rows) {
		t.Fatalf("%s: %d rows, want %d", q, len(got.rows), len(want.rows))
	}
	for i := range want.rows {
		for j := range want.rows[i] {
			g, w := got.rows[i][j], want.rows[i][j]
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("%s: row %d column %s: got %T %v, want %T %v", q, i, want.cols[j], g, g, w, w)
			}
		}
	}
	t.Fatalf("%s: results differ: %s", q, strings.Join(got.cols, ","))
}
