package migrator_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/migrator"
)

// rolesFS is the tenant schema of the roles tests: a notes table with a
// serial key, and (in rolesFSv2) a table added by a later migration.
func rolesFS() fstest.MapFS {
	return fstest.MapFS{
		"tenant_migrations/0001_notes.up.sql": {Data: []byte("CREATE TABLE notes (id bigserial PRIMARY KEY, tenant text NOT NULL);\n")},
	}
}

func rolesFSv2() fstest.MapFS {
	fsys := rolesFS()
	fsys["tenant_migrations/0002_later.up.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE later (id bigserial PRIMARY KEY, v text);\n")}
	return fsys
}

// roleOf is the role function shared by the migrator and the driver in
// these tests: the schema name with a suffix.
func roleOf(schema string) string { return schema + "_rw" }

// rolesEnv is a roles test's world: two tenants made by the migrator, their
// roles provisioned, and a plain admin pool. Roles belong to the cluster,
// not to a schema, so they are dropped at cleanup (before the schemas,
// which pgtest.UniquePrefix drops last).
type rolesEnv struct {
	admin  *sql.DB
	naming tenantpath.Naming
	prefix string
	m      *migrator.Migrator
}

func newRolesEnv(t *testing.T, tenants ...string) *rolesEnv {
	t.Helper()
	ctx := context.Background()
	prefix := pgtest.UniquePrefix(t)
	admin, err := sql.Open("pgx", pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	re := &rolesEnv{admin: admin, prefix: prefix,
		naming: tenantpath.Naming{Prefix: prefix, Shared: []string{prefix + "shared", "public"}}}
	if re.m, err = migrator.New(admin, rolesFS(), re.naming); err != nil {
		t.Fatal(err)
	}
	for _, id := range tenants {
		if err := re.m.Create(ctx, id); err != nil {
			t.Fatalf("Create(%s): %v", id, err)
		}
		t.Cleanup(func() {
			if err := migrator.DropTenantRole(context.Background(), admin, re.naming, roleOf, id); err != nil {
				t.Errorf("DropTenantRole(%s): %v", id, err)
			}
		})
		if err := migrator.ProvisionTenantRole(ctx, admin, re.naming, roleOf, id); err != nil {
			t.Fatalf("ProvisionTenantRole(%s): %v", id, err)
		}
		if _, err := admin.Exec(fmt.Sprintf("INSERT INTO %s.notes (tenant) VALUES ($1)",
			tenantpath.QuoteIdentifier(prefix+id)), id); err != nil {
			t.Fatal(err)
		}
	}
	return re
}

var roleDrivers = []struct {
	name      string
	connector func(t *testing.T) driver.Connector
}{
	{"pgx", func(t *testing.T) driver.Connector {
		cfg, err := pgx.ParseConfig(pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return stdlib.GetConnector(*cfg)
	}},
	{"pq", func(t *testing.T) driver.Connector {
		c, err := pq.NewConnector(pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}},
}

func (re *rolesEnv) open(t *testing.T, base driver.Connector, opts ...tenantpath.Option) *sql.DB {
	t.Helper()
	db, err := tenantpath.OpenDB(base, append([]tenantpath.Option{tenantpath.WithNaming(re.naming)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sqlStateOf(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}

// In roles mode, SQL that names another tenant's schema explicitly is
// refused by PostgreSQL itself, while the tenant's own tables (current ones
// and those a later migration adds) work; without roles, the same SQL reads
// the other tenant's rows, which is what the mode is for.
func TestTenantRolesRefuseOtherTenantsSchema(t *testing.T) {
	ctx := context.Background()
	re := newRolesEnv(t, "10", "11")
	other := tenantpath.QuoteIdentifier(re.prefix+"11") + ".notes"
	for _, d := range roleDrivers {
		t.Run(d.name, func(t *testing.T) {
			// Without roles: schemas separate names, not privileges.
			plain := re.open(t, d.connector(t))
			in10 := tenantpath.WithTenant(ctx, "10")
			var got string
			if err := plain.QueryRowContext(in10, "SELECT tenant FROM "+other).Scan(&got); err != nil || got != "11" {
				t.Fatalf("without roles, tenant 10 reading %s: %q, %v; want tenant 11's row", other, got, err)
			}

			db := re.open(t, d.connector(t), tenantpath.WithTenantRoles(roleOf))
			db.SetMaxOpenConns(2)
			for _, tc := range []struct{ id, other string }{{"10", "11"}, {"11", "10"}} {
				tctx := tenantpath.WithTenant(ctx, tc.id)
				otherNotes := tenantpath.QuoteIdentifier(re.prefix+tc.other) + ".notes"
				var user string
				if err := db.QueryRowContext(tctx, "SELECT current_user").Scan(&user); err != nil || user != roleOf(re.prefix+tc.id) {
					t.Fatalf("tenant %s runs as %q (%v), want %q", tc.id, user, err, roleOf(re.prefix+tc.id))
				}
				// Its own tables work: read, write (with its sequence),
				// update, delete.
				if _, err := db.ExecContext(tctx, "INSERT INTO notes (tenant) VALUES ($1)", tc.id); err != nil {
					t.Fatalf("tenant %s inserting into its own notes: %v", tc.id, err)
				}
				if _, err := db.ExecContext(tctx, "UPDATE notes SET tenant = tenant WHERE id > 0"); err != nil {
					t.Fatalf("tenant %s updating its own notes: %v", tc.id, err)
				}
				var seen string
				if err := db.QueryRowContext(tctx, "SELECT string_agg(DISTINCT tenant, ',') FROM notes").Scan(&seen); err != nil || seen != tc.id {
					t.Fatalf("tenant %s reading its own notes: %q, %v", tc.id, seen, err)
				}
				// Another tenant's schema, named explicitly: refused by
				// the server, for reads and writes alike.
				for _, q := range []string{
					"SELECT * FROM " + otherNotes,
					"SELECT count(*) FROM " + otherNotes,
					"INSERT INTO " + otherNotes + " (tenant) VALUES ('x')",
					"DELETE FROM " + otherNotes,
				} {
					rows, err := db.QueryContext(tctx, q)
					if err == nil {
						for rows.Next() {
						}
						err = rows.Err()
						rows.Close()
					}
					if sqlStateOf(err) != "42501" {
						t.Fatalf("tenant %s: %s: err = %v, want permission denied (SQLSTATE 42501)", tc.id, q, err)
					}
				}
				// The transaction path: BeginTx switches before BEGIN.
				tx, err := db.BeginTx(tctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				err = tx.QueryRowContext(tctx, "SELECT count(*) FROM "+otherNotes).Scan(new(int))
				tx.Rollback()
				if sqlStateOf(err) != "42501" {
					t.Fatalf("tenant %s in a transaction: err = %v, want SQLSTATE 42501", tc.id, err)
				}
			}
			// The shared scope runs as the login role again.
			var user string
			login := pgtest.LoginRole(t)
			if err := db.QueryRowContext(tenantpath.WithShared(ctx), "SELECT current_user").Scan(&user); err != nil || user != login {
				t.Fatalf("shared scope runs as %q (%v), want the login role %q", user, err, login)
			}
		})
	}

	// A table added by a later migration is the tenant's too (default
	// privileges), without provisioning again.
	m2, err := migrator.New(re.admin, rolesFSv2(), re.naming)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.MigrateTenants(ctx); err != nil {
		t.Fatal(err)
	}
	db := re.open(t, roleDrivers[0].connector(t), tenantpath.WithTenantRoles(roleOf))
	in10 := tenantpath.WithTenant(ctx, "10")
	if _, err := db.ExecContext(in10, "INSERT INTO later (v) VALUES ('x')"); err != nil {
		t.Fatalf("tenant 10 writing a table made after its role: %v", err)
	}
	err = db.QueryRowContext(in10, "SELECT count(*) FROM "+tenantpath.QuoteIdentifier(re.prefix+"11")+".later").Scan(new(int))
	if sqlStateOf(err) != "42501" {
		t.Fatalf("tenant 10 reading tenant 11's later table: err = %v, want SQLSTATE 42501", err)
	}
}

func TestProvisionTenantRoleChecks(t *testing.T) {
	ctx := context.Background()
	re := newRolesEnv(t, "10")
	// Idempotent.
	for range 2 {
		if err := migrator.ProvisionTenantRole(ctx, re.admin, re.naming, roleOf, "10"); err != nil {
			t.Fatalf("provisioning again: %v", err)
		}
	}
	var login, super bool
	if err := re.admin.QueryRow("SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = $1", roleOf(re.prefix+"10")).Scan(&login, &super); err != nil {
		t.Fatal(err)
	}
	if login || super {
		t.Fatalf("tenant role: login %v, superuser %v; want neither", login, super)
	}

	// A tenant without a schema.
	err := migrator.ProvisionTenantRole(ctx, re.admin, re.naming, roleOf, "99")
	if !errors.Is(err, tenantpath.ErrUnknownTenant) {
		t.Fatalf("unknown tenant: err = %v, want ErrUnknownTenant", err)
	}
	// Refused before anything is sent: invalid tenant ids and role names.
	if err := migrator.ProvisionTenantRole(ctx, re.admin, re.naming, roleOf, `x"; DROP ROLE postgres; --`); !errors.Is(err, tenantpath.ErrInvalidTenant) {
		t.Fatalf("hostile tenant id: err = %v, want ErrInvalidTenant", err)
	}
	for _, bad := range []string{"", "none", "NONE", "public", "current_user", "session_user", "pg_monitor", "PG_x", "a\x00b", "r\xff", strings.Repeat("r", 64)} {
		err := migrator.ProvisionTenantRole(ctx, re.admin, re.naming, func(string) string { return bad }, "10")
		if err == nil {
			t.Errorf("role name %q accepted", bad)
		}
	}
	if err := migrator.ProvisionTenantRole(ctx, re.admin, re.naming, nil, "10"); err == nil {
		t.Error("nil role function accepted")
	}
	// A hostile role name is quoted, never interpreted.
	hostile := re.prefix + `x"; DROP SCHEMA public; --`
	t.Cleanup(func() {
		re.admin.Exec("DROP OWNED BY " + tenantpath.QuoteIdentifier(hostile))
		re.admin.Exec("DROP ROLE IF EXISTS " + tenantpath.QuoteIdentifier(hostile))
	})
	if err := migrator.ProvisionTenantRole(ctx, re.admin, re.naming, func(string) string { return hostile }, "10"); err != nil {
		t.Fatalf("role with quotes in its name: %v", err)
	}
	var n int
	if err := re.admin.QueryRow("SELECT count(*) FROM pg_roles WHERE rolname = $1", hostile).Scan(&n); err != nil || n != 1 {
		t.Fatalf("role %q: %d found (%v)", hostile, n, err)
	}
	if err := migrator.DropTenantRole(ctx, re.admin, re.naming, func(string) string { return hostile }, "10"); err != nil {
		t.Fatal(err)
	}

	// A superuser role is refused: permission checks would not apply.
	superRole := re.prefix + "super"
	if _, err := re.admin.Exec("CREATE ROLE " + tenantpath.QuoteIdentifier(superRole) + " SUPERUSER NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { re.admin.Exec("DROP ROLE IF EXISTS " + tenantpath.QuoteIdentifier(superRole)) })
	if err := migrator.ProvisionTenantRole(ctx, re.admin, re.naming, func(string) string { return superRole }, "10"); err == nil {
		t.Fatal("a superuser role was accepted as a tenant role")
	}

	// Dropping twice is fine; afterwards the role is gone.
	for range 2 {
		if err := migrator.DropTenantRole(ctx, re.admin, re.naming, roleOf, "10"); err != nil {
			t.Fatal(err)
		}
	}
	if err := re.admin.QueryRow("SELECT count(*) FROM pg_roles WHERE rolname = $1", roleOf(re.prefix+"10")).Scan(&n); err != nil || n != 0 {
		t.Fatalf("role still there after DropTenantRole: %d (%v)", n, err)
	}
}
