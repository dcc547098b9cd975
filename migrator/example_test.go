package migrator_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"testing/fstest"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
)

// A deploy: shared migrations first, then every tenant, eight at a time,
// continuing past failures and naming them at the end.
func Example() {
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	m, err := migrator.New(db, os.DirFS("db"), tenantpath.Naming{Prefix: "org_"})
	if err != nil {
		log.Fatal(err) // an unparsable or duplicate migration file
	}
	rep, err := m.Migrate(context.Background(), migrator.Workers(8), migrator.ContinueOnError())
	var partial *migrator.PartialError
	switch {
	case errors.As(err, &partial):
		log.Printf("%d tenants migrated, failed: %v", partial.Succeeded, partial.FailedTenants())
	case err != nil:
		log.Fatal(err) // e.g. the shared migrations failed: no tenant was touched
	default:
		log.Printf("shared at %d, %d tenants up to date", rep.Shared.To, len(rep.Tenants))
	}
}

// New checks every migration file before anything is sent to the server.
func ExampleNew_invalidFile() {
	db, _ := sql.Open("pgx", "postgres://localhost/unused") // not contacted
	fsys := fstest.MapFS{
		"tenant_migrations/0001_users.sql": {Data: []byte("CREATE TABLE users (id int);")},
	}
	_, err := migrator.New(db, fsys, tenantpath.Naming{Prefix: "org_"})
	fmt.Println(errors.Is(err, migrator.ErrInvalidMigration))
	fmt.Println(err)
	// Output:
	// true
	// migrator: tenant_migrations/0001_users.sql: no -- +goose Up section (a .sql file without .up/.down must be goose style)
}

// A migration file must not begin or end transactions itself: the migrator
// runs each migration in a transaction with its version row.
func ExampleNew_transactionControl() {
	db, _ := sql.Open("pgx", "postgres://localhost/unused") // not contacted
	fsys := fstest.MapFS{
		"tenant_migrations/0001_users.up.sql": {Data: []byte("BEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\n")},
	}
	_, err := migrator.New(db, fsys, tenantpath.Naming{Prefix: "org_"})
	var pe *migrator.ParseError
	if errors.As(err, &pe) {
		fmt.Println(pe.File, pe.Line)
	}
	// Output:
	// tenant_migrations/0001_users.up.sql 1
}

// A migration folder named explicitly must exist.
func ExampleNew_missingFolder() {
	db, _ := sql.Open("pgx", "postgres://localhost/unused") // not contacted
	fsys := fstest.MapFS{"db/tenant/0001_users.up.sql": {Data: []byte("CREATE TABLE users (id int);")}}
	_, err := migrator.New(db, fsys, tenantpath.Naming{Prefix: "org_"}, migrator.WithTenantDir("db/tenants"))
	fmt.Println(errors.Is(err, migrator.ErrMissingDir))
	fmt.Println(err)
	// Output:
	// true
	// migrator: migration folder "db/tenants" does not exist
}

// The migrator reports its runs to the application's logger, and tells a
// tenanthttp cache of every tenant it creates, renames or drops.
func ExampleMigrator_Watch() {
	var db *sql.DB
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	m, err := migrator.New(db, os.DirFS("db"), tenantpath.Naming{Prefix: "org_"}, migrator.WithLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	stop := m.Watch(func(tenant string, exists bool) {
		logger.Info("tenant changed", "tenant", tenant, "exists", exists)
	})
	defer stop()
	// tenanthttp.WithTenants(m, time.Minute) does the same to keep its cache.
	if err := m.Create(context.Background(), "42"); err != nil {
		log.Fatal(err)
	}
}

// Both file formats may sit side by side; Go migrations join them.
func ExampleMigrator_Migrations() {
	db, _ := sql.Open("pgx", "postgres://localhost/unused") // not contacted
	fsys := fstest.MapFS{
		"tenant_migrations/0001_users.up.sql":   {Data: []byte("CREATE TABLE users (id bigserial PRIMARY KEY);")},
		"tenant_migrations/0001_users.down.sql": {Data: []byte("DROP TABLE users;")},
		"tenant_migrations/0002_email_idx.sql": {Data: []byte(`-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY users_id ON users (id);
`)},
	}
	seed := migrator.GoMigration{Version: 3, Name: "seed", Up: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO users DEFAULT VALUES")
		return err
	}}
	m, err := migrator.New(db, fsys, tenantpath.Naming{Prefix: "org_"},
		migrator.WithGoMigration(migrator.TenantSet, seed))
	if err != nil {
		log.Fatal(err)
	}
	for _, mig := range m.Migrations(migrator.TenantSet) {
		fmt.Println(mig.Version, mig.Name, mig.Source, "notx:", mig.NoTx, "down:", mig.HasDown)
	}
	// Output:
	// 1 users tenant_migrations/0001_users.up.sql notx: false down: true
	// 2 email_idx tenant_migrations/0002_email_idx.sql notx: true down: false
	// 3 seed go:seed notx: false down: false
}

