package bench

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
)

// poolMemRequests is how many point selects BenchmarkPoolBackendMemory
// sends, Zipf over the 10,000 tenants of the throughput fixture. The fewer
// requests, the more of the tenants are served only once, on one server
// process, whoever chooses it; the more, the closer to a long-running
// application, where every process of database/sql's pool ends up caching
// every tenant.
var poolMemRequests = flag.Int("pool-mem-requests", 100000, "BenchmarkPoolBackendMemory: point selects per run")

// BenchmarkPoolBackendMemory sends the same poolMemRequests point selects
// (64 workers, Zipf over 10,000 tenants, BenchmarkRoute's seeds) through
// 16 connections, once on database/sql's pool and once on
// tenantpath.Pool(16), each on fresh connections, and then reports the
// memory of the 16 server processes: the sum of their memory contexts
// (total-backend-MB) and of their private resident memory
// (total-rss-anon-MB). Nothing retires a connection in either run, so the
// end is the peak. switches/op is from pg_stat_statements. Run it with
// -benchtime 1x: one pass is the result.
func BenchmarkPoolBackendMemory(b *testing.B) {
	dsn := benchFixture(b)
	admin := sql.OpenDB(pgxConnector(b, dsn))
	admin.SetMaxOpenConns(1)
	b.Cleanup(func() { admin.Close() })
	for _, pooled := range []bool{false, true} {
		name := "database-sql"
		if pooled {
			name = "pool"
		}
		b.Run("tenants=zipf10k/conns=16/workers=64/"+name, func(b *testing.B) {
			for b.Loop() {
				db := openMemoryDB(b, dsn, pooled)
				op := func(t *tenantSQL, id int) error { return runRequest(db, t, 1, id) }
				if err := resetStatements(bg, admin); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := drive(*poolMemRequests, 64, tenantMixes[2], op); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(start)
				counts, err := readStatements(bg, admin)
				if err != nil {
					b.Fatal(err)
				}
				contexts, rss, n, err := allBackendsMemory(bg, db, 16)
				if err != nil {
					b.Fatal(err)
				}
				db.Close()
				b.ReportMetric(float64(contexts)/(1<<20), "total-backend-MB")
				if rss >= 0 {
					b.ReportMetric(float64(rss)/(1<<20), "total-rss-anon-MB")
				}
				b.ReportMetric(float64(n), "backends")
				b.ReportMetric(float64(counts.Switch)/float64(*poolMemRequests), "switches/op")
				b.ReportMetric(float64(elapsed.Microseconds())/float64(*poolMemRequests), "µs/request")
			}
		})
	}
}

// openMemoryDB opens 16 connections' worth of tenantpath over pgx, on
// database/sql's pool or on tenantpath.Pool, with an application name of
// its own so that its server processes are new.
func openMemoryDB(b *testing.B, dsn string, pooled bool) *sql.DB {
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", fmt.Sprintf("tpmem_%d", time.Now().UnixNano()))
	u.RawQuery = q.Encode()
	if pooled {
		return openTenantpath(b, pgxConnector(b, u.String()), fixtureNaming, tenantpath.Pool(16))
	}
	db := openTenantpath(b, pgxConnector(b, u.String()), fixtureNaming)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	return db
}

// allBackendsMemory checks out n connections of db at once (all of them,
// when n is the pool's size) and adds up backendMemory over them: memory
// contexts and RssAnon (-1 when the server's /proc is out of reach).
func allBackendsMemory(ctx context.Context, db *sql.DB, n int) (contexts, rss int64, got int, err error) {
	base := tenantpath.WithBasePath(ctx)
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := db.Conn(base)
		if err != nil {
			return 0, 0, 0, err
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		m, r, err := connMemory(base, c)
		if err != nil {
			return 0, 0, 0, err
		}
		contexts += m
		if r < 0 || rss < 0 {
			rss = -1
		} else {
			rss += r
		}
	}
	return contexts, rss, len(conns), nil
}

// connMemory is backendMemory on one checked-out connection.
func connMemory(ctx context.Context, c *sql.Conn) (contexts, rssAnon int64, err error) {
	var pid int
	err = c.QueryRowContext(ctx,
		`SELECT (SELECT sum(total_bytes) FROM pg_backend_memory_contexts)::bigint, pg_backend_pid()`).Scan(&contexts, &pid)
	if err != nil {
		return 0, 0, err
	}
	return contexts, procRssAnon(pid), nil
}

// procRssAnon reads RssAnon from /proc/<pid>/status, or -1 when the
// process is not on this machine.
func procRssAnon(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb * 1024
		}
	}
	return -1
}
