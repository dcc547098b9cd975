// Package pgtest runs the tests of this module against a real PostgreSQL.
//
// Each test binary gets its own ephemeral server, started when a test
// first asks for one ([DSN], [Current], [ServerVersion], [LoginRole],
// [UniquePrefix], [StartPgBouncer]): it initialises a data directory in a
// private temporary directory and starts PostgreSQL on a free 127.0.0.1
// port. [Main] stops it and removes its files after the tests. Two test
// binaries running in parallel (as `go test ./...` does) therefore never
// share a server or a port, and a test binary whose tests need no server
// (the SQL scanner, the parsers, the resolvers, fuzz workers) starts none.
// Nothing is skipped: if no server can be had, every test that asks for one
// fails with a message that says what was looked for and how to fix it
// (`make test` installs PostgreSQL and PgBouncer).
//
// # Choosing the server
//
// Three environment variables choose the server, the first one set wins:
//
//   - TENANTPATH_TEST_DSN: the URL DSN of an existing server to use instead
//     of an ephemeral one, whatever its login role ([LoginRole] tells the
//     tests which). [Current] then returns nil.
//   - TENANTPATH_PG_BIN: the bin directory of the PostgreSQL whose initdb,
//     pg_ctl and postgres the ephemeral servers run.
//   - TENANTPATH_PG_VERSION: a major version, such as 18, looked up in
//     /usr/lib/postgresql/<major>/bin (Debian, Ubuntu), then in
//     /opt/tenantpath/postgresql/<major>/bin and in the user's cache
//     directory under tenantpath/postgresql/<major>/bin, where
//     scripts/install-pg18.sh installs PostgreSQL 18. The programs found
//     must report that major version.
//
// With none set, the ephemeral servers run the initdb on PATH, or else the
// highest version under /usr/lib/postgresql: on Debian bookworm, the
// distribution's PostgreSQL 15. `make test` runs the suites on that default
// and again with TENANTPATH_PG_VERSION=18. Tests of behaviour that depends
// on the version branch on [ServerVersion].
//
// # Usage
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		db, err := sql.Open("pgx", pgtest.DSN(t))
//		...
//		prefix := pgtest.UniquePrefix(t) // name this test's schemas prefix+"..."
//	}
//
// # Running as root
//
// initdb, postgres and pgbouncer refuse to run as root. When the tests run
// as root (as CI does), pgtest runs them as the `postgres` user if it exists
// and as `nobody` otherwise, and hands that user the temporary directory.
// The server programs themselves must be readable by that user, which is
// why scripts/install-pg18.sh installs under /opt when run as root.
//
// # Cleanup when a test binary dies
//
// A test that panics or times out ends the binary without running deferred
// code. For that case every server and PgBouncer started here is watched by
// a small shell process that stops it and removes its files once the test
// binary has gone.
//
// The functions of this package are safe for concurrent use.
package pgtest
