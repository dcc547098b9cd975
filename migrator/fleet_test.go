package migrator_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/migrator"
)

// fleetPool is a pool the fleet's work runs on, with the scope the
// caller's context carries.
type fleetPool struct {
	name string
	db   *sql.DB
	ctx  context.Context
}

// fleetPools returns every kind of pool the work across tenants must run
// on: plain pgx and lib/pq, and both opened through tenantpath with their
// connections left on a bystander tenant's path and a caller whose context
// names that bystander.
func fleetPools(t *testing.T, e *env) []fleetPool {
	bg := context.Background()
	pools := []fleetPool{{"pgx", openDB(t, "pgx"), bg}, {"pq", openDB(t, "postgres"), bg}}
	for _, d := range tptest.Drivers {
		routed := tptest.OpenWrapped(t, d.Connector(t, pgtest.DSN(t), false), tenantpath.WithNaming(e.naming))
		routed.SetMaxOpenConns(8)
		pools = append(pools, fleetPool{"routed-" + d.Name, routed, tenantpath.WithTenant(bg, "bystander")})
	}
	pooled := tptest.OpenWrapped(t, tptest.PGX.Connector(t, pgtest.DSN(t), false),
		tenantpath.WithNaming(e.naming), tenantpath.TransactionPooling())
	return append(pools, fleetPool{"routed-txpooling", pooled, tenantpath.WithShared(bg)})
}

// fleetWorld creates tenants a, b, c and a bystander, each with one user
// named after it, and a shared table "users" holding one row ("shared")
// that a statement on a broken path would read.
func fleetWorld(t *testing.T) (*env, *migrator.Migrator) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c", "bystander"} {
		if err := m.Create(ctx, id); err != nil {
			t.Fatal(err)
		}
		e.exec(fmt.Sprintf("INSERT INTO %s.users (email) VALUES ('%s@example.com')", tenantpath.QuoteIdentifier(e.schema(id)), id))
	}
	e.exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.shared()) + ".users (id bigserial, email text)")
	e.exec("INSERT INTO " + tenantpath.QuoteIdentifier(e.shared()) + ".users (email) VALUES ('shared')")
	return e, m
}

