// Package tenantpath is a database/sql driver that wraps any PostgreSQL
// driver (pgx's stdlib, lib/pq) and runs every statement under the
// search_path of the tenant carried in the call's [context.Context].
//
// Applications that keep each customer's tables in a schema of its own
// (org_10, org_11, …) register tenantpath in place of their driver, put the
// tenant in the request context (see package tenanthttp) and keep their
// ORM: every *Context call is routed.
//
// # Opening a database
//
// Wrap a connector of the base driver, so it keeps all its options. With
// pgx, take the connector from package tenantpgx: each switch then travels
// in the same network write as the statement it precedes.
//
//	cfg, _ := pgx.ParseConfig(dsn)
//	db, err := tenantpath.OpenDB(tenantpgx.GetConnector(*cfg),
//		tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
//
// Any other connector works too (stdlib.GetConnector, pq.NewConnector), with
// a round trip of its own for each switch; for sql.Open, register a wrapped
// driver built with [Wrap]. pgxpool users route their pool with
// tenantpgx.Configure.
//
// # Routing
//
// [WithTenant] puts a tenant in a context; [WithShared] asks for the shared
// schemas alone; [WithBasePath] for the connection's own path, for code
// that manages search_path itself. Before each statement, prepare,
// prepared-statement execution and BeginTx, the connection compares the path
// the context wants with the one it last set and, only if they differ,
// switches, if and only if the tenant's schema exists. A tenant without a
// schema gets [ErrUnknownTenant]; a name that breaks the rules of [Naming]
// gets an [InvalidTenantError] and nothing is sent. A call whose context
// names nothing fails with [ErrNoTenant], unless the driver was opened with
// [AllowNoTenant]. The path ends with pg_temp, so no temporary table can
// shadow a tenant's table.
//
// # Transactions
//
// The path is applied before BEGIN (or with it) and never changed inside a
// transaction: a call for another tenant inside one fails with
// [ErrTenantMismatch].
//
// # When in doubt
//
// A switch that fails or is interrupted marks the connection bad: it
// reports itself invalid and the pool closes it. SQL of the caller's that
// may change the path (SET or RESET search_path, SET SCHEMA, set_config,
// DISCARD, SET ROLE, ROLLBACK, …) makes the driver forget the path it knew,
// so the next call switches again. On PostgreSQL 18, with pgx through
// tenantpgx, the search_path the server reports after every statement is
// checked as well, which also catches functions and triggers. A connection
// checks its tenant's schema again after [RecheckAfter], and at once after
// [SchemasChanged]. A statement is retried only when the server provably
// refused it before running any of it.
//
// # Modes and options
//
//   - [TransactionPooling]: for PgBouncer pool_mode=transaction; the path is
//     scoped to each transaction and no session state is relied on.
//   - [WithTenantRoles]: the switch also sets a per-tenant role, so SQL that
//     names another tenant's schema is refused by PostgreSQL.
//   - [WithTenantSettings]: per-tenant session settings (statement_timeout,
//     work_mem, …), set with the switch.
//   - [MaxTenantsPerConn]: retire connections that have served many tenants,
//     bounding backend catalog-cache memory.
//   - [Pool]: tenantpath owns the server connections and hands each call one
//     already on its tenant's path when it can.
//   - [WithLogger] and [StatsOf]: what the driver does, logged and counted.
//
// Schema drift between tenants at different migration versions is handled
// for pgx's statement cache: see [SchemaDriftError].
//
// # Concurrency
//
// [Connector] and [Driver] are safe for concurrent use. Connections follow
// database/sql's rule: one goroutine at a time.
package tenantpath
