package migrator_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
)

// A registry written under another naming (a forgotten prefix) stops List,
// Status and every run before anything runs, and names the prefix that
// explains it.
func TestNamingMismatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	withOrg := tenantpath.Naming{Prefix: e.prefix + "org_", Shared: e.naming.Shared}
	mOrg, err := migrator.New(e.db, basicFS(), withOrg)
	if err != nil {
		t.Fatal(err)
	}
	createTenants(t, mOrg, 3)
	m := e.migrator(withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;"))

	want := []string{e.prefix + "org_0", e.prefix + "org_1", e.prefix + "org_2"}
	check := func(what string, err error) {
		t.Helper()
		var nm *migrator.NamingMismatchError
		if !errors.Is(err, migrator.ErrNamingMismatch) || !errors.As(err, &nm) ||
			!slices.Equal(nm.Schemas, want) || nm.Prefix != e.prefix+"org_" {
			t.Fatalf("%s: %v (%+v)", what, err, nm)
		}
	}
	_, err = m.List(ctx)
	check("List", err)
	_, err = m.Status(ctx)
	check("Status", err)
	_, err = m.MigrateTenants(ctx)
	check("MigrateTenants", err)
	_, err = m.RollbackTenants(ctx, migrator.Steps(1))
	check("RollbackTenants", err)
	_, err = m.Migrate(ctx)
	check("Migrate", err)
	for _, id := range []string{"0", "1", "2"} {
		if e.hasColumn(e.prefix+"org_"+id, "users", "nickname") || e.schemaExists(e.schema(id)) {
			t.Fatalf("tenant %s was touched", id)
		}
	}
	if _, err := mOrg.List(ctx); err != nil {
		t.Fatalf("the right naming: %v", err)
	}

	// A stored name no single prefix explains: Prefix is "".
	e.exec("UPDATE "+tenantpath.QuoteIdentifier(e.shared())+".tenantpath_tenants SET schema = $1 WHERE tenant = '2'", e.prefix+"elsewhere")
	_, err = mOrg.List(ctx)
	var nm *migrator.NamingMismatchError
	if !errors.As(err, &nm) || !slices.Equal(nm.Schemas, []string{e.prefix + "elsewhere"}) || nm.Prefix != "" {
		t.Fatalf("List after a stray row: %v (%+v)", err, nm)
	}
}

// Only and Except refuse ids that are not tenants, before anything runs.
func TestOnlyExceptUnknownTenants(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createTenants(t, e.migrator(basicFS()), 2)
	m := e.migrator(withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;"))
	for name, opts := range map[string][]migrator.RunOption{
		"only":   {migrator.Only("1", "nope", "zz")},
		"except": {migrator.Except("zz", "nope")},
		"both":   {migrator.Only("0", "zz"), migrator.Except("nope", "zz")},
	} {
		var ue *migrator.UnknownTenantsError
		_, err := m.MigrateTenants(ctx, opts...)
		if !errors.Is(err, migrator.ErrUnknownTenants) || !errors.As(err, &ue) || !slices.Equal(ue.Tenants, []string{"nope", "zz"}) {
			t.Fatalf("%s: MigrateTenants: %v", name, err)
		}
		if _, err := m.Status(ctx, opts...); !errors.Is(err, migrator.ErrUnknownTenants) {
			t.Fatalf("%s: Status: %v", name, err)
		}
		if _, err := m.RollbackTenants(ctx, migrator.Steps(1), opts...); !errors.Is(err, migrator.ErrUnknownTenants) {
			t.Fatalf("%s: RollbackTenants: %v", name, err)
		}
	}
	for _, id := range []string{"0", "1"} {
		if e.hasColumn(e.schema(id), "users", "nickname") || !equal(e.versions(e.schema(id)), []int64{1, 2}) {
			t.Fatalf("tenant %s was touched", id)
		}
	}
	res, err := m.MigrateTenants(ctx, migrator.Only("0", "1"), migrator.Except("1"))
	if err != nil || len(res) != 1 || res[0].Tenant != "0" || res[0].To != 3 {
		t.Fatalf("known ids: %+v, %v", res, err)
	}
}

// A tenant source that lists no one while tenant-looking schemas exist is
// an error for runs and Status; with no such schema an empty list is fine.
func TestNoTenantsFound(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var none []string
	m := e.migrator(basicFS(), migrator.WithTenantSource(func(context.Context) ([]string, error) { return none, nil }))
	if st, err := m.Status(ctx); err != nil || len(st) != 0 {
		t.Fatalf("no tenants, no schemas: %v, %v", st, err)
	}
	if res, err := m.MigrateTenants(ctx); err != nil || len(res) != 0 {
		t.Fatalf("no tenants, no schemas: %v, %v", res, err)
	}
	e.exec("CREATE SCHEMA " + tenantpath.QuoteIdentifier(e.schema("b")))
	e.exec("CREATE SCHEMA " + tenantpath.QuoteIdentifier(e.schema("a")))
	want := []string{e.schema("a"), e.schema("b")}
	var nf *migrator.NoTenantsFoundError
	if _, err := m.MigrateTenants(ctx); !errors.Is(err, migrator.ErrNoTenantsFound) || !errors.As(err, &nf) || !slices.Equal(nf.Schemas, want) {
		t.Fatalf("MigrateTenants: %v", err)
	}
	if _, err := m.Status(ctx); !errors.Is(err, migrator.ErrNoTenantsFound) {
		t.Fatalf("Status: %v", err)
	}
	if _, err := m.RollbackTenants(ctx, migrator.Steps(1)); !errors.Is(err, migrator.ErrNoTenantsFound) {
		t.Fatalf("RollbackTenants: %v", err)
	}
	none = []string{"a", "b"}
	if st, err := m.Status(ctx); err != nil || len(st) != 2 {
		t.Fatalf("listed tenants: %v, %v", st, err)
	}
}

// Workers(0) is refused like WithWorkers(0), before anything runs.
func TestWorkersZeroRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createTenants(t, e.migrator(basicFS()), 1)
	m := e.migrator(withFile(basicFS(), addColumn, "ALTER TABLE users ADD COLUMN nickname text;"))
	for _, n := range []int{0, -1} {
		if _, err := m.MigrateTenants(ctx, migrator.Workers(n)); err == nil {
			t.Fatalf("Workers(%d) accepted by MigrateTenants", n)
		}
		if _, err := m.Status(ctx, migrator.Workers(n)); err == nil {
			t.Fatalf("Workers(%d) accepted by Status", n)
		}
		if _, err := m.Migrate(ctx, migrator.Workers(n)); err == nil {
			t.Fatalf("Workers(%d) accepted by Migrate", n)
		}
	}
	if e.hasColumn(e.schema("0"), "users", "nickname") || e.count("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'organisations'", e.shared()) != 0 {
		t.Fatal("a refused run ran")
	}
	if _, err := migrator.New(e.db, basicFS(), e.naming, migrator.WithWorkers(0)); err == nil {
		t.Fatal("WithWorkers(0) accepted")
	}
}
