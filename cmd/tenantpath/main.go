// Command tenantpath runs the shared and tenant migrations of a
// schema-per-tenant PostgreSQL database and manages its tenants.
//
// Usage:
//
//	tenantpath [flags] migrate shared|tenants|all
//	tenantpath [flags] rollback shared|tenants (--steps N | --to VERSION)
//	tenantpath [flags] status
//	tenantpath [flags] tenants create ID... | rename OLD NEW | drop --yes ID... | list | check
//
// Flags may come before or after the command words. The database is
// --database-url, or else the DATABASE_URL environment variable. Migrations
// are read from --dir (default "."): shared ones from its migrations/ folder,
// tenant ones from tenant_migrations/ (see --shared-dir and --tenant-dir).
// Tenants are the migrator's registry table, or the first column of
// --tenants-query when given (e.g. "SELECT id FROM organisations").
//
// On a terminal, runs over many tenants draw a progress bar; otherwise they
// print one line per tenant. --json prints one JSON document instead.
//
// Exit codes:
//
//	0  success
//	1  failure: nothing or not everything could be done (bad connection,
//	   shared migrations failed, invalid migration files, a tenant command
//	   failed)
//	2  usage error: unknown command or flag, missing argument
//	3  partial failure: a run over many tenants finished, but some tenants
//	   failed or were not run; the output names them
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
