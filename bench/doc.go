// Package bench measures tenantpath against the raw driver and the
// hand-rolled ways of routing statements to a tenant's schema, on a real
// PostgreSQL started by internal/pgtest. It holds only tests and
// benchmarks; `make bench` runs them through bench/cmd/report, which writes
// docs/BENCHMARKS.md.
//
// # What runs where
//
//   - BenchmarkRoute: the throughput matrix (contenders × tenant sets ×
//     statements per request × pool sizes × workers) on loopback, and the
//     round-trip scenarios: the same contenders over a link that delays
//     each direction by -delay (250µs by default), one tenant and 100
//     tenants, pool 8, 8 and 32 workers. Each result also carries the
//     statements the server executed per operation, read from
//     pg_stat_statements. The contenders are listed in contenders_test.go,
//     which has a marked place for new ones.
//   - BenchmarkDelayLink: the delaying link's own cost, a point select
//     direct, through the proxy without delay and with it.
//   - BenchmarkFake: the wrapper over an in-memory driver, with -benchmem,
//     so that PostgreSQL's cost does not hide ours.
//   - BenchmarkSwitchStatement: the statements that move a session to
//     another tenant's path, one against the other.
//   - BenchmarkBackendMemory: a backend's memory after one connection has
//     served 100, 1,000 and 10,000 tenants with a 20-table schema.
//   - BenchmarkPool: tenantpath.Pool(n) against database/sql's own pool
//     and the hand-rolled db.Conn + SET, Zipf over 2,000 and 10,000
//     tenants, 64 workers on 16 connections, with the switches per op the
//     server ran; BenchmarkPoolBackendMemory: the total backend memory
//     after 10,000 Zipf tenants through 16 connections, with and without
//     Pool.
//   - TestRoundTrips, TestWrapperAddsNoAllocations and
//     TestDelayedLinkCarriesStatements: the server-side statement counts,
//     the allocation count and the delaying link, asserted. They run in
//     `make test`, as does TestBackendMemoryReadsThroughTenantpath.
//
// # The delaying link
//
// Loopback answers in microseconds, so a call that costs two round trips
// looks almost as cheap as one that costs one. The round-trip scenarios
// connect through internal/delayproxy, a TCP proxy on loopback in this
// process that holds every chunk for the delay in each direction: each
// round trip then costs at least twice the delay, as across a network.
// Its CPU counts as the client's.
package bench
