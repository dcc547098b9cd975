package tenantpgx_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

// newPool returns a pgxpool configured by tenantpgx on dsn, closed when t
// ends.
func newPool(t *testing.T, e *tptest.Env, dsn string, maxConns int32, configure func(*pgxpool.Config), opts ...tenantpath.Option) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	if configure != nil {
		configure(cfg)
	}
	if err := tenantpgx.Configure(cfg, append([]tenantpath.Option{tenantpath.WithNaming(e.Naming)}, opts...)...); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// acquire takes a connection from pool for ctx, failing the test if it
// cannot; the caller releases it.
func acquire(t *testing.T, pool *pgxpool.Pool, ctx context.Context) *pgxpool.Conn {
	t.Helper()
	c, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func tenantOf(t *testing.T, ctx context.Context, q querier) string {
	t.Helper()
	var got *string
	if err := q.QueryRow(ctx, tptest.TenantsSeen).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		return ""
	}
	return *got
}

// DESIGN 6: every kind of pgx call on a configured pool runs under the
// tenant of its context, on one connection switching back and forth.
func TestConfiguredPoolRoutesEveryCall(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	for _, id := range []string{"10", "11", "10", "11"} {
		ctx := tenantpath.WithTenant(bg, id)
		if got := tenantOf(t, ctx, pool); got != id {
			t.Fatalf("QueryRow for %s read %q", id, got)
		}
		if _, err := pool.Exec(ctx, "INSERT INTO notes VALUES ($1)", id); err != nil {
			t.Fatal(err)
		}
		rows, err := pool.Query(ctx, "SELECT DISTINCT tenant FROM notes")
		if err != nil {
			t.Fatal(err)
		}
		seen, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(seen) != 1 || seen[0] != id {
			t.Fatalf("Query for %s read %v, %v", id, seen, err)
		}
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := tenantOf(t, ctx, tx); got != id {
			t.Fatalf("in a transaction for %s read %q", id, got)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		batch := &pgx.Batch{}
		batch.Queue("INSERT INTO notes VALUES ($1)", id)
		batch.Queue(tptest.TenantsSeen)
		br := pool.SendBatch(ctx, batch)
		if _, err := br.Exec(); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := br.QueryRow().Scan(&got); err != nil || got != id {
			t.Fatalf("batch for %s read %q, %v", id, got, err)
		}
		br.Close()
		if n, err := pool.CopyFrom(ctx, pgx.Identifier{"notes"}, []string{"tenant"}, pgx.CopyFromRows([][]any{{id}, {id}})); err != nil || n != 2 {
			t.Fatalf("CopyFrom for %s: %d, %v", id, n, err)
		}
	}
	for _, id := range []string{"10", "11"} {
		var n int
		if err := e.Admin.QueryRow("SELECT count(*) FROM "+tenantpath.QuoteIdentifier(e.Schema(id))+".notes WHERE tenant <> $1", id).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d rows of another tenant in %s (%v)", n, id, err)
		}
	}
}

