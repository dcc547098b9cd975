package pgtest

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The environment variables that choose the server the tests use.
const (
	// EnvDSN points the tests at an existing server instead of an
	// ephemeral one, as a URL DSN.
	EnvDSN = "TENANTPATH_TEST_DSN"
	// EnvPGBin names a bin directory holding initdb, pg_ctl and postgres;
	// the ephemeral servers run those programs.
	EnvPGBin = "TENANTPATH_PG_BIN"
	// EnvPGVersion picks the major version of the ephemeral servers (15,
	// 18, ...), looked up in /usr/lib/postgresql/<major>/bin and where
	// scripts/install-pg18.sh installs.
	EnvPGVersion = "TENANTPATH_PG_VERSION"
)

// Set by Main before m.Run and only read afterwards, so the tests read them
// without locking.
var (
	mainRan bool
	envDSN  string // TENANTPATH_TEST_DSN, when set
)

// lazy is the test binary's server, started by the first test that asks
// for one.
var lazy struct {
	once     sync.Once
	srv      *Server
	err      error
	reported atomic.Bool // the full start failure was shown once
}

// Main is for TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// If TENANTPATH_TEST_DSN is set, the tests use that server. Otherwise the
// first call to [DSN], [Current] or a helper built on them starts one
// ephemeral server for the whole test binary; after the tests, Main stops
// it and removes its files. A test binary whose tests never ask for a
// server (parsers, resolvers, fuzz workers) never starts one. Main exits
// with the tests' code. If no server can be had, every test that asks for
// one fails with what was looked for, the tail of the server log and how to
// fix it: tests are never skipped for want of a server.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	mainRan = true
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		envDSN = dsn
		return m.Run()
	}
	defer func() {
		// A panic in m.Run itself (not in a test, which testing reports and
		// exits on its own) still stops the server; the watchdog covers the
		// rest.
		if r := recover(); r != nil {
			stopLazy()
			panic(r)
		}
	}()
	code := m.Run()
	if err := stopLazy(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stopping the test server: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if lazy.err != nil && code == 0 {
		// Only Current was asked, and its callers may carry on without a
		// server; the binary still fails.
		fmt.Fprint(os.Stderr, startFailure(lazy.err))
		code = 1
	}
	return code
}

// server starts the test binary's server on first use and returns it, or
// the error that kept it from starting (the same error on every call).
func server() (*Server, error) {
	lazy.once.Do(func() {
		var logf func(string, ...any)
		if flag.Parsed() && testing.Verbose() {
			logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
		}
		lazy.srv, lazy.err = Start(Options{Logf: logf})
	})
	return lazy.srv, lazy.err
}

// stopLazy stops the test binary's server if one was started.
func stopLazy() error {
	// Once has run (or runs now, doing nothing) after this, so a test
	// still running cannot start a server behind our back.
	lazy.once.Do(func() {})
	if lazy.srv == nil {
		return nil
	}
	return lazy.srv.Stop()
}

func startFailure(err error) string {
	var b strings.Builder
	b.WriteString("\npgtest: cannot start a PostgreSQL server for the tests.\n\n")
	b.WriteString(indent(err.Error()))
	b.WriteString("\n\nTo fix:\n")
	b.WriteString("  - run `make test`: scripts/install-deps.sh installs PostgreSQL (postgresql,\n")
	b.WriteString("    postgresql-contrib), PgBouncer and PostgreSQL 18, then runs the tests; or\n")
	b.WriteString("  - install PostgreSQL so that initdb, pg_ctl and postgres are on PATH or in\n")
	b.WriteString("    /usr/lib/postgresql/<version>/bin; or\n")
	fmt.Fprintf(&b, "  - set %s to the bin directory of a PostgreSQL installation, or %s\n", EnvPGBin, EnvPGVersion)
	b.WriteString("    to an installed major version (unset both for the default); or\n")
	fmt.Fprintf(&b, "  - set %s to the URL of a server to use, e.g.\n", EnvDSN)
	b.WriteString("    postgres://user:password@127.0.0.1:5432/postgres?sslmode=disable\n\n")
	return b.String()
}

// DSN returns the URL DSN of this test binary's server, such as
// postgres://tenantpath@127.0.0.1:54321/postgres?sslmode=disable, which
// both pgx and lib/pq accept, starting the server on first use. It fails t
// if [Main] did not run or no server can be started.
func DSN(t testing.TB) string {
	t.Helper()
	if !mainRan {
		t.Fatal("pgtest: no server: pgtest.Main did not run; add `func TestMain(m *testing.M) { pgtest.Main(m) }` to this package")
	}
	if envDSN != "" {
		return envDSN
	}
	srv, err := server()
	if err != nil {
		if lazy.reported.CompareAndSwap(false, true) {
			t.Fatal(startFailure(err))
		}
		t.Fatalf("pgtest: no server (the first test that asked says why): %v", firstLine(err))
	}
	return srv.DSN()
}

// Current returns the test binary's ephemeral server, starting it on first
// use. It returns nil when TENANTPATH_TEST_DSN is in use, when [Main] did not
// run, or when the server cannot be started (then [DSN] fails the test with
// the reason, and Main makes the binary fail). Tests that restart the
// server use it.
func Current() *Server {
	if !mainRan || envDSN != "" {
		return nil
	}
	srv, _ := server()
	return srv
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
