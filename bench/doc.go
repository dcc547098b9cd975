// Package bench measures tenantpath against the raw driver and the
// hand-rolled ways of routing statements to a tenant's schema, on a real
// PostgreSQL started by internal/pgtest. It holds only tests and
// benchmarks; `make bench` runs them through bench/cmd/report, which writes
// docs/BENCHMARKS.md.
//
// # What runs where
//
//   - BenchmarkRoute: the throughput matrix (contenders × tenant sets ×
//     statements per request × pool sizes × workers). Each result also
//     carries the statements the server executed per operation, read from
//     pg_stat_statements.
//   - BenchmarkFake: the wrapper over an in-memory driver, with -benchmem,
//     so that PostgreSQL's cost does not hide ours.
//   - BenchmarkBackendMemory: a backend's memory after one connection has
//     served 100, 1,000 and 10,000 tenants with a 20-table schema.
//   - TestRoundTrips and TestWrapperAddsNoAllocations: the server-side
//     statement counts and the allocation count, asserted. They run in
//     `make test`.
package bench
