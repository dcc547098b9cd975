// Package ormtest holds what the ORM examples' tests share: tenants with a
// notes table on the test server, pools through the tenantpath driver, and
// the isolation check every example must pass.
package ormtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

// Tenants are the tenants Setup creates.
var Tenants = []string{"acme", "globex", "initech"}

// Setup creates, for each of Tenants, a schema holding an empty notes table
// (id bigserial, title text), named with a prefix unique to t and dropped
// when t ends. It returns the Naming that finds them.
func Setup(t testing.TB) tenantpath.Naming {
	t.Helper()
	naming := tenantpath.Naming{Prefix: pgtest.UniquePrefix(t)}
	admin, err := sql.Open("pgx", pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, id := range Tenants {
		schema, err := naming.Schema(id)
		if err != nil {
			t.Fatal(err)
		}
		q := tenantpath.QuoteIdentifier(schema)
		if _, err := admin.Exec("CREATE SCHEMA " + q + "; CREATE TABLE " + q +
			".notes (id bigserial PRIMARY KEY, title text NOT NULL)"); err != nil {
			t.Fatal(err)
		}
	}
	return naming
}

// OpenPgx returns a pool of pgx connections through the tenantpath driver,
// refusing calls without a tenant, closed when t ends. Two connections at most, so
// tenants take turns on them.
func OpenPgx(t testing.TB, naming tenantpath.Naming) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	return open(t, stdlib.GetConnector(*cfg), naming)
}

// OpenPQ is OpenPgx with lib/pq underneath.
func OpenPQ(t testing.TB, naming tenantpath.Naming) *sql.DB {
	t.Helper()
	base, err := pq.NewConnector(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	return open(t, base, naming)
}

func open(t testing.TB, base driver.Connector, naming tenantpath.Naming) *sql.DB {
	t.Helper()
	db, err := tenantpath.OpenDB(base, tenantpath.WithNaming(naming))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(2)
	t.Cleanup(func() { db.Close() })
	return db
}

// Store is what each example implements with its library: add a note and
// list the titles, for the tenant in ctx.
type Store interface {
	Add(ctx context.Context, title string) error
	Titles(ctx context.Context) ([]string, error)
}

// CheckIsolation has every tenant add notes through s at the same time,
// then list them at the same time, and fails t unless each tenant sees
// exactly its own notes. It also checks that a call without a tenant is
// refused with tenantpath.ErrNoTenant rather than run somewhere.
func CheckIsolation(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	const perTenant = 4
	var wg sync.WaitGroup
	for _, id := range Tenants {
		for i := range perTenant {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Add(tenantpath.WithTenant(ctx, id), fmt.Sprintf("%s #%d", id, i)); err != nil {
					t.Errorf("%s: Add: %v", id, err)
				}
			}()
		}
	}
	wg.Wait()
	for round := 0; round < 3; round++ {
		for _, id := range Tenants {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.Titles(tenantpath.WithTenant(ctx, id))
				if err != nil {
					t.Errorf("%s: Titles: %v", id, err)
					return
				}
				var want []string
				for i := range perTenant {
					want = append(want, fmt.Sprintf("%s #%d", id, i))
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s sees %q, want %q", id, got, want)
				}
			}()
		}
	}
	wg.Wait()
	if _, err := s.Titles(ctx); !errors.Is(err, tenantpath.ErrNoTenant) {
		t.Errorf("Titles without a tenant: %v, want ErrNoTenant", err)
	}
}
