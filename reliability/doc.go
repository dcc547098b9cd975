// Package reliability holds no code, only tests: they attack the tenantpath
// driver and migrator the way production does, against a real PostgreSQL
// server and a real PgBouncer started by the test harness
// (internal/pgtest), with both pgx and lib/pq.
//
// # What lives here
//
//   - Poolers: the concurrency leak workload through PgBouncer in
//     pool_mode=session; two clients interleaving through PgBouncer in
//     pool_mode=transaction with one server connection, showing that the
//     default mode reads and writes another tenant's rows there and that
//     [github.com/tenantpath/tenantpath.TransactionPooling] does not; a
//     benchmark of what that mode costs (BenchmarkTransactionPoolingCost).
//   - Faults: backends killed with pg_terminate_backend during the workload,
//     the server restarted mid-run, contexts cancelled and deadlines hit at
//     random points (including while a switch is on the wire, and in
//     transaction-pooling mode behind PgBouncer).
//   - Schema drift: tenants at different migration versions behind pgx's
//     statement cache, and per-tenant enum types.
//   - Hostile input: tenant ids built to attack, which must fail with a typed
//     error before anything reaches the server (checked with a recording
//     connector and with pg_stat_statements).
//   - Per-tenant roles: SQL naming another tenant's schema explicitly is
//     refused by PostgreSQL itself, under load, directly and behind a
//     transaction pooler.
//   - Connection retirement: with
//     [github.com/tenantpath/tenantpath.MaxTenantsPerConn] no backend serves
//     more tenants than the limit.
//
// Every scenario counts its operations and the leaks it found (a statement
// that read or wrote another tenant's rows) and logs them; a leak fails the
// test. Errors surfacing to callers are expected in the fault tests. All of
// it runs in `make test`, bounded by operation counts and deadlines, in
// about a minute.
package reliability
