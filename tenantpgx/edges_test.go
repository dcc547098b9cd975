package tenantpgx_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

// pgx's CopyFrom returns early, without TraceCopyFromEnd, when it cannot
// describe the target table (a table the tenant lacks). The calls after it
// on that connection are still routed: they are not taken for calls pgx
// makes inside the CopyFrom, since they do not carry its context.
func TestCopyFromThatCannotDescribeLeavesRoutingIntact(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	e.Exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.Schema("10")) + ".extra (v text)")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	if got := tenantOf(t, ten, pool); got != "10" {
		t.Fatalf("tenant 10 read %q", got)
	}
	// Tenant 11 has no table "extra": pgx fails describing it.
	if _, err := pool.CopyFrom(eleven, pgx.Identifier{"extra"}, []string{"v"}, pgx.CopyFromRows([][]any{{"x"}})); err == nil {
		t.Fatal("CopyFrom into a table tenant 11 lacks succeeded")
	}
	if got := tenantOf(t, eleven, pool); got != "11" {
		t.Errorf("after a failed CopyFrom, tenant 11 read %q", got)
	}
	if _, err := pool.Exec(bg, "INSERT INTO notes VALUES ('none')"); !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Errorf("after a failed CopyFrom, a call without a tenant: %v", err)
	}
	if n := countNotes(t, e, "10", "none"); n != 0 {
		t.Errorf("the call without a tenant wrote %d rows into tenant 10's schema", n)
	}
}

