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
// Wrap a connector of the base driver, so it keeps all its options:
//
//	cfg, _ := pgx.ParseConfig(dsn)
//	db, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg),
//		tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
//
// or, for sql.Open, register a wrapped driver built with [Wrap].
//
// # Routing
//
// [WithTenant] puts a tenant in a context; [WithShared] asks for the shared
// schemas alone. Before each statement, prepare, prepared-statement
// execution and BeginTx, the connection compares the path the context wants
// with the one it last set and, only if they differ, sends one statement
// that sets the path if, and only if, the tenant's schema exists. A tenant
// without a schema gets [ErrUnknownTenant]; a name that breaks the rules of
// [Naming] gets an [InvalidTenantError] and nothing is sent. A call with no
// tenant runs on the connection's base path, or fails with [ErrNoTenant]
// under [RequireTenant].
//
// # Transactions
//
// The path is applied before BEGIN and never changed inside a transaction:
// a call for another tenant inside one fails with [ErrTenantMismatch], so
// no ROLLBACK can leave the connection on a path the driver does not know.
//
// # When in doubt
//
// A switch that fails or is interrupted marks the connection bad: it
// reports itself invalid and the pool closes it. SQL of the caller's that
// may change the path (SET or RESET search_path, set_config, DISCARD, SET
// ROLE, ROLLBACK, …) makes the driver forget the path it knew, so the next
// call switches again.
//
// # Modes
//
//   - [TransactionPooling]: for PgBouncer pool_mode=transaction; the path is
//     scoped to each transaction and no session state is relied on.
//   - [WithTenantRoles]: the switch also sets a per-tenant role, so SQL that
//     names another tenant's schema is refused by PostgreSQL.
//   - [MaxTenantsPerConn]: retire connections that have served many tenants,
//     bounding backend catalog-cache memory.
//
// Schema drift between tenants at different migration versions is handled
// for pgx's statement cache: see [SchemaDriftError].
//
// # Concurrency
//
// [Connector] and [Driver] are safe for concurrent use. Connections follow
// database/sql's rule: one goroutine at a time.
package tenantpath
