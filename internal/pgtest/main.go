package pgtest

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// EnvDSN names the environment variable that points the tests at an
// existing server instead of an ephemeral one.
const EnvDSN = "TENANTPATH_TEST_DSN"

// Set by Main before m.Run and only read afterwards, so the tests read them
// without locking.
var (
	mainDSN string
	current *Server
)

// Main is for TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// If TENANTPATH_TEST_DSN is set, the tests use that server. Otherwise Main
// starts one ephemeral server for the whole test binary, runs the tests,
// stops the server and removes its files. It then exits with the tests'
// code. If no server can be had, Main prints what was looked for, the tail
// of the server log and how to fix it, and exits 1: tests are never skipped
// for want of a server.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		mainDSN = dsn
		return m.Run()
	}
	if !flag.Parsed() {
		flag.Parse() // for testing.Verbose; m.Run would parse them anyway
	}
	var logf func(string, ...any)
	if testing.Verbose() {
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	srv, err := Start(Options{Logf: logf})
	if err != nil {
		fmt.Fprint(os.Stderr, startFailure(err))
		return 1
	}
	current, mainDSN = srv, srv.DSN()
	defer func() {
		// A panic in m.Run itself (not in a test, which testing reports and
		// exits on its own) still stops the server; the watchdog covers the
		// rest.
		if r := recover(); r != nil {
			srv.Stop()
			panic(r)
		}
	}()
	code := m.Run()
	if err := srv.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stopping the test server: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func startFailure(err error) string {
	var b strings.Builder
	b.WriteString("\npgtest: cannot start a PostgreSQL server for the tests.\n\n")
	b.WriteString(indent(err.Error()))
	b.WriteString("\n\nTo fix:\n")
	b.WriteString("  - run `make test`: scripts/install-deps.sh installs PostgreSQL (postgresql,\n")
	b.WriteString("    postgresql-contrib) and PgBouncer with apt-get, then runs the tests; or\n")
	b.WriteString("  - install PostgreSQL so that initdb, pg_ctl and postgres are on PATH or in\n")
	b.WriteString("    /usr/lib/postgresql/<version>/bin; or\n")
	fmt.Fprintf(&b, "  - set %s to the URL of a server to use, e.g.\n", EnvDSN)
	b.WriteString("    postgres://user:password@127.0.0.1:5432/postgres?sslmode=disable\n\n")
	return b.String()
}

// DSN returns the URL DSN of this test binary's server, such as
// postgres://tenantpath@127.0.0.1:54321/postgres?sslmode=disable, which
// both pgx and lib/pq accept. It fails t if [Main] did not run.
func DSN(t testing.TB) string {
	t.Helper()
	if mainDSN == "" {
		t.Fatal("pgtest: no server: pgtest.Main did not run; add `func TestMain(m *testing.M) { pgtest.Main(m) }` to this package")
	}
	return mainDSN
}

// Current returns the ephemeral server started by [Main], or nil when
// TENANTPATH_TEST_DSN is in use or Main did not run. Tests that restart the
// server use it.
func Current() *Server {
	return current
}