// The same early return from two more ordinary triggers: a CopyFrom for a
// tenant whose schema does not exist (the carried switch fails the
// describe), and a CopyFrom on an acquired connection whose context is
// already cancelled (pgconn.Prepare returns before writing, the
// connection stays healthy and goes back to the pool).
func TestCopyFromEarlyReturns(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	t.Run("unknown tenant", func(t *testing.T) {
		pool := newPool(t, e, pgtest.DSN(t), 1, nil)
		tenantOf(t, ten, pool)
		if _, err := pool.CopyFrom(tenantpath.WithTenant(bg, "99"), pgx.Identifier{"notes"}, []string{"tenant"}, pgx.CopyFromRows([][]any{{"99"}})); err == nil {
			t.Fatal("CopyFrom for a tenant without a schema succeeded")
		}
		if got := tenantOf(t, eleven, pool); got != "11" {
			t.Errorf("after a CopyFrom for an unknown tenant, tenant 11 read %q", got)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		pool := newPool(t, e, pgtest.DSN(t), 1, nil)
		c := acquire(t, pool, ten)
		tenantOf(t, ten, c)
		cctx, cancel := context.WithCancel(ten)
		cancel()
		if _, err := c.CopyFrom(cctx, pgx.Identifier{"notes"}, []string{"tenant"}, pgx.CopyFromRows([][]any{{"10"}})); err == nil {
			t.Fatal("CopyFrom with a cancelled context succeeded")
		}
		c.Release()
		if got := tenantOf(t, eleven, pool); got != "11" {
			t.Errorf("after a cancelled CopyFrom, tenant 11 read %q", got)
		}
	})
}

// A statement prepared by name (conn.Prepare) is executed by its name, and
// pgx hands the tracer the name, not the SQL: the connection remembers the
// SQL of such statements, so a path change inside one is seen, and the next
// call for the tenant sets its path again.
func TestNamedPreparedStatementsPathChangeIsSeen(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten := tenantpath.WithTenant(bg, "10")
	c := acquire(t, pool, ten)
	defer c.Release()
	if _, err := c.Conn().Prepare(ten, "move", "SELECT pg_catalog.set_config('search_path', $1, false)"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ten, "move", tenantpath.QuoteIdentifier(e.Schema("11"))); err != nil {
		t.Fatal(err)
	}
	if got := tenantOf(t, ten, c); got != "10" {
		t.Errorf("after a prepared statement set the path, tenant 10 read %q", got)
	}
}

// A call that both opens a transaction block and moves the path ("BEGIN;
// SET LOCAL search_path …", or a batch of the two) is observed before the
// transaction exists (it is made at the next call, from the server's
// status): the transaction then starts with its path in doubt, and its
// first call for the tenant sets the path again.
func TestPathChangeInTheCallThatBegins(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten := tenantpath.WithTenant(bg, "10")
	other := tenantpath.QuoteIdentifier(e.Schema("11"))

	t.Run("multi-statement", func(t *testing.T) {
		c := acquire(t, pool, ten)
		defer c.Release()
		if _, err := c.Exec(ten, "BEGIN; SET LOCAL search_path TO "+other); err != nil {
			t.Fatal(err)
		}
		defer c.Exec(bg, "ROLLBACK")
		if got := tenantOf(t, ten, c); got != "10" {
			t.Errorf("in the transaction tenant 10 began, tenant 10 read %q", got)
		}
	})
	t.Run("batch", func(t *testing.T) {
		c := acquire(t, pool, ten)
		defer c.Release()
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue("SELECT pg_catalog.set_config('search_path', $1, true)", other)
		if err := c.SendBatch(ten, b).Close(); err != nil {
			t.Fatal(err)
		}
		defer c.Exec(bg, "ROLLBACK")
		if got := tenantOf(t, ten, c); got != "10" {
			t.Errorf("in the transaction tenant 10 began, tenant 10 read %q", got)
		}
	})
}

// The switch to tenant 10 travels with BEGIN, inside the transaction
// block. ROLLBACK AND CHAIN (a lone transaction-control statement, run
// unrouted) undoes it and opens a new block on the path the connection had
// before: tenant 11's. Tenant calls are then refused; a call for the base
// path runs in the transaction's scope, so tenant 10's path is set again
// for it and it never reads tenant 11's rows.
func TestRollbackAndChainThenBasePath(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	if got := tenantOf(t, eleven, pool); got != "11" { // the connection is on 11
		t.Fatalf("tenant 11 read %q", got)
	}
	tx, err := pool.Begin(ten)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(bg)
	if got := tenantOf(t, ten, tx); got != "10" {
		t.Fatalf("in tenant 10's transaction read %q", got)
	}
	if _, err := tx.Exec(ten, "ROLLBACK AND CHAIN"); err != nil {
		t.Fatal(err)
	}
	var got *string
	err = tx.QueryRow(tenantpath.WithBasePath(bg), "SELECT string_agg(DISTINCT tenant, ',') FROM notes").Scan(&got)
	if err == nil && got != nil && *got == "11" {
		t.Errorf("a base-path call in tenant 10's transaction read tenant 11's rows")
	}
}

// In a transaction tenant 10 began, the odd spellings of the
// transaction-control bypass run under a context without a tenant, and
// what follows for tenant 10 is either refused or reads tenant 10's rows,
// never tenant 11's (the connection was on 11 before BEGIN) or the shared
// schema's; the same words with a statement smuggled behind them are
// refused without a tenant.
func TestTxControlSpellings(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	for _, q := range []string{"commit /* */", "COMMIT;", "end transaction", "commit and chain", "abort", "rollback work"} {
		tenantOf(t, eleven, pool)
		tx, err := pool.Begin(ten)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(bg, q); err != nil {
			t.Fatalf("%q without a tenant: %v", q, err)
		}
		var got *string
		err = tx.QueryRow(ten, tptest.TenantsSeen).Scan(&got)
		if err == nil && (got == nil || *got != "10") {
			t.Errorf("after %q, tenant 10 read %v", q, deref(got))
		}
		tx.Rollback(bg)
	}
	for _, q := range []string{"commit /* */ ; SELECT 1", "end transaction; INSERT INTO notes VALUES ('x')", "rollback and chain; select 1"} {
		c := acquire(t, pool, ten)
		if _, err := c.Exec(bg, q); !errors.Is(err, tenantpath.ErrNoTenant) {
			t.Errorf("%q without a tenant: %v", q, err)
		}
		c.Release()
	}
}

// The path change of the named prepared statement above is seen
// when the same SQL is sent as text, and, inside a transaction, a path
// change in a call of its own makes the next tenant call set the path
// again; a statement prepared by name under tenant 10 and executed with
// tenant 11's context reads tenant 11 (re-planned for the new path).
func TestPathChangesSeenAsText(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	other := tenantpath.QuoteIdentifier(e.Schema("11"))
	c := acquire(t, pool, ten)
	defer c.Release()
	tenantOf(t, ten, c)
	if _, err := c.Exec(ten, "SELECT pg_catalog.set_config('search_path', $1, false)", other); err != nil {
		t.Fatal(err)
	}
	if got := tenantOf(t, ten, c); got != "10" {
		t.Errorf("after set_config as text, tenant 10 read %q", got)
	}
	if _, err := c.Exec(ten, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ten, "SET LOCAL search_path TO "+other); err != nil {
		t.Fatal(err)
	}
	if got := tenantOf(t, ten, c); got != "10" {
		t.Errorf("after SET LOCAL in its own call, tenant 10 read %q", got)
	}
	if _, err := c.Exec(bg, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Conn().Prepare(ten, "seen", tptest.TenantsSeen); err != nil {
		t.Fatal(err)
	}
	var got *string
	if err := c.QueryRow(eleven, "seen").Scan(&got); err != nil || got == nil || *got != "11" {
		t.Errorf("a statement prepared under 10, run for 11, read %v (%v)", got, err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// In every QueryExecMode, a statement that fails for tenant 11 (a
// table only tenant 10 has), and a batch that fails half-way, leave no
// later call on the wrong path and write nothing.
func TestFailuresAcrossExecModes(t *testing.T) {
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe,
		pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			e := tptest.NewEnv(t, "10", "11")
			e.Exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.Schema("10")) + ".extra (v text)")
			pool := newPool(t, e, pgtest.DSN(t), 1, func(c *pgxpool.Config) { c.ConnConfig.DefaultQueryExecMode = mode })
			bg := context.Background()
			ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
			for range 2 {
				if got := tenantOf(t, ten, pool); got != "10" {
					t.Fatalf("tenant 10 read %q", got)
				}
				if _, err := pool.Exec(eleven, "SELECT v FROM extra WHERE v = $1", "x"); err == nil {
					t.Fatal("tenant 11 read a table it lacks")
				}
				if got := tenantOf(t, ten, pool); got != "10" {
					t.Fatalf("after tenant 11's failure, tenant 10 read %q", got)
				}
				b := &pgx.Batch{}
				b.Queue("INSERT INTO notes VALUES ($1)", "batch")
				b.Queue("SELECT 1/0")
				if err := pool.SendBatch(eleven, b).Close(); err == nil {
					t.Fatal("a batch dividing by zero succeeded")
				}
				if got := tenantOf(t, ten, pool); got != "10" {
					t.Fatalf("after tenant 11's failed batch, tenant 10 read %q", got)
				}
				if got := tenantOf(t, eleven, pool); got != "11" {
					t.Fatalf("tenant 11 read %q", got)
				}
			}
			if n := countNotes(t, e, "11", "batch") + countNotes(t, e, "10", "batch"); n != 0 {
				t.Fatalf("%d rows of a failed batch", n)
			}
		})
	}
}

