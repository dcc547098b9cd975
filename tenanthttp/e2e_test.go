package tenanthttp_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/tenanthttp"
)

// notesServer is a small application: GET /notes lists the titles of the
// tenant's notes as JSON, POST /notes?title=... adds one. It never names a
// schema: the tenant travels in the request's context.
func notesServer(db *sql.DB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {
		rows, err := db.QueryContext(r.Context(), "SELECT title FROM notes ORDER BY id")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		titles := []string{}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			titles = append(titles, s)
		}
		if err := rows.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(titles)
	})
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
		_, err := db.ExecContext(r.Context(), "INSERT INTO notes (title) VALUES ($1)", r.URL.Query().Get("title"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	return mux
}

// setupTenants creates a schema with a notes table for each tenant, holding
// one note titled "<tenant> note", and returns the tenantpath-wrapped pool.
func setupTenants(t *testing.T, naming tenantpath.Naming, tenants ...string) *sql.DB {
	t.Helper()
	dsn := pgtest.DSN(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, id := range tenants {
		schema, err := naming.Schema(id)
		if err != nil {
			t.Fatal(err)
		}
		q := tenantpath.QuoteIdentifier(schema)
		_, err = admin.Exec(fmt.Sprintf(`CREATE SCHEMA %[1]s;
CREATE TABLE %[1]s.notes (id bigserial PRIMARY KEY, title text NOT NULL);
INSERT INTO %[1]s.notes (title) VALUES (%[2]s)`, q, tenantpath.QuoteLiteral(id+" note")))
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg), tenantpath.WithNaming(naming))
	if err != nil {
		t.Fatal(err)
	}
	// Few connections, so tenants take turns on the same ones.
	db.SetMaxOpenConns(3)
	t.Cleanup(func() { db.Close() })
	return db
}

// schemaLister lists the tenants whose schemas exist, the way an
// application without a tenants table could.
func schemaLister(db *sql.DB, naming tenantpath.Naming) tenanthttp.Lister {
	return func(ctx context.Context) ([]string, error) {
		rows, err := db.QueryContext(tenantpath.WithShared(ctx), "SELECT nspname FROM pg_catalog.pg_namespace")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			if id, ok := naming.Tenant(s); ok {
				ids = append(ids, id)
			}
		}
		return ids, rows.Err()
	}
}

// call sends one request to srv for the host given (the connection still
// goes to srv) and returns the status and body.
func call(t *testing.T, client *http.Client, method, srvURL, host, path string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srvURL+path, nil)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func TestEndToEndThroughTheDriver(t *testing.T) {
	naming := tenantpath.Naming{Prefix: pgtest.UniquePrefix(t)}
	tenants := []string{"acme", "globex", "initech"}
	db := setupTenants(t, naming, tenants...)

	mw, err := tenanthttp.New([]tenanthttp.Resolver{
		tenanthttp.Subdomain("example.test", "www"),
		tenanthttp.PathPrefix("/t", tenanthttp.StripPrefix),
		tenanthttp.Header(""),
	}, tenanthttp.WithNaming(naming), tenanthttp.WithLister(schemaLister(db, naming), time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(notesServer(db)))
	defer srv.Close()
	client := srv.Client()

	// Each tenant writes a note of its own, through each resolver, all at
	// once.
	var wg sync.WaitGroup
	for _, id := range tenants {
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				title := url.QueryEscape(fmt.Sprintf("%s write %d", id, i))
				var status int
				switch i {
				case 0:
					status, _ = call(t, client, "POST", srv.URL, id+".example.test", "/notes?title="+title)
				case 1:
					status, _ = call(t, client, "POST", srv.URL, "www.example.test", "/t/"+id+"/notes?title="+title)
				default:
					status, _ = call(t, client, "POST", srv.URL, "api.internal", "/notes?title="+title, "X-Tenant-ID", id)
				}
				if status != http.StatusCreated {
					t.Errorf("tenant %s write %d: status %d", id, i, status)
				}
			}()
		}
	}
	wg.Wait()

	// Then many concurrent reads, mixed across tenants and resolvers: each
	// sees its own four notes and nothing else.
	for round := 0; round < 10; round++ {
		for _, id := range tenants {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var status int
				var body string
				switch round % 3 {
				case 0:
					status, body = call(t, client, "GET", srv.URL, id+".example.test:8080", "/notes")
				case 1:
					status, body = call(t, client, "GET", srv.URL, "www.example.test", "/t/"+id+"/notes")
				default:
					status, body = call(t, client, "GET", srv.URL, "api.internal", "/notes", "X-Tenant-ID", id)
				}
				if status != http.StatusOK {
					t.Errorf("tenant %s: status %d, body %q", id, status, body)
					return
				}
				var titles []string
				if err := json.Unmarshal([]byte(body), &titles); err != nil {
					t.Errorf("tenant %s: body %q: %v", id, body, err)
					return
				}
				slices.Sort(titles)
				want := []string{id + " note", id + " write 0", id + " write 1", id + " write 2"}
				if !slices.Equal(titles, want) {
					t.Errorf("tenant %s sees %q, want %q", id, titles, want)
				}
			}()
		}
	}
	wg.Wait()

	// Refusals never reach the database.
	for _, tc := range []struct {
		host, path string
		header     []string
		status     int
	}{
		{"umbrella.example.test", "/notes", nil, http.StatusNotFound},     // no such schema
		{"www.example.test", "/notes", nil, http.StatusBadRequest},        // no tenant
		{"www.example.test", "/t/Acme/notes", nil, http.StatusBadRequest}, // invalid
		{"x", "/notes", []string{"X-Tenant-ID", "a;b"}, http.StatusBadRequest},
	} {
		if status, body := call(t, client, "GET", srv.URL, tc.host, tc.path, tc.header...); status != tc.status {
			t.Errorf("%s%s: status %d (%q), want %d", tc.host, tc.path, status, body, tc.status)
		}
	}
}

// Without an existence check, the driver itself refuses an unknown tenant:
// the handler's query fails instead of reading another schema.
func TestEndToEndUnknownTenantWithoutCheck(t *testing.T) {
	naming := tenantpath.Naming{Prefix: pgtest.UniquePrefix(t)}
	db := setupTenants(t, naming, "acme")
	queryErrs := make(chan error, 2)
	mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")}, tenanthttp.WithNaming(naming))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		err := db.QueryRowContext(r.Context(), "SELECT count(*) FROM notes").Scan(&n)
		queryErrs <- err
		fmt.Fprint(w, n)
	})))
	defer srv.Close()
	status, body := call(t, srv.Client(), "GET", srv.URL, "x", "/", "X-Tenant-ID", "acme")
	if queryErr := <-queryErrs; status != 200 || body != "1" || queryErr != nil {
		t.Fatalf("known tenant: status %d body %q err %v", status, body, queryErr)
	}
	call(t, srv.Client(), "GET", srv.URL, "x", "/", "X-Tenant-ID", "globex")
	if queryErr := <-queryErrs; !errors.Is(queryErr, tenantpath.ErrUnknownTenant) {
		t.Fatalf("unknown tenant: query error %v, want ErrUnknownTenant", queryErr)
	}
}
