package migrator_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
)

// newOn builds a Migrator on a pool that is never used: New sends nothing.
func newOn(fsys fs.FS, opts ...migrator.Option) (*migrator.Migrator, error) {
	db, err := sql.Open("pgx", "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	return migrator.New(db, fsys, tenantpath.Naming{Prefix: "org_"}, opts...)
}

// Migration folders that do not exist: one named by an option is an
// error; a missing default folder is an empty set, unless both are missing.
func TestMissingDirs(t *testing.T) {
	tenantOnly := fstest.MapFS{"tenant_migrations/0001_a.up.sql": {Data: []byte("CREATE TABLE a (id int);")}}
	cases := []struct {
		name string
		fsys fs.FS
		opts []migrator.Option
		dirs []string // nil: no error
	}{
		{"default shared missing", tenantOnly, nil, nil},
		{"both defaults missing", fstest.MapFS{"other/0001_a.up.sql": {}}, nil, []string{"migrations", "tenant_migrations"}},
		{"empty fs", fstest.MapFS{}, nil, []string{"migrations", "tenant_migrations"}},
		{"explicit tenant dir missing", tenantOnly, []migrator.Option{migrator.WithTenantDir("tenants")}, []string{"tenants"}},
		{"explicit shared dir missing", tenantOnly, []migrator.Option{migrator.WithSharedDir("shared")}, []string{"shared"}},
		{"explicit dir and a missing default", fstest.MapFS{"t/0001_a.up.sql": {Data: []byte("SELECT 1;")}},
			[]migrator.Option{migrator.WithTenantDir("t")}, nil},
		{"no shared dir at all", tenantOnly, []migrator.Option{migrator.WithSharedDir("")}, nil},
		{"nil fs", nil, nil, nil},
	}
	for _, c := range cases {
		_, err := newOn(c.fsys, c.opts...)
		if c.dirs == nil {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var md *migrator.MissingDirError
		if !errors.Is(err, migrator.ErrMissingDir) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &md) || !slices.Equal(md.Dirs, c.dirs) {
			t.Errorf("%s: err = %v, want a MissingDirError for %q", c.name, err, c.dirs)
			continue
		}
		for _, d := range c.dirs {
			if !strings.Contains(err.Error(), d) {
				t.Errorf("%s: message %q does not name %s", c.name, err, d)
			}
		}
	}
}

// Hole 10 of issue 9: files with their own transaction control are
// refused when the Migrator is built, naming the file and the line.
func TestNewRefusesTxControl(t *testing.T) {
	fsys := withFile(basicFS(), "tenant_migrations/0003_half.up.sql",
		"BEGIN;\nCREATE TABLE first_half (id int);\nCOMMIT;\nCREATE TABLE second_half (id int REFERENCES nowhere);\n")
	_, err := newOn(fsys)
	var pe *migrator.ParseError
	if !errors.Is(err, migrator.ErrInvalidMigration) || !errors.As(err, &pe) ||
		pe.File != "tenant_migrations/0003_half.up.sql" || pe.Line != 1 || !strings.Contains(err.Error(), "0003_half.up.sql:1") {
		t.Fatalf("err = %v", err)
	}
	// Bodies that hold BEGIN, COMMIT or END are not transaction control.
	fine := withFile(basicFS(), "tenant_migrations/0003_bodies.up.sql", `
DO $$ BEGIN PERFORM 1; END $$;
CREATE FUNCTION bump() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;
CREATE PROCEDURE tidy() LANGUAGE plpgsql AS $body$ BEGIN COMMIT; END $body$;
`)
	if _, err := newOn(fine); err != nil {
		t.Fatalf("bodies refused: %v", err)
	}
}

func TestWithLoggerNil(t *testing.T) {
	if _, err := newOn(basicFS(), migrator.WithLogger(nil)); err == nil {
		t.Fatal("WithLogger(nil) accepted")
	}
}

// PartialError unwraps to the cause and every failed tenant's error.
func TestPartialErrorUnwrap(t *testing.T) {
	checksum := &migrator.ChecksumError{Schema: "org_a", Version: 1}
	history := &migrator.HistoryError{Schema: "org_b", Version: 2, Reason: migrator.HistoryGap}
	err := error(&migrator.PartialError{
		Failed: []migrator.Result{{Tenant: "a", Err: checksum}, {Tenant: "b", Err: history}},
		Cause:  context.Canceled,
	})
	var he *migrator.HistoryError
	if !errors.Is(err, migrator.ErrPartial) || !errors.Is(err, migrator.ErrChecksum) || !errors.Is(err, migrator.ErrHistory) ||
		!errors.Is(err, context.Canceled) || !errors.As(err, &he) || he != history {
		t.Fatalf("errors.Is/As do not see through %v", err)
	}
	if errors.Is(&migrator.PartialError{Failed: []migrator.Result{{Tenant: "a", Err: history}}}, migrator.ErrChecksum) {
		t.Fatal("ErrChecksum matched without a checksum failure")
	}
}