// A statement prepared under a name that reads as a transaction-control
// word runs by that name: it is routed by its SQL, not let through as a
// COMMIT would be, so without a tenant it is refused and writes nothing.
func TestPreparedStatementNamedLikeCommit(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten := tenantpath.WithTenant(bg, "10")
	c := acquire(t, pool, ten)
	if _, err := c.Conn().Prepare(ten, "commit", "INSERT INTO notes VALUES ('named')"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(bg, "commit"); !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Errorf("running the statement named commit without a tenant: %v, want ErrNoTenant", err)
	}
	c.Release() // the pool has one connection
	var n int
	if err := pool.QueryRow(ten, "SELECT count(*) FROM notes WHERE tenant = 'named'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the refused statement wrote %d rows", n)
	}
}

// The database/sql form of ROLLBACK AND CHAIN over tenantpgx.OpenDB: the
// switch also travels with BEGIN there, and a base-path call after it runs
// on the transaction's tenant, never on the path from before BEGIN.
func TestRollbackAndChainThenBasePathDatabaseSQL(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	cfg, err := pgx.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	db, err := tenantpgx.OpenDB(*cfg, tenantpath.WithNaming(e.Naming))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	bg := context.Background()
	ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
	var got *string
	if err := db.QueryRowContext(eleven, tptest.TenantsSeen).Scan(&got); err != nil || deref(got) != "11" {
		t.Fatalf("tenant 11 read %q (%v)", deref(got), err)
	}
	tx, err := db.BeginTx(ten, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ten, "ROLLBACK AND CHAIN"); err != nil {
		t.Fatal(err)
	}
	got = nil
	err = tx.QueryRowContext(tenantpath.WithBasePath(bg), tptest.TenantsSeen).Scan(&got)
	if err == nil && deref(got) == "11" {
		t.Errorf("a base-path call in tenant 10's transaction read tenant 11's rows")
	}
}

