package bench

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// The memory fixture: memTenants schemas named memPrefix+id, each with
// memTables tables (a primary key and two more columns each), and one
// statement that reads a row of every table by primary key, as a request
// touching the whole schema would.
const (
	memPrefix  = "tpm_"
	memTenants = 10000
	memTables  = 20
)

var memNaming = tenantpath.Naming{Prefix: memPrefix}

// memFixtureBody creates one tenant's tables inside createTenants' DO
// block.
func memFixtureBody() string {
	var b strings.Builder
	b.WriteString("\n\t\tEXECUTE format('CREATE SCHEMA %1$I', s);")
	for i := 1; i <= memTables; i++ {
		fmt.Fprintf(&b, "\n\t\tEXECUTE format('CREATE TABLE %%1$I.t%02d (id int PRIMARY KEY, ref int NOT NULL, v int) WITH (autovacuum_enabled = false)', s);", i)
	}
	return b.String()
}

// memQuery reads one row of each of the tenant's tables.
func memQuery() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i := 1; i <= memTables; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(SELECT ref FROM t%02d WHERE id = $1)", i)
	}
	return b.String()
}

// backendMemory reads, on the connection of db (which must hold one), the
// bytes of its backend's memory contexts and the backend's private resident
// memory (RssAnon of /proc/<pid>/status; the server runs on this machine).
// The call asks for the connection's base path (tenantpath.WithBasePath):
// it reads the backend, not a tenant, and a call without a scope would be
// refused with ErrNoTenant.
func backendMemory(ctx context.Context, db *sql.DB) (contexts, rssAnon int64, err error) {
	var pid int
	err = db.QueryRowContext(tenantpath.WithBasePath(ctx),
		`SELECT (SELECT sum(total_bytes) FROM pg_backend_memory_contexts)::bigint, pg_backend_pid()`).Scan(&contexts, &pid)
	if err != nil {
		return 0, 0, err
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return contexts, -1, nil // not on this machine: contexts only
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return contexts, kb * 1024, nil
		}
	}
	return contexts, -1, sc.Err()
}

// BenchmarkBackendMemory serves n tenants in turn on one pool connection
// (one statement reading all 20 tables of each) and then reports the
// backend's memory: its memory contexts (backend-MB) and its private
// resident memory (rss-anon-MB), with the time per tenant served. With
// MaxTenantsPerConn(limit) the pool retires the connection after limit
// tenants (conns: how many were opened); peak-* is then measured on each
// connection just before its last tenant, the most any backend held, while
// backend-MB is the replacement left at the end. Run it with -benchtime 1x:
// one pass is the result.
func BenchmarkBackendMemory(b *testing.B) {
	dsn := pgtestDSNWithFixture(b, memPrefix, memTenants, memFixtureBody())
	query := memQuery()
	ctx := context.Background()
	for _, c := range []struct{ n, limit int }{
		{100, 0}, {1000, 0}, {1000, 100}, {10000, 0}, {10000, 1000},
	} {
		n, limit := c.n, c.limit
		{
			b.Run(fmt.Sprintf("tenants=%d/max-tenants-per-conn=%d", n, limit), func(b *testing.B) {
				for b.Loop() {
					var opts []tenantpath.Option
					if limit > 0 {
						opts = append(opts, tenantpath.MaxTenantsPerConn(limit))
					}
					base := &tptest.Recorder{Connector: pgxConnector(b, dsn)}
					db := openTenantpath(b, base, memNaming, opts...)
					db.SetMaxOpenConns(1)
					db.SetMaxIdleConns(1)
					before, beforeRSS, err := backendMemory(ctx, db)
					if err != nil {
						b.Fatal(err)
					}
					start := time.Now()
					var v sql.NullInt64
					var peak, peakRSS int64
					for i := range n {
						if limit > 0 && i%limit == limit-1 {
							// The connection has served limit-1 tenants and
							// retires after the next: this is its peak.
							m, rss, err := backendMemory(ctx, db)
							if err != nil {
								b.Fatal(err)
							}
							peak, peakRSS = max(peak, m), max(peakRSS, rss)
						}
						tctx := tenantpath.WithTenant(ctx, strconv.Itoa(i))
						if err := db.QueryRowContext(tctx, query, 1).Scan(&v, &v, &v, &v, &v, &v, &v, &v, &v, &v,
							&v, &v, &v, &v, &v, &v, &v, &v, &v, &v); err != nil {
							b.Fatal(err)
						}
					}
					elapsed := time.Since(start)
					after, afterRSS, err := backendMemory(ctx, db)
					if err != nil {
						b.Fatal(err)
					}
					db.Close()
					if limit == 0 {
						peak, peakRSS = after, afterRSS
					}
					b.ReportMetric(float64(peak)/(1<<20), "peak-backend-MB")
					if peakRSS >= 0 {
						b.ReportMetric(float64(peakRSS)/(1<<20), "peak-rss-anon-MB")
					}
					b.ReportMetric(float64(after)/(1<<20), "backend-MB")
					b.ReportMetric(float64(before)/(1<<20), "fresh-backend-MB")
					if afterRSS >= 0 {
						b.ReportMetric(float64(afterRSS)/(1<<20), "rss-anon-MB")
						b.ReportMetric(float64(beforeRSS)/(1<<20), "fresh-rss-anon-MB")
					}
					b.ReportMetric(float64(elapsed.Microseconds())/float64(n), "µs/tenant")
					b.ReportMetric(float64(base.Connects()), "conns")
				}
			})
		}
	}
}

// pgtestDSNWithFixture creates (once per server) n tenant schemas named
// prefix+id with body and returns the DSN.
func pgtestDSNWithFixture(b *testing.B, prefix string, n int, body string) string {
	b.Helper()
	dsn := pgtest.DSN(b)
	start := time.Now()
	// 100 tenants, 4,000 relations, per transaction.
	created, err := createTenants(context.Background(), dsn, prefix, n, 100, body)
	if err != nil {
		b.Fatal(err)
	}
	if created {
		b.Logf("created %d %d-table tenant schemas in %v", n, memTables, time.Since(start).Round(time.Millisecond))
	}
	return dsn
}

// TestBackendMemoryReadsThroughTenantpath: the helper BenchmarkBackendMemory
// measures with works on a routed *sql.DB whatever tenant the connection
// served last, so that the benchmark (not run by `make test`) does not
// fail on its first reading.
func TestBackendMemoryReadsThroughTenantpath(t *testing.T) {
	db := openTenantpath(t, pgxConnector(t, roundTripDatabase(t)), tenantpath.Naming{Prefix: "rt_"})
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	var name string
	if err := db.QueryRowContext(tenantpath.WithTenant(ctx, "a"), `SELECT name FROM items WHERE id = 1`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	contexts, rss, err := backendMemory(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if contexts <= 0 || rss == 0 {
		t.Fatalf("backend memory: %d bytes of contexts, RssAnon %d", contexts, rss)
	}
}
