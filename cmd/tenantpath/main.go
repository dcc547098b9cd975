// Command tenantpath runs the shared and tenant migrations of a
// schema-per-tenant PostgreSQL database and manages its tenants.
//
// Usage:
//
//	tenantpath [flags] migrate shared|tenants|all [--dry-run]
//	tenantpath [flags] rollback shared (--steps N | --to VERSION)
//	tenantpath [flags] rollback tenants (--steps N | --to VERSION) (--only IDS | --yes)
//	tenantpath [flags] status [--check]
//	tenantpath [flags] tenants create ID... | rename OLD NEW | drop --yes ID... | list | check
//	tenantpath [flags] tenants spares N
//	tenantpath [flags] tenants export ID FILE | import ID FILE    (FILE - for stdout, stdin)
//	tenantpath [flags] tenants move ID --to URL [--yes]
//	tenantpath [flags] exec SQL [--write]
//	tenantpath [flags] new shared|tenant NAME
//	tenantpath config | version | help
//
// Flags may come before or after the command words; tenantpath help lists
// them all, with the migration file formats.
//
// # Configuration
//
// Each setting (--database-url, --dir, --shared-dir, --tenant-dir, --prefix,
// --shared-schemas, --tenants-query, --version-table, --registry-table,
// --parallel, --continue-on-error, --progress) is also an environment
// variable (TENANTPATH_PREFIX, …; the database also DATABASE_URL) and a key
// of the config file (prefix, shared_schemas, …): tenantpath.toml in --dir,
// or the file named by --config or TENANTPATH_CONFIG. A flag wins over the
// environment, the environment over the file, the file over the default. A
// key the file does not know is an error. tenantpath config prints the
// resolved settings and where each came from. The flags of one invocation
// (--only, --except, --steps, --to, --yes, --json, --dry-run, --check,
// --write) are flags only: a confirmation kept in the environment would
// confirm every later command.
//
// # The fleet
//
// exec runs one statement in every tenant selected by --only and --except,
// --parallel at a time, each in a transaction of its own on the tenant's
// search_path: READ ONLY unless --write, so the server itself refuses an
// unintended write. It prints each tenant's rows (--json: one entry per
// tenant with its columns and rows, or its error). tenants spares N keeps N
// spare tenants built and migrated; tenants create (and the application's
// Create) then claims one in a single statement. tenants export writes one
// tenant to a portable archive (its migration history and its tables'
// data through COPY), tenants import creates a tenant from one, refusing an
// archive whose history the local migrations do not reproduce, and tenants
// move copies a tenant to the database --to names, checks every table's row
// count, and drops the source only with --yes. tenants check also reports
// shared tables named like tenant tables.
//
// Migrations are read from --dir (default "."): shared ones from its
// migrations/ folder, tenant ones from tenant_migrations/. --dir must exist,
// and so must at least one of the two folders and any folder named
// explicitly. Tenants are the migrator's registry table, or the first
// column of --tenants-query when given (e.g. "SELECT id FROM organisations").
//
// # Output
//
// On a terminal, or with --progress, runs over many tenants draw a progress
// bar; otherwise they print one line per tenant. Failures are printed once,
// sorted by tenant, after the run, with PostgreSQL's DETAIL and HINT. --json
// prints one JSON document instead. migrate --dry-run prints what would run
// in each schema and changes nothing. status --json carries a top-level
// up_to_date and counts by state.
//
// # Exit codes
//
//	0  success (status: the state could be read)
//	1  failure: nothing or not everything could be done (bad connection,
//	   shared migrations failed, invalid migration files, a tenant command
//	   failed, a dry run that would fail)
//	2  usage error: unknown command or flag, missing argument or --yes, bad
//	   config, a migration folder that does not exist
//	3  partial failure: a run over many tenants finished, but some tenants
//	   failed or were not run; the output names them
//	4  status --check: something is pending, changed, unknown or missing
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
