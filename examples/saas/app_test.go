package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type testApp struct {
	t      *testing.T
	app    *App
	srv    *httptest.Server
	naming tenantpath.Naming
	dsn    string
}

func startApp(t *testing.T) *testApp {
	t.Helper()
	prefix := pgtest.UniquePrefix(t)
	// The shared schema is the test's own too, so tests never share an
	// organisations table.
	naming := tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "app"}}
	dsn := pgtest.DSN(t)
	app, err := NewApp(context.Background(), Config{DSN: dsn, Naming: naming, BaseDomain: "notes.test", CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		srv.Close()
		app.Close()
	})
	return &testApp{t: t, app: app, srv: srv, naming: naming, dsn: dsn}
}

// do sends a request to the app as if to host, with form values and
// headers given as key, value pairs ("H:" keys are headers).
func (ta *testApp) do(method, host, path string, kv ...string) (int, string) {
	form := url.Values{}
	var hdr [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := strings.CutPrefix(kv[i], "H:"); ok {
			hdr = append(hdr, [2]string{k, kv[i+1]})
		} else {
			form.Add(kv[i], kv[i+1])
		}
	}
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, ta.srv.URL+path, body)
	if err != nil {
		ta.t.Error(err)
		return 0, ""
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Host = host
	for _, h := range hdr {
		req.Header.Set(h[0], h[1])
	}
	resp, err := ta.srv.Client().Do(req)
	if err != nil {
		ta.t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestSignUpAndIsolationOverHTTP(t *testing.T) {
	ta := startApp(t)
	orgs := []string{"acme", "globex", "initech", "umbrella"}

	// Everyone signs up at once.
	var wg sync.WaitGroup
	for _, org := range orgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, body := ta.do("POST", "www.notes.test", "/signup", "slug", org, "name", org+" Inc"); status != http.StatusCreated {
				t.Errorf("sign-up %s: %d %s", org, status, body)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Every organisation writes five notes, by subdomain or by header, all
	// at once.
	for _, org := range orgs {
		for i := 0; i < 5; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				title := fmt.Sprintf("%s note %d", org, i)
				var status int
				var body string
				if i%2 == 0 {
					status, body = ta.do("POST", org+".notes.test", "/notes", "title", title)
				} else {
					status, body = ta.do("POST", "api.notes.test", "/notes", "title", title, "H:X-Tenant-ID", org)
				}
				if status != http.StatusCreated {
					t.Errorf("%s: %d %s", title, status, body)
				}
			}()
		}
	}
	wg.Wait()

	// And reads them back, all at once: each sees exactly its own five.
	for round := 0; round < 4; round++ {
		for _, org := range orgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var status int
				var body string
				if round%2 == 0 {
					status, body = ta.do("GET", org+".notes.test:8080", "/notes")
				} else {
					status, body = ta.do("GET", "127.0.0.1", "/notes", "H:X-Tenant-ID", org)
				}
				if status != http.StatusOK {
					t.Errorf("%s: %d %s", org, status, body)
					return
				}
				var notes []Note
				if err := json.Unmarshal([]byte(body), &notes); err != nil {
					t.Errorf("%s: %v in %q", org, err, body)
					return
				}
				if len(notes) != 5 {
					t.Errorf("%s sees %d notes, want 5: %s", org, len(notes), body)
				}
				for _, n := range notes {
					if !strings.HasPrefix(n.Title, org+" note ") {
						t.Errorf("%s sees another organisation's note %q", org, n.Title)
					}
				}
			}()
		}
	}
	wg.Wait()
}

func TestRefusals(t *testing.T) {
	ta := startApp(t)
	if status, body := ta.do("POST", "notes.test", "/signup", "slug", "acme"); status != http.StatusCreated {
		t.Fatalf("sign-up: %d %s", status, body)
	}
	for _, tc := range []struct {
		name, method, host, path string
		kv                       []string
		status                   int
	}{
		{"taken", "POST", "notes.test", "/signup", []string{"slug", "acme"}, http.StatusConflict},
		{"invalid slug", "POST", "notes.test", "/signup", []string{"slug", "Acme Corp"}, http.StatusBadRequest},
		{"empty slug", "POST", "notes.test", "/signup", nil, http.StatusBadRequest},
		{"unknown organisation", "GET", "globex.notes.test", "/notes", nil, http.StatusNotFound},
		{"no organisation", "GET", "www.notes.test", "/notes", nil, http.StatusBadRequest},
		{"invalid organisation", "GET", "x", "/notes", []string{"H:X-Tenant-ID", "acme;drop"}, http.StatusBadRequest},
		{"note without title", "POST", "acme.notes.test", "/notes", nil, http.StatusBadRequest},
	} {
		if status, body := ta.do(tc.method, tc.host, tc.path, tc.kv...); status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, body, tc.status)
		}
	}
}

// TestSignUpIsAtomic: when the schema cannot be created, the organisation
// row is rolled back with it.
func TestSignUpIsAtomic(t *testing.T) {
	ta := startApp(t)
	plain, err := sql.Open("pgx", ta.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	// A stray schema holds the name the new organisation would get.
	schema, _ := ta.naming.Schema("stray")
	if _, err := plain.Exec("CREATE SCHEMA " + tenantpath.QuoteIdentifier(schema)); err != nil {
		t.Fatal(err)
	}
	if status, body := ta.do("POST", "notes.test", "/signup", "slug", "stray"); status != http.StatusConflict {
		t.Fatalf("sign-up over a stray schema: %d %s, want 409", status, body)
	}
	orgTable := tenantpath.QuoteIdentifier(ta.naming.SharedSchemas()[0]) + ".organisations"
	var n int
	if err := plain.QueryRow("SELECT count(*) FROM " + orgTable + " WHERE slug = 'stray'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("the organisation row survived a failed sign-up")
	}

	// A successful sign-up leaves both.
	if status, body := ta.do("POST", "notes.test", "/signup", "slug", "acme"); status != http.StatusCreated {
		t.Fatalf("sign-up: %d %s", status, body)
	}
	acme, _ := ta.naming.Schema("acme")
	var haveRow, haveTable bool
	err = plain.QueryRow("SELECT EXISTS (SELECT FROM "+orgTable+" WHERE slug = 'acme'), to_regclass($1) IS NOT NULL",
		tenantpath.QuoteIdentifier(acme)+".notes").Scan(&haveRow, &haveTable)
	if err != nil || !haveRow || !haveTable {
		t.Fatalf("after sign-up: row %v, notes table %v, err %v", haveRow, haveTable, err)
	}

	// Restarting the app migrates the existing organisations and keeps
	// their data.
	if status, _ := ta.do("POST", "acme.notes.test", "/notes", "title", "kept"); status != http.StatusCreated {
		t.Fatal("note not added")
	}
	again, err := NewApp(context.Background(), Config{DSN: ta.dsn, Naming: ta.naming, BaseDomain: "notes.test"})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer again.Close()
	srv := httptest.NewServer(again.Handler())
	defer srv.Close()
	ta.srv = srv
	if status, body := ta.do("GET", "acme.notes.test", "/notes"); status != http.StatusOK || !strings.Contains(body, `"kept"`) {
		t.Fatalf("after restart: %d %s", status, body)
	}
}