func emails(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT email FROM users ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Each tenant's function sees that tenant's tables and nobody else's, on
// every kind of pool, whatever the caller's scope; reads only, unless Write.
func TestForEachTenant(t *testing.T) {
	e, _ := fleetWorld(t)
	for _, p := range fleetPools(t, e) {
		t.Run(p.name, func(t *testing.T) {
			m := e.migratorOn(p.db, basicFS())
			if strings.HasPrefix(p.name, "routed-") {
				parkOn(t, p.db, "bystander", 3)
			}
			var mu sync.Mutex
			seen := map[string][]string{}
			var progress []string
			res, err := m.ForEachTenant(p.ctx, func(ctx context.Context, tenant string, tx *sql.Tx) error {
				got, err := emails(ctx, tx)
				mu.Lock()
				seen[tenant] = got
				mu.Unlock()
				return err
			}, migrator.Except("bystander"), migrator.Workers(2),
				migrator.OnProgress(func(pr migrator.Progress) { progress = append(progress, pr.Last.Tenant) }))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 3 || res[0].Tenant != "a" || res[2].Tenant != "c" || res[1].Schema != e.schema("b") {
				t.Fatalf("results %+v", res)
			}
			for _, id := range []string{"a", "b", "c"} {
				if want := []string{id + "@example.com"}; !slices.Equal(seen[id], want) {
					t.Errorf("tenant %s saw %v, want %v", id, seen[id], want)
				}
			}
			if slices.Sort(progress); !slices.Equal(progress, []string{"a", "b", "c"}) {
				t.Errorf("progress reported %v", progress)
			}

			// Read only by default: the server refuses the write.
			insert := func(ctx context.Context, tenant string, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO users (email) VALUES ($1)", tenant+"+2@example.com")
				return err
			}
			_, err = m.ForEachTenant(p.ctx, insert, migrator.Only("a", "b"), migrator.ContinueOnError())
			var perr *migrator.PartialError
			if !errors.As(err, &perr) || !slices.Equal(perr.FailedTenants(), []string{"a", "b"}) || !strings.Contains(err.Error(), "25006") {
				t.Fatalf("write without Write(): %v", err)
			}
			if n := e.count("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.schema("a")) + ".users"); n != 1 {
				t.Fatalf("tenant a has %d users after a refused write", n)
			}
			if _, err := m.ForEachTenant(p.ctx, insert, migrator.Only("a"), migrator.Write()); err != nil {
				t.Fatalf("write with Write(): %v", err)
			}
			e.exec("DELETE FROM " + tenantpath.QuoteIdentifier(e.schema("a")) + ".users WHERE email = 'a+2@example.com'")
			if n := e.locksHeld(); n != 0 {
				t.Fatalf("%d advisory locks still held", n)
			}
		})
	}
	if n := e.count("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.shared()) + ".users"); n != 1 {
		t.Fatalf("the shared users table holds %d rows", n)
	}
}

// A failing tenant's work is rolled back and reported; the others commit.
// A tenant whose schema is gone fails with ErrUnknownTenant and never reads
// the shared table of the same name.
func TestForEachTenantFailures(t *testing.T) {
	e, m := fleetWorld(t)
	ctx := context.Background()
	e.exec("DROP SCHEMA " + tenantpath.QuoteIdentifier(e.schema("c")) + " CASCADE") // behind the migrator's back
	boom := errors.New("boom")
	res, err := m.ForEachTenant(ctx, func(ctx context.Context, tenant string, tx *sql.Tx) error {
		got, err := emails(ctx, tx)
		if err != nil {
			return err
		}
		if slices.Contains(got, "shared") {
			return fmt.Errorf("tenant %s read the shared table", tenant)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO users (email) VALUES ('new')"); err != nil {
			return err
		}
		if tenant == "b" {
			return boom
		}
		return nil
	}, migrator.Write(), migrator.ContinueOnError(), migrator.Except("bystander"))
	var perr *migrator.PartialError
	if !errors.As(err, &perr) || !slices.Equal(perr.FailedTenants(), []string{"b", "c"}) || perr.Succeeded != 1 {
		t.Fatalf("ForEachTenant: %v", err)
	}
	if !errors.Is(err, boom) || !errors.Is(res[2].Err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("errors: %v / %v", err, res[2].Err)
	}
	for id, want := range map[string]int{"a": 2, "b": 1} {
		if n := e.count("SELECT count(*) FROM " + tenantpath.QuoteIdentifier(e.schema(id)) + ".users"); n != want {
			t.Errorf("tenant %s: %d users, want %d", id, n, want)
		}
	}
	// Without ContinueOnError, no tenant starts after the first failure.
	_, err = m.ForEachTenant(ctx, func(context.Context, string, *sql.Tx) error { return boom }, migrator.Workers(1))
	if !errors.As(err, &perr) || len(perr.Failed) != 1 || len(perr.Skipped) != 3 {
		t.Fatalf("stop on first error: %v", err)
	}
	if _, err := m.ForEachTenant(ctx, nil); err == nil {
		t.Fatal("nil function accepted")
	}
	if _, err := m.ForEachTenant(ctx, func(context.Context, string, *sql.Tx) error { return nil }, migrator.Only("nope")); !errors.Is(err, migrator.ErrUnknownTenants) {
		t.Fatalf("unknown tenant in Only: %v", err)
	}
}

// Work holds its tenant's lock shared: a migration of that tenant (its
// lock held exclusively) holds the work up, other tenants' work goes on,
// and a drop of a tenant waits for the work running in it.
func TestForEachTenantLocks(t *testing.T) {
	e, m := fleetWorld(t)
	ctx := context.Background()
	hold, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	key := "tenantpath.migrator:" + e.schema("a")
	if _, err := hold.ExecContext(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
		t.Fatal(err)
	}
	done := make(chan []migrator.Result)
	var order []string
	var mu sync.Mutex
	go func() {
		res, _ := m.ForEachTenant(ctx, func(ctx context.Context, tenant string, tx *sql.Tx) error {
			mu.Lock()
			order = append(order, tenant)
			mu.Unlock()
			return nil
		}, migrator.Only("a", "b"), migrator.Workers(2))
		done <- res
	}()
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	got := slices.Clone(order)
	mu.Unlock()
	if !slices.Equal(got, []string{"b"}) {
		t.Fatalf("while a is locked, work ran in %v, want only b", got)
	}
	if _, err := hold.ExecContext(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", key); err != nil {
		t.Fatal(err)
	}
	if res := <-done; len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("results %+v", res)
	}

	// A drop waits for the work in its tenant.
	dm := e.migrator(basicFS(), migrator.WithDrop(nil))
	inside, release := make(chan struct{}), make(chan struct{})
	workDone := make(chan struct{})
	go func() {
		_, _ = m.ForEachTenant(ctx, func(ctx context.Context, tenant string, tx *sql.Tx) error {
			close(inside)
			<-release
			return nil
		}, migrator.Only("b"))
		close(workDone)
	}()
	<-inside
	dropErr := make(chan error, 1)
	go func() { dropErr <- dm.Drop(ctx, "b") }()
	select {
	case err := <-dropErr:
		close(release)
		t.Fatalf("the drop finished (%v) while work in its tenant was still running", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	<-workDone
	if err := <-dropErr; err != nil {
		t.Fatal(err)
	}
}

// QueryTenants streams every tenant's rows, each naming its tenant, scans
// them as database/sql does, reports failing tenants after the rows, and
// gives back every connection and lock when closed early.
func TestQueryTenants(t *testing.T) {
	e, m := fleetWorld(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		e.exec(fmt.Sprintf("INSERT INTO %s.users (email) SELECT '%s' || g || '@example.com' FROM generate_series(1, 50) g",
			tenantpath.QuoteIdentifier(e.schema(id)), id))
	}
	rows, err := m.QueryTenants(ctx, "SELECT id, email FROM users WHERE id > $1 ORDER BY id", []any{0},
		migrator.Except("bystander"), migrator.Workers(3))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			t.Fatal(err)
		}
		if cols, err := rows.Columns(); err != nil || !slices.Equal(cols, []string{"id", "email"}) {
			t.Fatalf("columns %v, %v", cols, err)
		}
		got[rows.Tenant()] = append(got[rows.Tenant()], email)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for id, want := range map[string]int{"a": 51, "b": 51, "c": 1} {
		if len(got[id]) != want || !strings.HasPrefix(got[id][0], id) || !strings.HasPrefix(got[id][want-1], id) {
			t.Errorf("tenant %s: %d rows (%v…), want %d of its own", id, len(got[id]), got[id][:min(2, len(got[id]))], want)
		}
	}
	if r := rows.Results(); len(r) != 3 || r[1].Tenant != "b" {
		t.Fatalf("results %+v", r)
	}

	// One tenant whose table is gone fails; the others' rows still come.
	e.exec("DROP TABLE " + tenantpath.QuoteIdentifier(e.schema("c")) + ".posts")
	rows, err = m.QueryTenants(ctx, "SELECT u.email FROM users u LEFT JOIN posts p ON p.user_id = u.id", nil,
		migrator.ContinueOnError(), migrator.Workers(1))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for rows.Next() {
		if t := rows.Tenant(); len(order) == 0 || order[len(order)-1] != t {
			order = append(order, t)
		}
	}
	var perr *migrator.PartialError
	if !errors.As(rows.Err(), &perr) || !slices.Equal(perr.FailedTenants(), []string{"c"}) {
		t.Fatalf("Err = %v", rows.Err())
	}
	if !slices.Equal(order, []string{"a", "b", "bystander"}) {
		t.Fatalf("with one worker the tenants came in the order %v", order)
	}
	rows.Close()

	// Closed early: the workers stop and give everything back.
	rows, err = m.QueryTenants(ctx, "SELECT email FROM users", nil, migrator.Only("a", "b"), migrator.Workers(2))
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no first row")
	}
	if err := rows.Close(); err != nil || rows.Err() != nil || rows.Next() {
		t.Fatalf("after Close: %v, %v", err, rows.Err())
	}
	if err := rows.Scan(new(string)); err == nil {
		t.Fatal("Scan after Close succeeded")
	}
	// A statement interrupted by Close had its connection closed; its lock
	// goes when the server ends that session, which it notices at once.
	e.waitNoLocks()
	if in := e.db.Stats().InUse; in != 0 {
		t.Fatalf("%d connections still in use after Close", in)
	}
	if _, err := m.QueryTenants(ctx, "SELECT 1", nil, migrator.Workers(0)); err == nil {
		t.Fatal("Workers(0) accepted")
	}
}

