package bench

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath/internal/delayproxy"
)

// linkDelay is the one-way delay of the round-trip scenarios.
var linkDelay = flag.Duration("delay", delayproxy.DefaultDelay, "BenchmarkRoute, BenchmarkDelayLink: one-way delay of the delaying link")

// A link is the way between the benchmark's connections and the server:
// loopback, or a delaying proxy on loopback (internal/delayproxy) that
// holds every chunk for delay in each direction, so that each round trip
// costs what it costs across a network.
type link struct {
	name    string // in benchmark names: loopback, delay250us
	proxied bool
	delay   time.Duration // each way
}

var loopback = link{name: "loopback"}

func delayedLink(delay time.Duration) link {
	name := fmt.Sprintf("delay%dus", delay.Microseconds())
	if delay%time.Microsecond != 0 {
		name = fmt.Sprintf("delay%dns", delay.Nanoseconds())
	}
	return link{name: name, proxied: true, delay: delay}
}

func (l link) describe() string {
	if !l.proxied {
		return "direct to the server"
	}
	return fmt.Sprintf("through internal/delayproxy, %v each way", l.delay)
}

// dsn returns the DSN that reaches the server of dsn over l. A proxy it
// starts is stopped when tb ends.
func (l link) dsn(tb testing.TB, dsn string) string {
	tb.Helper()
	if !l.proxied {
		return dsn
	}
	return proxyDSN(tb, dsn, l.delay)
}

// proxyDSN starts a delaying proxy in front of the server of dsn and
// returns a DSN that connects through it. A URL keeps its form; a
// key=value DSN gets host and port appended (the last value of a key wins).
func proxyDSN(tb testing.TB, dsn string, delay time.Duration) string {
	tb.Helper()
	cfg := pgxConfig(tb, dsn)
	if len(cfg.Host) > 0 && cfg.Host[0] == '/' {
		tb.Fatalf("the delaying link forwards TCP; the server is on the unix socket %s", cfg.Host)
	}
	p, err := delayproxy.Start(net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), delay)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Host = p.Addr()
		return u.String()
	}
	host, port, _ := net.SplitHostPort(p.Addr())
	return dsn + " host=" + host + " port=" + port
}

// BenchmarkDelayLink measures the link itself with a point select on
// three pgx connections in turn: direct to the server, through the proxy
// without delay, and through the proxy with -delay. An op is one select on
// each, so the three share the machine's load of the same moment. It
// reports the median time of each (direct-µs, proxy0-µs, delayed-µs), the
// proxy's floor (floor-µs: what its two extra hops add to a round trip,
// proxy0 − direct) and how much more than twice the delay the delayed
// select costs on top of the floor (late-µs: delayed − proxy0 − 2×delay,
// the lateness of the proxy's timers).
func BenchmarkDelayLink(b *testing.B) {
	dsn := benchFixture(b)
	delay := *linkDelay
	links := []link{loopback, delayedLink(0), delayedLink(delay)}
	conns := make([]*pgx.Conn, len(links))
	for i, l := range links {
		c, err := pgx.Connect(bg, l.dsn(b, dsn))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(bg)
		conns[i] = c
	}
	q := allTenants()[0].qualified[0]
	var name string
	for i := range 100 { // the statement caches, and the proxy's timer estimate
		for _, c := range conns {
			if err := c.QueryRow(bg, q, 1+i%rowsPerTenant).Scan(&name); err != nil {
				b.Fatal(err)
			}
		}
	}
	took := make([][]time.Duration, len(conns))
	for i := 0; b.Loop(); i++ {
		for j, c := range conns {
			start := time.Now()
			if err := c.QueryRow(bg, q, 1+i%rowsPerTenant).Scan(&name); err != nil {
				b.Fatal(err)
			}
			took[j] = append(took[j], time.Since(start))
		}
	}
	med := make([]float64, len(took))
	for j, ds := range took {
		slices.Sort(ds)
		med[j] = float64(ds[len(ds)/2]) / float64(time.Microsecond)
	}
	b.ReportMetric(med[0], "direct-µs")
	b.ReportMetric(med[1], "proxy0-µs")
	b.ReportMetric(med[2], "delayed-µs")
	b.ReportMetric(med[1]-med[0], "floor-µs")
	b.ReportMetric(med[2]-med[1]-2*float64(delay)/float64(time.Microsecond), "late-µs")
}

// TestDelayedLinkCarriesStatements: statements over the delaying link give
// the rows they give direct, and none comes back sooner than a round trip
// of the link, so the round-trip scenarios really pay for their round
// trips. Both DSN forms are proxied.
func TestDelayedLinkCarriesStatements(t *testing.T) {
	dsn := roundTripDatabase(t)
	const delay = delayproxy.DefaultDelay
	cfg := pgxConfig(t, dsn)
	keyValue := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		cfg.Host, cfg.Port, dsnValue(cfg.User), dsnValue(cfg.Database))
	if cfg.Password != "" {
		keyValue += " password=" + dsnValue(cfg.Password)
	}
	for name, d := range map[string]string{"url": dsn, "key-value": keyValue} {
		t.Run(name, func(t *testing.T) {
			c, err := pgx.Connect(bg, proxyDSN(t, d, delay))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(bg)
			for id := 1; id <= 20; id++ {
				start := time.Now()
				var got string
				if err := c.QueryRow(bg, `SELECT name FROM rt_a.items WHERE id = $1`, id).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if took := time.Since(start); took < 2*delay {
					t.Errorf("a point select over the link took %v, less than a round trip (2×%v)", took, delay)
				}
				if want := fmt.Sprintf("item %d", id); got != want {
					t.Errorf("row %d: %q, want %q", id, got, want)
				}
			}
		})
	}
}

// dsnValue quotes a value of a key=value DSN.
func dsnValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
