// Package migrator runs the migrations of a schema-per-tenant PostgreSQL
// database and manages its tenant schemas.
//
// There are two migration sets. Shared migrations run once, in the first
// shared schema of the [tenantpath.Naming] (by default "public"). Tenant
// migrations run in every tenant schema. Each schema holds its own version
// table, so a tenant schema is self-contained and every run is idempotent.
//
// # Building a Migrator
//
// [New] takes the *sql.DB, an [io/fs.FS] holding the migration folders
// (embed.FS, os.DirFS and fstest.MapFS all work) and the same
// [tenantpath.Naming] the driver uses, so "tenant 10" means schema "org_10"
// to both:
//
//	m, err := migrator.New(db, migrationsFS, tenantpath.Naming{Prefix: "org_"})
//
// The *sql.DB may use any PostgreSQL driver that sends an argument-less Exec
// with the simple query protocol (pgx's stdlib and lib/pq do). Options
// ([Option]) are checked by New; so are all migration files, before
// anything reaches the server.
//
// # Plain and routed pools
//
// The *sql.DB may be a plain pool or the application's own pool opened
// through tenantpath, and the context given to any method may carry any
// scope: a tenant ([tenantpath.WithTenant]), the shared scope
// ([tenantpath.WithShared]), the base path ([tenantpath.WithBasePath]) or
// none. The Migrator sends every statement with a context derived from the
// caller's (its deadline, cancellation and values kept) that asks for the
// base path, and sets search_path itself on the connections it pins. On a
// routed pool the driver then resets a connection left on a tenant's path
// before the Migrator's first statement, and leaves alone the path the
// Migrator sets: every statement lands in the schema it means, whatever the
// caller's context named. Contexts handed to the application's code (the
// [WithTenantSource] callback, Go migrations, the [WithDrop] hook) carry the
// base path too, so the transactions they receive accept them.
//
// A pool opened with [tenantpath.TransactionPooling] works as long as its
// connections reach PostgreSQL directly or through a session-mode pooler.
// Through a pooler in transaction mode (PgBouncer pool_mode=transaction)
// the Migrator cannot work at all: it holds session-level advisory locks and
// search_path on the connections it pins, and such a pooler hands each
// transaction to whichever server connection is free. Give the Migrator a
// URL that bypasses it.
//
// # Migration files
//
// Shared migrations are read from migrations/ and tenant migrations from
// tenant_migrations/ (see [WithSharedDir] and [WithTenantDir]). Two formats
// are accepted, even side by side in one folder:
//
//	0001_users.up.sql + 0001_users.down.sql      (golang-migrate)
//	0002_posts.sql with "-- +goose Up" and "-- +goose Down" sections (goose)
//
// Versions are positive integers (sequence numbers or timestamps); gaps
// between file numbers are allowed. Migrations may also be Go functions
// ([WithGoMigration]). A file name in neither format, a goose file without
// an Up section, an unknown goose annotation or two migrations with one
// version make New fail with an error matching [ErrInvalidMigration]. A
// folder named with WithSharedDir or WithTenantDir must exist; a default
// folder may be missing (no migrations of that set), but not both at once:
// New then fails with a [MissingDirError], as it does for a named folder
// that is missing.
//
// Each migration runs in one transaction together with its version row, so
// a failure leaves the schema at its previous version. A migration holding
// the line "-- +goose NO TRANSACTION" or "-- tenantpath:no-transaction" runs
// outside a transaction, one statement at a time (for CREATE INDEX
// CONCURRENTLY); its version row is written after its last statement.
// Statements are split where psql would split them: not inside strings,
// dollar-quoted bodies, comments or BEGIN ATOMIC bodies.
//
// A file must not begin or end transactions itself: a top-level BEGIN,
// START TRANSACTION, COMMIT, END, ROLLBACK, ABORT or PREPARE TRANSACTION
// makes New fail with a [ParseError] naming the file and the line. In a
// transactional migration it would commit half a migration without its
// version row (and leave half a schema behind a failed Create); in a
// non-transactional one it would leave the pinned connection inside a
// transaction the Migrator does not know of. DO blocks, function and
// procedure bodies and BEGIN ATOMIC bodies are not top level and may hold
// such words. To make statements of a non-transactional migration atomic,
// move them to a transactional migration of their own.
//
// # Version tables and checks
//
// Each schema has a version table (default tenantpath_migrations: version,
// name, checksum, applied_at, duration). Before a schema is migrated its
// table is compared with the files: an applied migration whose file changed
// is a [ChecksumError]; a version that is applied but defined by no file, or
// a pending migration older than the newest applied one (a gap), is a
// [HistoryError]. Either stops that schema before anything runs in it.
//
// # Tenants
//
// The tenant list comes from the application ([WithTenantSource]: its
// organisations table is the source of truth) or, by default, from the
// Migrator's registry table in the shared schema, which [Migrator.Create],
// [Migrator.Rename] and [Migrator.Drop] keep. [Migrator.Check] reports
// schemas that match the naming but are not tenants, and tenants whose schema
// is missing.
//
// [Migrator.Create] builds a tenant all or nothing: schema, version table,
// every tenant migration and the registry row in one transaction, sent as
// one consolidated script (five round trips whatever the number of
// migrations, the first of them trying to claim a spare; see
// [Migrator.EnsureSpares]). [Migrator.CreateTx] does the same inside the caller's
// transaction, so "insert the organisation, create its schema" commits or
// rolls back as one. [Migrator.Watch] tells the application (and
// tenanthttp's cache) of every tenant created, renamed or dropped.
//
// # Running many tenants
//
// [Migrator.Migrate] runs the shared migrations and then, only if they
// succeeded, [Migrator.MigrateTenants]. Before a run over tenants (and
// before [Migrator.Status]) the tenant list is checked, and nothing runs
// if it is wrong: a registry holding schema names the naming does not
// produce, as after a forgotten prefix ([NamingMismatchError]); ids given
// to [Only] or [Except] that are not tenants ([UnknownTenantsError]); an
// empty list while schemas that look like tenants exist
// ([NoTenantsFoundError]).
//
// Tenants run in parallel on a bounded number of workers. Each worker pins
// one connection; for each tenant it takes that tenant's own advisory lock
// (a 64-bit hash of its schema name, releasing the previous tenant's in the
// same statement) and sets search_path to the tenant's schema and the
// shared schemas. When the worker is done it unlocks and resets search_path
// with a context that cancellation cannot interrupt, and discards the
// connection if that fails. So two deploys never apply a migration twice,
// different tenants never wait for each other, and no pooled connection is
// left on a tenant path or holding a lock. A failing tenant does not stop or
// change the others; the run returns one [Result] per tenant and a
// [*PartialError] naming the failures, through which errors.Is and
// errors.As see every tenant's error.
//
// [Migrator.Status] reports every tenant without a round trip per tenant:
// one query per 500 tenants reads their version tables on the server. Each
// [Status] lists the migrations a run would apply, for a dry run.
//
// [WithLogger] reports runs, per-schema results with their durations,
// failures with their causes, and tenant changes to a [log/slog.Logger].
//
// # The fleet
//
// [Migrator.ForEachTenant] runs a function in every tenant selected by the
// run options, each in a transaction of its own already on the tenant's
// path, READ ONLY unless [Write]; [Migrator.QueryTenants] streams one
// query's rows from every tenant, each naming its tenant. Both hold each
// tenant's lock in shared mode, so a migration, rename or drop of that
// tenant waits for the work, and report per tenant as migrations do.
//
// [Migrator.EnsureSpares] keeps spare tenants built and migrated under
// reserved names (tenantpath.ReservedPrefix: never routable, never listed);
// [Migrator.Create] and [Migrator.CreateTx] claim one by renaming it, in one
// statement, and build the tenant when none is free. [Migrator.Migrate]
// brings the spares up to date.
//
// [Migrator.Export] writes one tenant (its migration history and its
// tables' data through COPY) as a portable archive; [Migrator.Import]
// creates a tenant from one, refusing an archive whose history the local
// migrations do not reproduce ([ArchiveVersionError]); [Migrator.Move]
// streams one into the other across databases, verifies the row counts and
// drops the source only when asked ([DropSource]). Archives need a pgx
// pool ([ErrCopyUnsupported]). [Migrator.Check] reports shared tables that
// shadow tenant tables. docs/fleet.md has the details and the archive
// format.
//
// # Concurrency
//
// A Migrator is safe for concurrent use by multiple goroutines, and any
// number of Migrators (processes, deploys) may work on one database at once.
package migrator
