// Command quickstart shows tenantpath at work: it creates three tenant
// schemas, writes each tenant's notes through the driver, and prints what
// each tenant sees.
//
// It uses the server in DATABASE_URL when that is set, and otherwise starts
// an ephemeral PostgreSQL of its own and removes it on exit:
//
//	go run ./examples/quickstart
//	DATABASE_URL=postgres://localhost/mydb go run ./examples/quickstart
//
// Against DATABASE_URL it works in the schemas quickstart_acme,
// quickstart_globex and quickstart_initech: it drops them first if they
// exist, and again when it is done.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

func main() {
	log.SetFlags(0)
	// Ctrl-C cancels the demo, and the ephemeral server is still stopped.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		fmt.Println("DATABASE_URL is not set: starting an ephemeral PostgreSQL...")
		srv, err := pgtest.Start(pgtest.Options{})
		if err != nil {
			log.Fatalf("quickstart: %v", err)
		}
		dsn = srv.DSN()
		err = run(ctx, dsn, "quickstart_", os.Stdout)
		if serr := srv.Stop(); serr != nil && err == nil {
			err = serr
		}
		if err != nil {
			log.Fatalf("quickstart: %v", err)
		}
		fmt.Println("ephemeral PostgreSQL stopped and removed")
		return
	}
	if err := run(ctx, dsn, "quickstart_", os.Stdout); err != nil {
		log.Fatalf("quickstart: %v", err)
	}
}

// notes is what each tenant writes.
var notes = map[string][]string{
	"acme":    {"ship the rocket skates", "order more anvils"},
	"globex":  {"hammock district zoning"},
	"initech": {"find the red stapler", "TPS report cover sheets", "fix the Y2K bug"},
}

var tenants = []string{"acme", "globex", "initech"}

// run is the whole demo: every tenant's schema is prefix+tenant. It drops
// those schemas again before it returns.
func run(ctx context.Context, dsn, prefix string, w io.Writer) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	naming := tenantpath.Naming{Prefix: prefix}

	// The driver: pgx underneath (through tenantpgx, so that a switch
	// travels with its statement), tenantpath on top. A call without a
	// tenant fails instead of running on the default path.
	db, err := tenantpath.OpenDB(tenantpgx.GetConnector(*cfg), tenantpath.WithNaming(naming))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(2) // three tenants take turns on two connections

	var version string
	if err := db.QueryRowContext(tenantpath.WithShared(ctx), "SHOW server_version").Scan(&version); err != nil {
		return err
	}
	fmt.Fprintf(w, "connected to PostgreSQL %s\n\n", version)

	defer dropSchemas(context.WithoutCancel(ctx), db, naming)
	for _, step := range []func(context.Context, *sql.DB, tenantpath.Naming, io.Writer) error{
		createTenants, writeNotes, readNotes, showRefusals,
	} {
		if err := step(ctx, db, naming, w); err != nil {
			return err
		}
	}
	return nil
}

// createTenants gives each tenant a schema with the same table. (In an
// application the migrator does this: migrator.Create, or CreateTx in the
// sign-up transaction.)
func createTenants(ctx context.Context, db *sql.DB, naming tenantpath.Naming, w io.Writer) error {
	admin := tenantpath.WithShared(ctx)
	for _, t := range tenants {
		schema, _ := naming.Schema(t)
		q := tenantpath.QuoteIdentifier(schema)
		if _, err := db.ExecContext(admin, "DROP SCHEMA IF EXISTS "+q+" CASCADE; CREATE SCHEMA "+q+
			"; CREATE TABLE "+q+".notes (id bigserial PRIMARY KEY, body text NOT NULL)"); err != nil {
			return err
		}
		fmt.Fprintf(w, "created tenant %-8s in schema %s\n", t, schema)
	}
	fmt.Fprintln(w)
	return nil
}

// writeNotes writes each tenant's notes: the SQL never names a schema, the
// tenant is in the context.
func writeNotes(ctx context.Context, db *sql.DB, _ tenantpath.Naming, w io.Writer) error {
	for _, t := range tenants {
		tctx := tenantpath.WithTenant(ctx, t)
		for _, body := range notes[t] {
			if _, err := db.ExecContext(tctx, "INSERT INTO notes (body) VALUES ($1)", body); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "%-8s wrote %s\n", t, count(len(notes[t])))
	}
	fmt.Fprintln(w)
	return nil
}

// readNotes runs the same query for each tenant: three answers.
func readNotes(ctx context.Context, db *sql.DB, _ tenantpath.Naming, w io.Writer) error {
	for _, t := range tenants {
		rows, err := db.QueryContext(tenantpath.WithTenant(ctx, t), "SELECT body FROM notes ORDER BY id")
		if err != nil {
			return err
		}
		var got []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			got = append(got, s)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		fmt.Fprintf(w, "%-8s sees %s: %s\n", t, count(len(got)), strings.Join(quoteAll(got), ", "))
	}
	fmt.Fprintln(w)
	return nil
}

// showRefusals shows that a transaction stays with its tenant, and that
// what goes wrong is refused before it can read the wrong schema.
func showRefusals(ctx context.Context, db *sql.DB, _ tenantpath.Naming, w io.Writer) error {
	tx, err := db.BeginTx(tenantpath.WithTenant(ctx, "globex"), nil)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(tenantpath.WithTenant(ctx, "acme"), "DELETE FROM notes")
	tx.Rollback()
	fmt.Fprintf(w, "acme's DELETE inside globex's transaction:\n  %v\n", err)
	if !errors.Is(err, tenantpath.ErrTenantMismatch) {
		return fmt.Errorf("want ErrTenantMismatch, got %v", err)
	}
	for _, c := range []struct {
		what string
		ctx  context.Context
		want error
	}{
		{"a tenant without a schema (umbrella)", tenantpath.WithTenant(ctx, "umbrella"), tenantpath.ErrUnknownTenant},
		{`an invalid tenant id ("acme; DROP TABLE notes")`, tenantpath.WithTenant(ctx, "acme; DROP TABLE notes"), tenantpath.ErrInvalidTenant},
		{"no tenant in the context", ctx, tenantpath.ErrNoTenant},
	} {
		var n int
		err := db.QueryRowContext(c.ctx, "SELECT count(*) FROM notes").Scan(&n)
		fmt.Fprintf(w, "query for %s:\n  %v\n", c.what, err)
		if !errors.Is(err, c.want) {
			return fmt.Errorf("want %v, got %v", c.want, err)
		}
	}
	return nil
}

func dropSchemas(ctx context.Context, db *sql.DB, naming tenantpath.Naming) {
	for _, t := range tenants {
		schema, _ := naming.Schema(t)
		db.ExecContext(tenantpath.WithShared(ctx), "DROP SCHEMA IF EXISTS "+tenantpath.QuoteIdentifier(schema)+" CASCADE")
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func count(n int) string {
	if n == 1 {
		return "1 note"
	}
	return fmt.Sprintf("%d notes", n)
}