// Sign-up: the organisation row and its schema commit or roll back together.
// db may be the application's pool opened through tenantpath: the
// transaction is begun for the shared scope, where the organisations table
// lives, and CreateTx works inside it whatever scope it carries.
func ExampleMigrator_CreateTx() {
	var db *sql.DB           // the application's pool
	var m *migrator.Migrator // built with migrator.WithTenantSource over organisations
	ctx := tenantpath.WithShared(context.Background())

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO organisations (id, name) VALUES ($1, $2)", "42", "Acme"); err != nil {
		log.Fatal(err)
	}
	if err := m.CreateTx(ctx, tx, "42"); err != nil { // schema org_42, all tenant migrations
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
}

// The application's organisations table is the list of tenants.
func ExampleWithTenantSource() {
	var db *sql.DB
	source := migrator.TenantsFromQuery(db, "SELECT id FROM organisations WHERE deleted_at IS NULL")
	m, err := migrator.New(db, os.DirFS("db"), tenantpath.Naming{Prefix: "org_"},
		migrator.WithTenantSource(source))
	if err != nil {
		log.Fatal(err)
	}
	report, err := m.Check(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("schemas without tenant:", report.Orphans, "tenants without schema:", report.Missing)
}

// Status of every tenant, one query per 500 tenants; its pending
// migrations make a dry run.
func ExampleMigrator_Status() {
	var m *migrator.Migrator
	st, err := m.Status(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range st {
		if s.UpToDate() {
			continue
		}
		fmt.Printf("%s: at %d, would apply:\n", s.Tenant, s.Version)
		for _, mig := range s.PendingMigrations {
			fmt.Printf("  %d %s (non-transactional: %v)\n", mig.Version, mig.Name, mig.NoTx)
		}
	}
}

// Mistakes in what a run is asked to do stop it before anything runs,
// each with its own error.
func ExampleNamingMismatchError() {
	var m *migrator.Migrator
	_, err := m.MigrateTenants(context.Background(), migrator.Only("42"))
	var (
		mismatch *migrator.NamingMismatchError
		unknown  *migrator.UnknownTenantsError
		none     *migrator.NoTenantsFoundError
	)
	switch {
	case errors.As(err, &mismatch) && mismatch.Prefix != "":
		log.Fatalf("the registry's schemas are named %q + id: use that prefix", mismatch.Prefix)
	case errors.As(err, &unknown):
		log.Fatalf("not tenants: %v", unknown.Tenants)
	case errors.As(err, &none):
		log.Fatalf("the tenant source lists nobody, yet %d schemas look like tenants", len(none.Schemas))
	case err != nil:
		log.Fatal(err)
	}
}

// A progress callback, and a clean stop on Ctrl-C: running migrations roll
// back, locks are released, tenants not started are listed as skipped.
func ExampleOnProgress() {
	var m *migrator.Migrator
	ctx, stop := signalContext()
	defer stop()
	_, err := m.MigrateTenants(ctx, migrator.OnProgress(func(p migrator.Progress) {
		fmt.Printf("\r%d/%d (%d failed)", p.Done, p.Total, p.Failed)
	}))
	var partial *migrator.PartialError
	if errors.As(err, &partial) {
		fmt.Println("\nnot run:", len(partial.Skipped))
	}
}

func signalContext() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
