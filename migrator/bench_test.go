package migrator_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tenantpath/tenantpath/migrator"
)

// twentyTables is a tenant migration set of 20 migrations, one table each,
// with a primary key, a foreign key to the first table, a unique constraint
// and an index: about what a small SaaS schema holds.
func twentyTables() fstest.MapFS {
	fsys := fstest.MapFS{
		"tenant_migrations/0001_accounts.up.sql": {Data: []byte(`CREATE TABLE accounts (
	id bigserial PRIMARY KEY,
	email text NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now()
);`)},
	}
	for i := 2; i <= 20; i++ {
		fsys[fmt.Sprintf("tenant_migrations/%04d_table%d.up.sql", i, i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(`CREATE TABLE table%[1]d (
	id bigserial PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts (id),
	name text NOT NULL,
	amount numeric(12, 2) NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (account_id, name)
);
CREATE INDEX table%[1]d_created ON table%[1]d (created_at);`, i))}
	}
	return fsys
}

// BenchmarkCreate20Tables creates one tenant per iteration with a 20-table
// schema: the consolidated fast path against per-migration statements.
func BenchmarkCreate20Tables(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []migrator.Option
	}{
		{"consolidated", nil},
		{"per-migration", []migrator.Option{migrator.WithPerMigrationCreate()}},
	} {
		// rtt is added to every statement, as a server in the same
		// region but not on the same host would (0 = loopback only).
		for _, rtt := range []time.Duration{0, time.Millisecond} {
			b.Run(fmt.Sprintf("%s/rtt=%v", mode.name, rtt), func(b *testing.B) {
				ctx := context.Background()
				e := newEnv(b)
				db, counter := newDelayedDB(b, rtt)
				m := e.migratorOn(db, twentyTables(), mode.opts...)
				if _, err := m.MigrateShared(ctx); err != nil {
					b.Fatal(err)
				}
				counter.Take()
				for i := 0; b.Loop(); i++ {
					if err := m.Create(ctx, fmt.Sprint(i)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(int64(counter.Len()))/float64(b.N), "stmts/op")
			})
		}
	}
}

// BenchmarkCreateFromSpare creates one tenant per iteration with the
// 20-table schema of BenchmarkCreate20Tables, claiming a spare built
// beforehand outside the timer, and reports the median (p50-ms) and 90th
// percentile (p90-ms) of the Create calls and the statements each sent.
func BenchmarkCreateFromSpare(b *testing.B) {
	for _, rtt := range []time.Duration{0, time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%v", rtt), func(b *testing.B) {
			ctx := context.Background()
			e := newEnv(b)
			db, counter := newDelayedDB(b, rtt)
			m := e.migratorOn(db, twentyTables())
			if _, err := m.MigrateShared(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { m.EnsureSpares(context.Background(), 0) })
			took := make([]time.Duration, 0, b.N)
			var stmts int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if _, err := m.EnsureSpares(ctx, 1); err != nil {
					b.Fatal(err)
				}
				counter.Take()
				b.StartTimer()
				start := time.Now()
				if err := m.Create(ctx, fmt.Sprint(i)); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				stmts += int64(counter.Len())
			}
			slices.Sort(took)
			ms := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
			b.ReportMetric(ms(0.5), "p50-ms")
			b.ReportMetric(ms(0.9), "p90-ms")
			b.ReportMetric(float64(stmts)/float64(b.N), "stmts/op")
		})
	}
}

// createMany creates n tenants with one small table each, in parallel.
func createMany(b *testing.B, m *migrator.Migrator, n int) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := m.Create(context.Background(), fmt.Sprint(i)); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		b.Fatal(err)
	}
}

var itemsFS = fstest.MapFS{
	"tenant_migrations/0001_items.up.sql": {Data: []byte("CREATE TABLE items (id bigserial PRIMARY KEY, title text NOT NULL);")},
}

// BenchmarkTenants migrates 1,000 and 10,000 tenants by one new migration
// (ALTER TABLE ... ADD COLUMN) per iteration, and reads the status of all of
// them.
func BenchmarkTenants(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			e := newEnv(b)
			e.db.SetMaxOpenConns(16)
			e.db.SetMaxIdleConns(16)
			start := time.Now()
			createMany(b, e.migrator(itemsFS), n)
			b.Logf("created %d tenants in %v", n, time.Since(start))
			version := 1
			b.Run("migrate", func(b *testing.B) {
				for b.Loop() {
					version++
					fsys := fstest.MapFS{}
					for k, v := range itemsFS {
						fsys[k] = v
					}
					for v := 2; v <= version; v++ {
						fsys[fmt.Sprintf("tenant_migrations/%04d_col%d.up.sql", v, v)] = &fstest.MapFile{
							Data: []byte(fmt.Sprintf("ALTER TABLE items ADD COLUMN col%d integer;", v))}
					}
					m := e.migrator(fsys, migrator.WithWorkers(8))
					res, err := m.MigrateTenants(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if len(res) != n || res[0].To != int64(version) {
						b.Fatalf("%d results, first at %d", len(res), res[0].To)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tenants/s")
			})
			b.Run("status", func(b *testing.B) {
				m := e.migrator(itemsFS)
				for b.Loop() {
					st, err := m.Status(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if len(st) != n {
						b.Fatalf("%d statuses", len(st))
					}
				}
			})
		})
	}
}