// waitNoLocks waits up to five seconds for the migrator's advisory locks on
// this test's schemas to be gone.
func (e *env) waitNoLocks() {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for n := e.locksHeld(); n != 0; n = e.locksHeld() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d advisory locks still held", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Check reports a shared table named like tenants' tables (hole 7 of issue
// 9): a tenant that loses its own reads the shared one without an error.
func TestCheckShadowed(t *testing.T) {
	e, m := fleetWorld(t) // its shared schema has a users table
	ctx := context.Background()
	e.exec("CREATE VIEW " + tenantpath.QuoteIdentifier(e.shared()) + ".posts AS SELECT 1 AS id")
	e.exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.shared()) + ".plans (id int)") // no tenant has plans
	e.exec("CREATE TABLE " + tenantpath.QuoteIdentifier(e.schema("a")) + ".extra (id int)")
	rep, err := m.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []migrator.ShadowedTable{{Schema: e.shared(), Table: "posts", Tenants: 4}, {Schema: e.shared(), Table: "users", Tenants: 4}}
	if !slices.Equal(rep.Shadowed, want) || rep.OK() {
		t.Fatalf("Shadowed = %+v (OK %v), want %+v", rep.Shadowed, rep.OK(), want)
	}
	e.exec("DROP VIEW " + tenantpath.QuoteIdentifier(e.shared()) + ".posts")
	e.exec("DROP TABLE " + tenantpath.QuoteIdentifier(e.shared()) + ".users")
	if rep, err := m.Check(ctx); err != nil || !rep.OK() || len(rep.Shadowed) != 0 {
		t.Fatalf("after renaming: %+v, %v", rep, err)
	}
}