// Calls that cannot run fail with tenantpath's errors and run nothing.
func TestConfiguredPoolRefuses(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil)
	bg := context.Background()
	ten := tenantpath.WithTenant(bg, "10")
	if _, err := pool.Exec(bg, "INSERT INTO notes VALUES ('none')"); !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Fatalf("no tenant: %v", err)
	}
	if _, err := pool.Exec(tenantpath.WithTenant(bg, "Bad"), "INSERT INTO notes VALUES ('bad')"); !errors.Is(err, tenantpath.ErrInvalidTenant) {
		t.Fatalf("invalid tenant: %v", err)
	}
	tenantOf(t, ten, pool) // the connection is on tenant 10
	if _, err := pool.Exec(tenantpath.WithTenant(bg, "99"), "INSERT INTO notes VALUES ('unknown')"); !tenantpgx.UnknownTenant(err) {
		t.Fatalf("unknown tenant: %v", err)
	}
	tx, err := pool.Begin(ten)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(tenantpath.WithTenant(bg, "11"), "INSERT INTO notes VALUES ('mismatch')")
	if !errors.Is(err, tenantpath.ErrTenantMismatch) {
		t.Fatalf("another tenant inside a transaction: %v", err)
	}
	tx.Rollback(ten)
	if got := tenantOf(t, ten, pool); got != "10" {
		t.Fatalf("after the refusals, tenant 10 read %q", got)
	}
	var path string
	if err := pool.QueryRow(tenantpath.WithBasePath(bg), "SHOW search_path").Scan(&path); err != nil || path != `"$user", public` {
		t.Fatalf("the base path is %q (%v)", path, err)
	}
	var n int
	if err := e.Admin.QueryRow(`SELECT (SELECT count(*) FROM ` + tenantpath.QuoteIdentifier(e.Schema("10")) + `.notes WHERE tenant <> '10')
		+ (SELECT count(*) FROM ` + tenantpath.QuoteIdentifier(e.Prefix+"shared") + `.notes WHERE tenant <> 'shared')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows written by refused calls (%v)", n, err)
	}
}

// countingTracer counts the queries the user's own tracer sees.
type countingTracer struct{ starts, ends atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.starts.Add(1)
	return ctx
}
func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {
	c.ends.Add(1)
}

func TestConfiguredPoolKeepsTheUsersTracer(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	ct := &countingTracer{}
	pool := newPool(t, e, pgtest.DSN(t), 1, func(c *pgxpool.Config) { c.ConnConfig.Tracer = ct })
	ctx := tenantpath.WithTenant(context.Background(), "10")
	for range 3 {
		tenantOf(t, ctx, pool)
	}
	if ct.starts.Load() != 3 || ct.ends.Load() != 3 {
		t.Fatalf("the user's tracer saw %d starts and %d ends, want 3 each", ct.starts.Load(), ct.ends.Load())
	}
}

// Concurrency: 24 goroutines over 12 tenants and 4 connections, a random
// mix of every kind of call; every read sees only its own tenant, every
// write lands in its own schema.
func TestConfiguredPoolConcurrencyNeverLeaks(t *testing.T) {
	for _, mode := range []struct {
		name  string
		dsn   func(*testing.T) string
		opts  []tenantpath.Option
		exec  pgx.QueryExecMode
		conns int32
	}{
		{"direct", func(t *testing.T) string { return pgtest.DSN(t) }, nil, pgx.QueryExecModeCacheStatement, 4},
		{"pgbouncer session", func(t *testing.T) string { return pgtest.StartPgBouncer(t, "session", 4) }, nil, pgx.QueryExecModeCacheStatement, 4},
		{"pgbouncer transaction", func(t *testing.T) string { return pgtest.StartPgBouncer(t, "transaction", 2) },
			[]tenantpath.Option{tenantpath.TransactionPooling()}, pgx.QueryExecModeExec, 4},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ids := tptest.TenantIDs(12)
			e := tptest.NewEnv(t, ids...)
			pool := newPool(t, e, mode.dsn(t), mode.conns, func(c *pgxpool.Config) { c.ConnConfig.DefaultQueryExecMode = mode.exec }, mode.opts...)
			var reads, leaks atomic.Int64
			var wg sync.WaitGroup
			for w := range 24 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 7))
					for range 40 {
						id := ids[rng.IntN(len(ids))]
						if err := mixedCall(context.Background(), pool, id, rng.IntN(6), &reads, &leaks); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			for _, id := range ids {
				var n int
				if err := e.Admin.QueryRow("SELECT count(*) FROM "+tenantpath.QuoteIdentifier(e.Schema(id))+".notes WHERE tenant <> $1", id).Scan(&n); err != nil {
					t.Fatal(err)
				}
				leaks.Add(int64(n))
			}
			t.Logf("%d reads checked, %d leaks", reads.Load(), leaks.Load())
			if leaks.Load() != 0 || reads.Load() == 0 {
				t.Fatalf("%d leaks in %d reads", leaks.Load(), reads.Load())
			}
		})
	}
}

// mixedCall makes one call of kind k for tenant id and counts what it read.
func mixedCall(bg context.Context, pool *pgxpool.Pool, id string, k int, reads, leaks *atomic.Int64) error {
	ctx := tenantpath.WithTenant(bg, id)
	check := func(got string) {
		reads.Add(1)
		if got != id {
			leaks.Add(1)
		}
	}
	var got string
	switch k {
	case 0:
		if err := pool.QueryRow(ctx, tptest.TenantsSeen).Scan(&got); err != nil {
			return err
		}
		check(got)
	case 1:
		_, err := pool.Exec(ctx, "INSERT INTO notes VALUES ($1)", id)
		return err
	case 2, 3:
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO notes VALUES ($1)", id); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, tptest.TenantsSeen).Scan(&got); err != nil {
			return err
		}
		check(got)
		if k == 2 {
			return tx.Commit(ctx)
		}
		return tx.Rollback(ctx)
	case 4:
		batch := &pgx.Batch{}
		batch.Queue("INSERT INTO notes VALUES ($1)", id)
		batch.Queue(tptest.TenantsSeen)
		br := pool.SendBatch(ctx, batch)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		if err := br.QueryRow().Scan(&got); err != nil {
			return err
		}
		check(got)
	case 5:
		// COPY goes alone after its switch; under TransactionPooling that
		// switch holds only inside a transaction.
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"notes"}, []string{"tenant"}, pgx.CopyFromRows([][]any{{id}})); err != nil {
			return fmt.Errorf("CopyFrom: %w", err)
		}
		return tx.Commit(ctx)
	}
	return nil
}

// Under TransactionPooling a switch holds for its transaction only, so a
// request that must go alone after its switch (COPY outside a transaction)
// is refused rather than run on no tenant's path.
func TestConfiguredPoolCopyNeedsATransactionUnderTransactionPooling(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil, tenantpath.TransactionPooling())
	ctx := tenantpath.WithTenant(context.Background(), "10")
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"notes"}, []string{"tenant"}, pgx.CopyFromRows([][]any{{"copied"}}))
	if err == nil || !strings.Contains(err.Error(), "inside a transaction") {
		t.Fatalf("COPY outside a transaction: %v", err)
	}
	var n int
	if err := e.Admin.QueryRow("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.Prefix+"shared") + ".notes WHERE tenant = 'copied'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows copied elsewhere (%v)", n, err)
	}
}

// DESIGN 5: a function that changes the path out of the scan's sight. On
// PostgreSQL 18 the server's report makes the next call switch back; before
// 18 nothing can see it, and per-tenant roles refuse the other tenant's
// schema.
func TestConfiguredPoolFollowsTheServersReport(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	e.Exec(fmt.Sprintf(`CREATE FUNCTION %s.hop() RETURNS int LANGUAGE sql
		AS $$ SELECT 1 FROM pg_catalog.set_config('search_path', %s, false) $$`,
		tenantpath.QuoteIdentifier(e.Prefix+"shared"), tenantpath.QuoteLiteral(tenantpath.QuoteIdentifier(e.Schema("11")))))
	reported := pgtest.ServerVersion(t) >= 18
	var opts []tenantpath.Option
	if !reported {
		opts = append(opts, tenantpath.WithTenantRoles(e.TenantRoles(t, "10", "11")))
	}
	pool := newPool(t, e, pgtest.DSN(t), 1, nil, opts...)
	ten := tenantpath.WithTenant(context.Background(), "10")
	if got := tenantOf(t, ten, pool); got != "10" {
		t.Fatalf("read %q", got)
	}
	if _, err := pool.Exec(ten, "SELECT hop()"); err != nil {
		t.Fatal(err)
	}
	var got *string
	err := pool.QueryRow(ten, tptest.TenantsSeen).Scan(&got)
	switch {
	case reported && (err != nil || got == nil || *got != "10"):
		t.Fatalf("after the function: read %v, %v; want tenant 10's rows", got, err)
	case !reported && err == nil:
		t.Fatalf("after the function: read %v; tenant roles must refuse the other tenant's schema", *got)
	}
}

// MaxTenantsPerConn retires a pgxpool connection too: once it has served n
// tenants, pgxpool destroys it and opens another.
func TestConfiguredPoolRetiresConnections(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11", "12")
	pool := newPool(t, e, pgtest.DSN(t), 1, nil, tenantpath.MaxTenantsPerConn(2))
	bg := context.Background()
	pid := func(id string) uint32 {
		var p uint32
		if err := pool.QueryRow(tenantpath.WithTenant(bg, id), "SELECT pg_backend_pid()").Scan(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := pid("10")
	if pid("10") != first {
		t.Fatal("a connection was replaced before it served two tenants")
	}
	pid("11") // the second tenant: the connection is retired after this call
	if pid("12") == first {
		t.Fatal("a connection that served two tenants was used again")
	}
}