// In every exec mode, a call without a tenant or with an invalid one is
// refused with tenantpath's error, and nothing it would have written lands
// anywhere, though pgx first prepares or describes the statement (a call
// inside the refused one, which must not lift the refusal).
func TestRefusalsInEveryExecMode(t *testing.T) {
	for _, mode := range carriedModes {
		t.Run(mode.String(), func(t *testing.T) {
			e := tptest.NewEnv(t, "10")
			pool := newPool(t, e, pgtest.DSN(t), 1, func(cfg *pgxpool.Config) {
				cfg.ConnConfig.DefaultQueryExecMode = mode
			})
			bg := context.Background()
			ten := tenantpath.WithTenant(bg, "10")
			tenantOf(t, ten, pool) // the connection is on tenant 10
			for _, c := range []struct {
				name string
				ctx  context.Context
				want error
			}{
				{"no tenant", bg, tenantpath.ErrNoTenant},
				{"invalid tenant", tenantpath.WithTenant(bg, "Acme"), tenantpath.ErrInvalidTenant},
			} {
				if _, err := pool.Exec(c.ctx, "INSERT INTO notes VALUES ($1)", "refused-exec"); !errors.Is(err, c.want) {
					t.Errorf("%s: Exec: %v, want %v", c.name, err, c.want)
				}
				if _, err := pool.CopyFrom(c.ctx, pgx.Identifier{"notes"}, []string{"tenant"}, pgx.CopyFromRows([][]any{{"refused-copy"}})); !errors.Is(err, c.want) {
					t.Errorf("%s: CopyFrom: %v, want %v", c.name, err, c.want)
				}
				var one int
				if err := pool.QueryRow(c.ctx, "SELECT count(*) FROM notes WHERE tenant = $1", "x").Scan(&one); !errors.Is(err, c.want) {
					t.Errorf("%s: QueryRow: %v, want %v", c.name, err, c.want)
				}
			}
			var n int
			if err := pool.QueryRow(ten, "SELECT count(*) FROM notes WHERE tenant LIKE 'refused%'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("refused calls wrote %d rows into tenant 10's schema", n)
			}
		})
	}
}

// contextDropper is a user's tracer that returns a context of its own
// instead of one derived from the call's, which pgx then passes down to the
// calls it makes inside that call.
type contextDropper struct{}

func (contextDropper) TraceQueryStart(context.Context, *pgx.Conn, pgx.TraceQueryStartData) context.Context {
	return context.Background()
}
func (contextDropper) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A user's tracer that drops the call's context does not open a hole: the
// calls pgx makes inside the call are then taken for new ones and routed on
// their own (under no tenant, refused), never run unrouted; calls for a
// tenant that pgx does not nest read their tenant.
func TestUserTracerDroppingTheContext(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.Tracer = contextDropper{}
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec // nothing nested
	})
	bg := context.Background()
	for _, id := range []string{"10", "11", "10"} {
		if got := tenantOf(t, tenantpath.WithTenant(bg, id), pool); got != id {
			t.Errorf("tenant %s read %q", id, got)
		}
	}
	if _, err := pool.Exec(bg, "INSERT INTO notes VALUES ('none')"); !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Errorf("a call without a tenant: %v, want ErrNoTenant", err)
	}
	cached := newPool(t, e, pgtest.DSN(t), 1, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.Tracer = contextDropper{}
	})
	ten := tenantpath.WithTenant(bg, "10")
	for i := range 3 {
		// pgx prepares a new statement inside the call, under the context
		// the user's tracer returned: the call fails, and runs nowhere.
		_, err := cached.Exec(ten, fmt.Sprintf("INSERT INTO notes SELECT 'nested-%d'", i))
		if err == nil {
			continue // if it ran, it must have run on tenant 10's path (checked below)
		}
		if !errors.Is(err, tenantpath.ErrNoTenant) {
			t.Errorf("a nested call under a dropped context: %v", err)
		}
	}
	var wrong int
	if err := pool.QueryRow(tenantpath.WithTenant(bg, "11"), "SELECT count(*) FROM notes WHERE tenant LIKE 'nested-%'").Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d rows of tenant 10's calls landed in tenant 11's schema", wrong)
	}
	var got *string
	err := cached.QueryRow(tenantpath.WithTenant(bg, "11"), tptest.TenantsSeen).Scan(&got)
	if err == nil && deref(got) != "11" || err != nil && !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Errorf("after the nested calls, tenant 11 read %q (%v)", deref(got), err)
	}
}
