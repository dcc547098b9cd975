// Command jobs shows how the tenant travels from a request into background
// work, two ways:
//
//   - a job queue: the tenant id is stored with each job (enqueued in the
//     tenant's own transaction), and the worker puts it back into the
//     context with tenantpath.WithTenant before running the job;
//   - a goroutine started by a request: it gets the request's context
//     through context.WithoutCancel, which keeps the tenant (and the other
//     values) but not the request's cancellation.
//
// Like the quickstart, it uses DATABASE_URL or starts an ephemeral
// PostgreSQL:
//
//	go run ./examples/jobs
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
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
	if err := mainErr(); err != nil {
		log.Fatalf("jobs: %v", err)
	}
}

func mainErr() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		srv, err := pgtest.Start(pgtest.Options{})
		if err != nil {
			return err
		}
		defer srv.Stop()
		dsn = srv.DSN()
	}
	return run(ctx, dsn, "jobs_", os.Stdout)
}

var tenants = []string{"acme", "globex"}

var posts = map[string][]string{
	"acme":   {"rocket skates ship on monday", "anvils"},
	"globex": {"the hammock district needs zoning approval before spring"},
}

// App is the part of an application that the example needs: the pool and
// the queue.
type App struct {
	db    *sql.DB
	queue *Queue
}

// AddNote is what a request handler does: in the tenant's transaction it
// stores the note and enqueues the job that will count its words.
func (a *App) AddNote(ctx context.Context, body string) (int64, error) {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, "INSERT INTO notes (body) VALUES ($1) RETURNING id", body).Scan(&id); err != nil {
		return 0, err
	}
	if err := a.queue.EnqueueTx(ctx, tx, "count_words", strconv.FormatInt(id, 10)); err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

// CountWords is the job handler. It never names a tenant: ctx carries the
// job's.
func (a *App) CountWords(ctx context.Context, j Job) error {
	var body string
	if err := a.db.QueryRowContext(ctx, "SELECT body FROM notes WHERE id = $1", j.Payload).Scan(&body); err != nil {
		return err
	}
	_, err := a.db.ExecContext(ctx,
		"INSERT INTO note_stats (note_id, words) VALUES ($1, $2) ON CONFLICT (note_id) DO UPDATE SET words = EXCLUDED.words",
		j.Payload, len(strings.Fields(body)))
	return err
}

// TouchAsync is the in-process way: work started by a request that must
// outlive it. context.WithoutCancel keeps the tenant; the request's
// cancellation (the client going away) no longer stops the work.
func (a *App) TouchAsync(reqCtx context.Context) <-chan error {
	done := make(chan error, 1)
	ctx := context.WithoutCancel(reqCtx)
	go func() {
		_, err := a.db.ExecContext(ctx, "UPDATE note_stats SET touched = true")
		done <- err
	}()
	return done
}

func run(ctx context.Context, dsn, prefix string, w io.Writer) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	// The shared schema is the example's own, so nothing lands in public.
	naming := tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "shared"}}
	db, err := tenantpath.OpenDB(tenantpgx.GetConnector(*cfg), tenantpath.WithNaming(naming))
	if err != nil {
		return err
	}
	defer db.Close()
	app := &App{db: db, queue: NewQueue(db, naming)}
	schemas := []string{prefix + "shared"}
	for _, t := range tenants {
		s, _ := naming.Schema(t)
		schemas = append(schemas, s)
	}
	defer dropSchemas(context.WithoutCancel(ctx), db, schemas)
	if err := createSchemas(ctx, app, schemas); err != nil {
		return err
	}

	// Requests: each tenant adds notes; each note enqueues a job.
	for _, t := range tenants {
		for _, body := range posts[t] {
			id, err := app.AddNote(tenantpath.WithTenant(ctx, t), body)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "request for %-6s added note %d and enqueued count_words(%d)\n", t, id, id)
		}
	}

	// The worker: a context with no tenant at all; each job brings its own.
	n, err := app.queue.Drain(ctx, app.CountWords)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "worker ran %d jobs\n", n)

	// The in-process way, from a "request" context that is then cancelled.
	reqCtx, cancelReq := context.WithCancel(tenantpath.WithTenant(ctx, "acme"))
	done := app.TouchAsync(reqCtx)
	cancelReq() // the client went away; the work goes on
	if err := <-done; err != nil {
		return err
	}
	fmt.Fprintln(w, "goroutine started by acme's request touched acme's stats after the request ended")
	return report(ctx, app, w)
}

// createSchemas makes the shared schema with the queue, and each tenant's
// schema with its tables.
func createSchemas(ctx context.Context, app *App, schemas []string) error {
	admin := tenantpath.WithShared(ctx)
	for _, s := range schemas {
		q := tenantpath.QuoteIdentifier(s)
		if _, err := app.db.ExecContext(admin, "DROP SCHEMA IF EXISTS "+q+" CASCADE; CREATE SCHEMA "+q); err != nil {
			return err
		}
	}
	for _, s := range schemas[1:] {
		q := tenantpath.QuoteIdentifier(s)
		if _, err := app.db.ExecContext(admin, "CREATE TABLE "+q+".notes (id bigserial PRIMARY KEY, body text NOT NULL);"+
			"CREATE TABLE "+q+".note_stats (note_id bigint PRIMARY KEY, words int NOT NULL, touched boolean NOT NULL DEFAULT false)"); err != nil {
			return err
		}
	}
	return app.queue.CreateTable(ctx)
}

func dropSchemas(ctx context.Context, db *sql.DB, schemas []string) {
	for _, s := range schemas {
		db.ExecContext(tenantpath.WithShared(ctx), "DROP SCHEMA IF EXISTS "+tenantpath.QuoteIdentifier(s)+" CASCADE")
	}
}

// report prints each tenant's notes with what the jobs found, and the
// failed jobs.
func report(ctx context.Context, app *App, w io.Writer) error {
	for _, t := range tenants {
		rows, err := app.db.QueryContext(tenantpath.WithTenant(ctx, t),
			"SELECT n.body, s.words, s.touched FROM notes n JOIN note_stats s ON s.note_id = n.id ORDER BY n.id")
		if err != nil {
			return err
		}
		for rows.Next() {
			var body string
			var words int
			var touched bool
			if err := rows.Scan(&body, &words, &touched); err != nil {
				rows.Close()
				return err
			}
			fmt.Fprintf(w, "%-6s %q: %d words, touched=%v\n", t, body, words, touched)
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	var failed int
	if err := app.db.QueryRowContext(tenantpath.WithShared(ctx), "SELECT count(*) FROM "+app.queue.table+" WHERE error IS NOT NULL").Scan(&failed); err != nil {
		return err
	}
	fmt.Fprintf(w, "failed jobs: %d\n", failed)
	return nil
}
