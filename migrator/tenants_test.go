package migrator_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/migrator"
)

// createTenants creates n tenants "0".."n-1" with a few goroutines.
func createTenants(t testing.TB, m *migrator.Migrator, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := atomic.Int64{}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := m.Create(context.Background(), ids[i]); err != nil {
					errs <- fmt.Errorf("create %s: %w", ids[i], err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

const addColumn = "tenant_migrations/0003_nickname.up.sql"

func TestThreeOfFiftyFail(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	ids := createTenants(t, m, 50)
	bad := []string{"23", "41", "7"} // results are sorted by tenant id
	for _, id := range bad {
		// The new migration will collide with this column.
		e.exec(fmt.Sprintf("ALTER TABLE %s.users ADD COLUMN nickname int", tenantpath.QuoteIdentifier(e.schema(id))))
	}
	m2 := e.migrator(withFile(basicFS(), addColumn,
		"ALTER TABLE users ADD COLUMN nickname text;\nCREATE INDEX users_nickname ON users (nickname);\n"))
	var calls atomic.Int64
	var last migrator.Progress
	res, err := m2.MigrateTenants(ctx, migrator.ContinueOnError(), migrator.Workers(4),
		migrator.OnProgress(func(p migrator.Progress) { calls.Add(1); last = p }))
	var pe *migrator.PartialError
	if !errors.As(err, &pe) || !errors.Is(err, migrator.ErrPartial) {
		t.Fatalf("err = %v, want *PartialError", err)
	}
	if got := pe.FailedTenants(); !slices.Equal(got, bad) {
		t.Fatalf("failed tenants = %v, want %v", got, bad)
	}
	if pe.Succeeded != 47 || len(pe.Skipped) != 0 || len(res) != 50 {
		t.Fatalf("succeeded %d, skipped %v, results %d", pe.Succeeded, pe.Skipped, len(res))
	}
	for _, f := range pe.Failed {
		var me *migrator.MigrationError
		if !errors.As(f.Err, &me) || me.Version != 3 {
			t.Errorf("tenant %s: err = %v, want a MigrationError for version 3", f.Tenant, f.Err)
		}
	}
	if calls.Load() != 50 || last.Done != 50 || last.Failed != 3 || last.Total != 50 {
		t.Errorf("progress: %d calls, last %+v", calls.Load(), last)
	}
	for _, id := range ids {
		got := e.versions(e.schema(id))
		if slices.Contains(bad, id) {
			if !equal(got, []int64{1, 2}) {
				t.Errorf("failed tenant %s at %v, want [1 2]", id, got)
			}
			// The index of the failed migration must not exist either.
			if n := e.count("SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'users_nickname'", e.schema(id)); n != 0 {
				t.Errorf("failed tenant %s kept part of its migration", id)
			}
		} else if !equal(got, []int64{1, 2, 3}) {
			t.Errorf("tenant %s at %v, want [1 2 3]", id, got)
		}
	}
	st, err := m2.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var behind []string
	for _, s := range st {
		if !s.UpToDate() {
			behind = append(behind, s.Tenant)
			if !slices.Equal(s.Pending, []int64{3}) {
				t.Errorf("status of %s: pending %v", s.Tenant, s.Pending)
			}
		}
	}
	if !slices.Equal(behind, bad) {
		t.Errorf("status behind = %v, want %v", behind, bad)
	}
	if n := e.locksHeld(); n != 0 {
		t.Errorf("%d advisory locks left after the run", n)
	}
	assertPoolClean(t, e)
}

func TestStopOnFirstError(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	createTenants(t, m, 20)
	m2 := e.migrator(withFile(basicFS(), addColumn, "SELECT 1/0;"))
	res, err := m2.MigrateTenants(ctx, migrator.Workers(1))
	var pe *migrator.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	if len(pe.Failed) != 1 || len(pe.Skipped) != 19 || len(res) != 1 {
		t.Fatalf("failed %d, skipped %d, results %d; want 1, 19, 1", len(pe.Failed), len(pe.Skipped), len(res))
	}
}

// Two migrators with their own pools race over the same 200 tenants: every
// migration must be applied exactly once in every tenant.
func TestRacingMigrators(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.migrator(basicFS())
	if _, err := m.MigrateShared(ctx); err != nil {
		t.Fatal(err)
	}
	ids := createTenants(t, m, 200)
	e.exec(fmt.Sprintf("CREATE TABLE %s.applied_log (schema text, version int)", tenantpath.QuoteIdentifier(e.shared())))
	logTo := tenantpath.QuoteIdentifier(e.shared()) + ".applied_log"
	fs2 := withFile(withFile(basicFS(),
		"tenant_migrations/0003_a.up.sql", "ALTER TABLE users ADD COLUMN a int;\nINSERT INTO "+logTo+" VALUES (current_schema(), 3);"),
		"tenant_migrations/0004_b.up.sql", "ALTER TABLE users ADD COLUMN b int;\nINSERT INTO "+logTo+" VALUES (current_schema(), 4);")

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		mi := e.migratorOn(openDB(t, "pgx"), fs2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = mi.MigrateTenants(ctx, migrator.Workers(4))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrator %d: %v", i, err)
		}
	}
	if n := e.count("SELECT count(*) FROM " + logTo); n != 400 {
		t.Fatalf("log has %d rows, want 400 (200 tenants x 2 migrations)", n)
	}
	if n := e.count("SELECT count(*) FROM (SELECT schema, version FROM " + logTo + " GROUP BY 1, 2 HAVING count(*) > 1) d"); n != 0 {
		t.Fatalf("%d (schema, version) pairs applied more than once", n)
	}
	for _, id := range ids[:10] {
		if got := e.versions(e.schema(id)); !equal(got, []int64{1, 2, 3, 4}) {
			t.Fatalf("tenant %s at %v", id, got)
		}
	}
}

// A tenant held by a slow migration must not hold up another tenant.
func TestTenantsDoNotBlockEachOther(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createTenants(t, e.migrator(basicFS()), 2)
	entered := make(chan struct{})
	release := make(chan struct{})
	slow := migrator.GoMigration{Version: 3, Name: "slow", Up: func(ctx context.Context, tx *sql.Tx) error {
		var schema string
		if err := tx.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return err
		}
		if schema == e.schema("0") {
			close(entered)
			<-release
		}
		return nil
	}}
	m := e.migrator(basicFS(), migrator.WithGoMigration(migrator.TenantSet, slow))
	done := make(chan error, 1)
	go func() { _, err := m.MigrateTenant(ctx, "0"); done <- err }()
	<-entered
	if n := e.locksHeld(); n != 1 {
		t.Fatalf("%d advisory locks held mid-migration, want 1", n)
	}
	// Tenant "0" is locked mid-migration; tenant "1" must go through.
	ctx1, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := m.MigrateTenant(ctx1, "1"); err != nil {
		t.Fatalf("tenant 1 while tenant 0 is locked: %v", err)
	}
	// The same tenant from another migrator waits for the lock.
	ctx0, cancel0 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel0()
	if _, err := m.MigrateTenant(ctx0, "0"); err == nil {
		t.Fatal("second run on a locked tenant did not wait")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.versions(e.schema("0")); !equal(got, []int64{1, 2, 3}) {
		t.Fatalf("tenant 0 at %v", got)
	}
	if n := e.locksHeld(); n != 0 {
		t.Fatalf("%d advisory locks left", n)
	}
}

// Cancelling a run stops it cleanly: no lock left, no pooled connection on a
// tenant path, tenants not started listed as skipped.
func TestCancelAndPoolHygiene(t *testing.T) {
	e := newEnv(t)
	createTenants(t, e.migrator(basicFS()), 40)
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	hook := migrator.GoMigration{Version: 3, Name: "hook", Up: func(ctx context.Context, tx *sql.Tx) error {
		if n.Add(1) == 10 {
			cancel()
		}
		_, err := tx.ExecContext(ctx, "ALTER TABLE users ADD COLUMN c int")
		return err
	}}
	m := e.migrator(basicFS(), migrator.WithGoMigration(migrator.TenantSet, hook))
	res, err := m.MigrateTenants(ctx, migrator.Workers(4), migrator.ContinueOnError())
	if !errors.Is(err, context.Canceled) || !errors.Is(err, migrator.ErrPartial) {
		t.Fatalf("err = %v, want a PartialError wrapping context.Canceled", err)
	}
	var pe *migrator.PartialError
	errors.As(err, &pe)
	if len(pe.Skipped) == 0 || len(res)+len(pe.Skipped) != 40 {
		t.Fatalf("results %d, skipped %d", len(res), len(pe.Skipped))
	}
	for _, r := range res {
		got := e.versions(r.Schema)
		if r.Err == nil && !equal(got, []int64{1, 2, 3}) || r.Err != nil && !equal(got, []int64{1, 2}) {
			t.Errorf("tenant %s: err %v, versions %v", r.Tenant, r.Err, got)
		}
	}
	e.waitLocksReleased()
	assertPoolClean(t, e)
	// The rest can be finished later.
	if _, err := m.MigrateTenants(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// assertPoolClean checks out every pooled connection at once and checks its
// search_path is the server default.
func assertPoolClean(t *testing.T, e *env) {
	t.Helper()
	var want string
	if err := e.db.QueryRow("SELECT reset_val FROM pg_settings WHERE name = 'search_path'").Scan(&want); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range e.db.Stats().MaxOpenConnections {
		c, err := e.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var path string
		if err := c.QueryRowContext(ctx, "SELECT current_setting('search_path')").Scan(&path); err != nil {
			t.Fatal(err)
		}
		if path != want {
			t.Fatalf("a pooled connection has search_path %q, want %q", path, want)
		}
	}
}

func TestThousandTenants(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	small := fstestOf(map[string]string{
		"tenant_migrations/0001_items.up.sql": "CREATE TABLE items (id bigserial PRIMARY KEY, title text NOT NULL);",
	})
	m := e.migrator(small)
	ids := createTenants(t, m, 1000)
	m2 := e.migrator(withFile(small, "tenant_migrations/0002_price.up.sql", "ALTER TABLE items ADD COLUMN price numeric;"))
	start := time.Now()
	res, err := m2.MigrateTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("migrated %d tenants in %v", len(res), time.Since(start))
	if len(res) != 1000 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if r.From != 1 || r.To != 2 {
			t.Fatalf("tenant %s: %d -> %d", r.Tenant, r.From, r.To)
		}
	}
	n := e.count(`SELECT count(*) FROM information_schema.columns WHERE table_schema LIKE $1 AND table_name = 'items' AND column_name = 'price'`, e.prefix+"%")
	if n != 1000 {
		t.Fatalf("price column in %d schemas, want 1000", n)
	}
	st, err := m2.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		if !s.UpToDate() || s.Version != 2 || s.Tenant != sortedIDs(ids)[i] {
			t.Fatalf("status %+v", s)
		}
	}
}

// A worker whose connection dies during one tenant's migration (here the
// migration terminates its own backend) reports that tenant, and goes on
// with the next tenants on a fresh connection: they do not inherit the
// failure.
func TestKilledConnectionFailsOnlyItsTenant(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createTenants(t, e.migrator(basicFS()), 5)
	kill := migrator.GoMigration{Version: 3, Name: "kill", Up: func(ctx context.Context, tx *sql.Tx) error {
		var schema string
		if err := tx.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return err
		}
		if schema == e.schema("1") {
			_, err := tx.ExecContext(ctx, "SELECT pg_terminate_backend(pg_backend_pid())")
			return err
		}
		return nil
	}}
	m := e.migrator(basicFS(), migrator.WithGoMigration(migrator.TenantSet, kill))
	_, err := m.MigrateTenants(ctx, migrator.Workers(1), migrator.ContinueOnError())
	var pe *migrator.PartialError
	if !errors.As(err, &pe) || !slices.Equal(pe.FailedTenants(), []string{"1"}) || pe.Succeeded != 4 {
		t.Fatalf("err = %v; want tenant 1 alone to fail", err)
	}
	if got := e.versions(e.schema("1")); !equal(got, []int64{1, 2}) {
		t.Fatalf("tenant 1 at %v", got)
	}
	e.waitLocksReleased()
	assertPoolClean(t, e)
}

// A pool whose sessions start with their own search_path (from the
// connection string, as from ALTER ROLE ... SET) gets exactly that path
// back after a run, not the server default.
func TestSessionDefaultPathRestored(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createTenants(t, e.migrator(basicFS()), 6)
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	const custom = `"$user", app_custom, public`
	q := u.Query()
	q.Set("options", "-c search_path="+strings.ReplaceAll(custom, " ", `\ `))
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(3)
	db.SetMaxIdleConns(3)
	var start string
	if err := db.QueryRow("SELECT current_setting('search_path')").Scan(&start); err != nil || start != custom {
		t.Fatalf("session path %q, %v; the DSN option did not apply", start, err)
	}
	m := e.migratorOn(db, withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;"))
	if _, err := m.MigrateTenants(ctx, migrator.Workers(3)); err != nil {
		t.Fatal(err)
	}
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var path string
		if err := c.QueryRowContext(ctx, "SELECT current_setting('search_path')").Scan(&path); err != nil {
			t.Fatal(err)
		}
		if path != custom {
			t.Fatalf("pooled connection on %q after the run, want %q", path, custom)
		}
	}
}
