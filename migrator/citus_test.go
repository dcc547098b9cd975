package migrator_test

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	"github.com/tenantpath/tenantpath/migrator"
)

// schemaElements matches one statement that creates a schema together with
// objects in it (CREATE SCHEMA s CREATE TABLE …), which Citus rejects.
var schemaElements = regexp.MustCompile(`(?is)^\s*CREATE\s+SCHEMA\b.*\bCREATE\b`)

// Citus schema-based sharding distributes each tenant schema and only needs
// the application to set search_path, but it refuses CREATE SCHEMA with
// schema elements. Every statement the migrator sends while migrating,
// creating (both ways) and renaming tenants is checked for it.
func TestMigratorAvoidsSchemaElements(t *testing.T) {
	if !schemaElements.MatchString("CREATE SCHEMA s\n  CREATE TABLE t (id int)") {
		t.Fatal("the check does not recognise the construct it looks for")
	}
	ctx := context.Background()
	e := newEnv(t)
	rec := &tptest.Recorder{Connector: tptest.PGX.Connector(t, pgtest.DSN(t), false)}
	db := sql.OpenDB(rec)
	t.Cleanup(func() { db.Close() })

	if _, err := e.migratorOn(db, basicFS()).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.migratorOn(db, basicFS()).Create(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := e.migratorOn(db, basicFS(), migrator.WithPerMigrationCreate()).Create(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := e.migratorOn(db, basicFS()).Rename(ctx, "a", "c"); err != nil {
		t.Fatal(err)
	}
	creates := 0
	for _, stmt := range rec.Take() {
		for _, part := range strings.Split(stmt, ";") {
			if schemaElements.MatchString(part) {
				t.Errorf("CREATE SCHEMA with schema elements: %q", part)
			}
			if strings.Contains(strings.ToUpper(part), "CREATE SCHEMA") {
				creates++
			}
		}
	}
	if creates < 3 { // the shared schema's and two tenants'
		t.Fatalf("saw %d CREATE SCHEMA statements; the recorder missed the migrator's work", creates)
	}
}
