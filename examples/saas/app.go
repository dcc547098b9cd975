package main

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
	"github.com/tenantpath/tenantpath/tenanthttp"
)

// migrations holds the shared migrations (migrations/) and the tenant
// migrations (tenant_migrations/), the migrator's default folders.
//
//go:embed migrations tenant_migrations
var migrations embed.FS

// Config configures the notes service.
type Config struct {
	DSN        string            // a URL or key=value DSN for pgx
	Naming     tenantpath.Naming // where organisations live, e.g. Prefix "org_"
	BaseDomain string            // "notes.localhost": acme.notes.localhost is organisation acme
	CacheTTL   time.Duration     // how long the list of organisations is trusted; default 30s
}

// App is the notes service: sign-up at POST /signup, and each
// organisation's notes at GET and POST /notes, on its subdomain or with an
// X-Tenant-ID header.
type App struct {
	db       *sql.DB // tenantpath over pgx: every statement goes to the context's tenant
	admin    *sql.DB // plain pgx, for the migrator
	migrator *migrator.Migrator
	naming   tenantpath.Naming
	handler  http.Handler
}

// NewApp connects, applies the migrations (shared first, then every
// organisation's) and builds the HTTP handler.
func NewApp(ctx context.Context, cfg Config) (*App, error) {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 30 * time.Second
	}
	pgcfg, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, err
	}
	a := &App{naming: cfg.Naming}
	// A statement that forgot its context fails (ErrNoTenant) instead of
	// running on the default search_path.
	a.db, err = tenantpath.OpenDB(stdlib.GetConnector(*pgcfg),
		tenantpath.WithNaming(cfg.Naming))
	if err != nil {
		return nil, err
	}
	a.admin = stdlib.OpenDB(*pgcfg)
	if err := a.setup(ctx, cfg); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) setup(ctx context.Context, cfg Config) error {
	var err error
	a.migrator, err = migrator.New(a.admin, migrations, a.naming,
		migrator.WithTenantSource(a.listOrganisations))
	if err != nil {
		return err
	}
	if _, err := a.migrator.Migrate(ctx); err != nil {
		return err
	}
	// The middleware knows the organisations through the migrator: it
	// lists them, and tells the middleware's cache of every organisation it
	// creates, so a new one is served on its very next request.
	tenant, err := tenanthttp.New([]tenanthttp.Resolver{
		tenanthttp.Subdomain(cfg.BaseDomain, "www", "api"),
		tenanthttp.Header(""),
	}, tenanthttp.WithNaming(a.naming), tenanthttp.WithTenants(a.migrator, cfg.CacheTTL))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signup", a.signup)
	notes := http.NewServeMux()
	notes.HandleFunc("GET /notes", a.listNotes)
	notes.HandleFunc("POST /notes", a.addNote)
	mux.Handle("/notes", tenant(notes))
	a.handler = mux
	return nil
}

// Handler returns the service's HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// Close closes the database pools.
func (a *App) Close() {
	a.db.Close()
	a.admin.Close()
}

// listOrganisations is the tenant list, for the migrator and the
// middleware: the organisations table.
func (a *App) listOrganisations(ctx context.Context) ([]string, error) {
	rows, err := a.db.QueryContext(tenantpath.WithShared(ctx), "SELECT slug FROM organisations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var slugs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		slugs = append(slugs, s)
	}
	return slugs, rows.Err()
}

// errSlugTaken: an organisation, or a schema, of that name exists already.
var errSlugTaken = errors.New("that name is taken")

// SignUp creates an organisation: its row in the shared organisations table
// and its schema with every tenant migration, in one transaction. Either
// both exist afterwards or neither does.
func (a *App) SignUp(ctx context.Context, slug, name string) error {
	if _, err := a.naming.Schema(slug); err != nil {
		return err
	}
	// The transaction runs in the shared scope: the organisations table is
	// there, and CreateTx qualifies everything it creates.
	ctx = tenantpath.WithShared(ctx)
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx,
		"INSERT INTO organisations (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING", slug, name)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errSlugTaken
	}
	if err := a.migrator.CreateTx(ctx, tx, slug); err != nil {
		if errors.Is(err, migrator.ErrTenantExists) {
			return errSlugTaken
		}
		return err
	}
	// The migrator has told the middleware's cache of the new
	// organisation: it is routed on its next request, not in CacheTTL.
	return tx.Commit()
}

func (a *App) signup(w http.ResponseWriter, r *http.Request) {
	slug, name := strings.TrimSpace(r.FormValue("slug")), strings.TrimSpace(r.FormValue("name"))
	if name == "" {
		name = slug
	}
	err := a.SignUp(r.Context(), slug, name)
	switch {
	case errors.Is(err, tenantpath.ErrInvalidTenant):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, errSlugTaken):
		http.Error(w, fmt.Sprintf("organisation %q: %v", slug, err), http.StatusConflict)
	case err != nil:
		serverError(w, err)
	default:
		writeJSON(w, http.StatusCreated, map[string]string{"slug": slug, "name": name})
	}
}

// Note is one note of an organisation.
type Note struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

func (a *App) listNotes(w http.ResponseWriter, r *http.Request) {
	// r.Context() carries the tenant: this reads the organisation's notes
	// table, never another's.
	rows, err := a.db.QueryContext(r.Context(), "SELECT id, title, body FROM notes ORDER BY id")
	if err != nil {
		serverError(w, err)
		return
	}
	defer rows.Close()
	notes := []Note{}
	for rows.Next() {
		var n Note
		if err := rows.Scan(&n.ID, &n.Title, &n.Body); err != nil {
			serverError(w, err)
			return
		}
		notes = append(notes, n)
	}
	if err := rows.Err(); err != nil {
		serverError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, notes)
}

func (a *App) addNote(w http.ResponseWriter, r *http.Request) {
	n := Note{Title: strings.TrimSpace(r.FormValue("title")), Body: r.FormValue("body")}
	if n.Title == "" {
		http.Error(w, "a note needs a title", http.StatusBadRequest)
		return
	}
	err := a.db.QueryRowContext(r.Context(),
		"INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING id", n.Title, n.Body).Scan(&n.ID)
	if err != nil {
		serverError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func serverError(w http.ResponseWriter, err error) {
	// The log gets the details; the client learns nothing about the schema.
	log.Printf("saas: %v", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
