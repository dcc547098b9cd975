// Package pgtest runs the tests of this module against a real PostgreSQL.
//
// Each test binary gets its own ephemeral server: [Main] initialises a data
// directory in a private temporary directory, starts PostgreSQL on a free
// 127.0.0.1 port, runs the tests, stops the server and removes its files.
// Two test binaries running in parallel (as `go test ./...` does) therefore
// never share a server or a port. Nothing is skipped: if no server can be
// had, the binary fails with a message that says what was looked for and how
// to fix it (`make test` installs PostgreSQL and PgBouncer).
//
// Set TENANTPATH_TEST_DSN to a URL DSN to use an existing server instead;
// [Current] then returns nil.
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
