package migrator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/migrator"
	"github.com/tenantpath/tenantpath/tenanthttp"
)

// changeLog records what a Watch function is told.
type changeLog struct {
	mu   sync.Mutex
	seen []string
}

func (c *changeLog) fn(tenant string, exists bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, fmt.Sprintf("%s=%v", tenant, exists))
}

func (c *changeLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.seen
	c.seen = nil
	return out
}

// Watch is told of every tenant created, renamed or dropped, once the
// change is made, and of nothing that failed.
func TestWatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS(), migrator.WithDrop(nil))
	var log, other changeLog
	stop := m.Watch(log.fn)
	stopOther := m.Watch(other.fn)

	if err := m.Create(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(ctx, "a"); !errors.Is(err, migrator.ErrTenantExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := m.Rename(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := m.Rename(ctx, "a", "c"); !errors.Is(err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("renaming a missing tenant: %v", err)
	}
	if err := m.Drop(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got, want := log.take(), []string{"a=true", "a=false", "b=true", "b=false"}; !slices.Equal(got, want) {
		t.Fatalf("watch saw %v, want %v", got, want)
	}

	// CreateTx reports when it returns, before the caller commits.
	for _, commit := range []bool{true, false} {
		tx, err := e.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CreateTx(ctx, tx, "tx"); err != nil {
			t.Fatal(err)
		}
		if got := log.take(); !slices.Equal(got, []string{"tx=true"}) {
			t.Fatalf("CreateTx (commit %v): watch saw %v", commit, got)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		if !commit {
			continue
		}
		if err := m.Drop(ctx, "tx"); err != nil {
			t.Fatal(err)
		}
		log.take()
	}

	stop()
	stop() // a second call does nothing
	if err := m.Create(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 0 {
		t.Fatalf("stopped watch saw %v", got)
	}
	stopOther()
	if got := other.take(); !slices.Equal(got, []string{"a=true", "a=false", "b=true", "b=false", "tx=true", "tx=false", "tx=true", "d=true"}) {
		t.Fatalf("second watcher saw %v", got)
	}
	if stopNil := m.Watch(nil); stopNil == nil {
		t.Fatal("Watch(nil) returned a nil stop")
	}
	if err := m.Drop(ctx, "d"); err != nil { // Watch(nil) is never called
		t.Fatal(err)
	}
}

// After a CreateTx whose transaction rolls back, the tenant it reported is
// refused by the driver as unknown: nothing of another tenant is read.
func TestCreateTxRolledBackIsUnknown(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if err := m.Create(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	routed := tptest.OpenWrapped(t, tptest.PGX.Connector(t, pgtest.DSN(t), false), tenantpath.WithNaming(e.naming))
	tx, err := routed.BeginTx(tenantpath.WithShared(ctx), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateTx(ctx, tx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	var n int
	err = routed.QueryRowContext(tenantpath.WithTenant(ctx, "gone"), "SELECT count(*) FROM users").Scan(&n)
	if !errors.Is(err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("reading a tenant whose creation rolled back: %d, %v", n, err)
	}
}

// tenanthttp over the migrator on a routed pool with default options: the
// lister answers (hole 1 of issue 9: it failed with ErrNoTenant, so every
// request got 500), and a tenant created in this process is routed on the
// very next request (Watch).
func TestTenantHTTPOverRoutedMigrator(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createTenants(t, e.migrator(basicFS()), 2)
	routed := tptest.OpenWrapped(t, tptest.PGX.Connector(t, pgtest.DSN(t), false), tenantpath.WithNaming(e.naming))
	m := e.migratorOn(routed, basicFS())
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var users int
		if err := routed.QueryRowContext(r.Context(), "SELECT count(*) FROM users").Scan(&users); err != nil {
			http.Error(w, err.Error(), tenanthttp.StatusOf(err))
			return
		}
		fmt.Fprint(w, users)
	})
	for name, check := range map[string]tenanthttp.Option{
		"WithLister":  tenanthttp.WithLister(m.List, time.Minute),
		"WithTenants": tenanthttp.WithTenants(m, time.Minute),
	} {
		t.Run(name, func(t *testing.T) {
			mw, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")},
				tenanthttp.WithNaming(e.naming), check)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(mw(handler))
			defer srv.Close()
			get := func(tenant string) int {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
				req.Header.Set(tenanthttp.DefaultHeader, tenant)
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if got := get("0"); got != http.StatusOK {
				t.Fatalf("known tenant: %d", got)
			}
			if got := get("nope"); got != http.StatusNotFound {
				t.Fatalf("unknown tenant: %d", got)
			}
			if name != "WithTenants" {
				return
			}
			if err := m.Create(ctx, "fresh"); err != nil {
				t.Fatal(err)
			}
			if got := get("fresh"); got != http.StatusOK {
				t.Fatalf("tenant created in process: %d on the next request", got)
			}
		})
	}
}
