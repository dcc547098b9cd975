package migrator

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadSetFormats(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0001_a.up.sql":   {Data: []byte("CREATE TABLE a (id int);")},
		"m/0001_a.down.sql": {Data: []byte("DROP TABLE a;")},
		"m/0002_b.sql": {Data: []byte(`-- header comment
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
-- +goose StatementEnd
-- +goose Down
DROP FUNCTION f();
`)},
		"m/0003_c.sql":    {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n")},
		"m/0004_d.up.sql": {Data: []byte("-- tenantpath:no-transaction\nCREATE INDEX CONCURRENTLY a_id2 ON a (id);\n")},
		"m/README.md":     {Data: []byte("not a migration")},
	}
	ms, found, err := readSet(fsys, "m")
	if err != nil || !found {
		t.Fatal(found, err)
	}
	s, err := newSet(TenantSet, ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.list) != 4 {
		t.Fatalf("got %d migrations, want 4", len(s.list))
	}
	a, b, c, d := s.list[0], s.list[1], s.list[2], s.list[3]
	if a.Name != "a" || !a.HasDown || a.NoTx || a.downSQL != "DROP TABLE a;" || a.Checksum != checksum("CREATE TABLE a (id int);") {
		t.Errorf("a = %+v", a)
	}
	if b.Name != "b" || !b.HasDown || b.NoTx || len(statements(b.upSQL)) != 1 {
		t.Errorf("b = %+v, statements %q", b, statements(b.upSQL))
	}
	if !c.NoTx || c.HasDown {
		t.Errorf("c = %+v", c)
	}
	if !d.NoTx || d.HasDown {
		t.Errorf("d = %+v", d)
	}
	// A changed byte changes the checksum.
	fsys["m/0001_a.up.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE a (id bigint);")}
	ms2, _, _ := readSet(fsys, "m")
	s2, _ := newSet(TenantSet, ms2)
	if s2.list[0].Checksum == a.Checksum {
		t.Error("checksum did not change with the file")
	}
}

func TestReadSetErrors(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"bad name":         {"m/create_users.sql": {Data: []byte("-- +goose Up\nSELECT 1;")}},
		"zero version":     {"m/0000_x.up.sql": {Data: []byte("SELECT 1;")}},
		"down only":        {"m/0001_x.down.sql": {Data: []byte("SELECT 1;")}},
		"no goose up":      {"m/0001_x.sql": {Data: []byte("CREATE TABLE x (id int);")}},
		"sql before up":    {"m/0001_x.sql": {Data: []byte("SELECT 1;\n-- +goose Up\nSELECT 2;")}},
		"down before up":   {"m/0001_x.sql": {Data: []byte("-- +goose Down\nSELECT 1;\n-- +goose Up\nSELECT 2;")}},
		"unknown annot":    {"m/0001_x.sql": {Data: []byte("-- +goose Up\n-- +goose ENVSUB ON\nSELECT 1;")}},
		"two names":        {"m/0001_x.up.sql": {Data: []byte("SELECT 1;")}, "m/0001_y.down.sql": {Data: []byte("SELECT 1;")}},
		"goose in migrate": {"m/0001_x.up.sql": {Data: []byte("-- +goose Up\nSELECT 1;")}},
	}
	for name, fsys := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := readSet(fsys, "m")
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidMigration) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
		})
	}
	t.Run("duplicate", func(t *testing.T) {
		fsys := fstest.MapFS{
			"m/0001_x.up.sql": {Data: []byte("SELECT 1;")},
			"m/0001_y.sql":    {Data: []byte("-- +goose Up\nSELECT 1;")},
		}
		ms, _, err := readSet(fsys, "m")
		if err != nil {
			t.Fatal(err)
		}
		_, err = newSet(TenantSet, ms)
		var de *DuplicateError
		if !errors.As(err, &de) || de.Version != 1 || !errors.Is(err, ErrInvalidMigration) {
			t.Fatalf("err = %v, want *DuplicateError for version 1", err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		if ms, found, err := readSet(fstest.MapFS{}, "m"); err != nil || found || ms != nil {
			t.Fatalf("missing dir: %v, %v, %v", ms, found, err)
		}
		if ms, found, err := readSet(fstest.MapFS{"m/README.md": {}}, "m"); err != nil || !found || ms != nil {
			t.Fatalf("empty dir: %v, %v, %v", ms, found, err)
		}
	})
}

func TestSplitStatements(t *testing.T) {
	script := `-- leading comment; with semicolon
CREATE TABLE t (a text DEFAULT 'x;y', "b;c" int); /* block ; /* nested ; */ still */
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;
SELECT E'it\'s;', $$;$$, 'a''b;';
;  -- empty
CREATE INDEX CONCURRENTLY i ON t (a)`
	got := statements(script)
	want := []string{
		`-- leading comment; with semicolon
CREATE TABLE t (a text DEFAULT 'x;y', "b;c" int)`,
		`/* block ; /* nested ; */ still */
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$`,
		`SELECT E'it\'s;', $$;$$, 'a''b;'`,
		`-- empty
CREATE INDEX CONCURRENTLY i ON t (a)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("split:\n%q\nwant\n%q", got, want)
	}
	// PostgreSQL takes any byte >= 0x80 in a dollar-quote tag, and psql
	// keeps a BEGIN ATOMIC body in one statement.
	for script, want := range map[string][]string{
		"CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $é$ SELECT 1; SELECT 2 $é$;\nSELECT 3": {
			"CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $é$ SELECT 1; SELECT 2 $é$", "SELECT 3"},
		"CREATE FUNCTION h() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3;": {
			"CREATE FUNCTION h() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", "SELECT 3"},
		"\v SELECT 1 \v;\u3000": {"SELECT 1", "\u3000"},
	} {
		if got := statements(script); !reflect.DeepEqual(got, want) {
			t.Errorf("statements(%q) = %q, want %q", script, got, want)
		}
	}
}

func TestTxControl(t *testing.T) {
	refused := map[string]string{
		"BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;":                "BEGIN",
		"CREATE TABLE a (id int);\n  commit;":                      "commit",
		"start transaction isolation level serializable; SELECT 1": "start",
		"SELECT 1;\n/* c */ END":                                   "END",
		"-- c\nROLLBACK TO SAVEPOINT s;":                           "ROLLBACK",
		"ABORT":                                                    "ABORT",
		"SELECT 1; PREPARE  TRANSACTION 'x'":                       "PREPARE TRANSACTION",
		"COMMIT PREPARED 'x'":                                      "COMMIT",
		"SELECT 1;\nbegin isolation level serializable;":           "begin",
	}
	for script, word := range refused {
		got, at, ok := txControl(script)
		if !ok || got != word || !strings.HasPrefix(script[at:], strings.Fields(word)[0]) {
			t.Errorf("txControl(%q) = %q at %d, %v; want %q", script, got, at, ok, word)
		}
	}
	accepted := []string{
		"CREATE TABLE a (id int); INSERT INTO a VALUES (1);",
		"DO $$ BEGIN PERFORM 1; COMMIT; END $$;",
		"CREATE PROCEDURE p() LANGUAGE plpgsql AS $body$ BEGIN COMMIT; ROLLBACK; END $body$;",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\nSELECT f();",
		"CREATE OR REPLACE PROCEDURE q() LANGUAGE sql BEGIN ATOMIC INSERT INTO a VALUES (1); END;",
		"SELECT 'BEGIN; COMMIT;'; -- COMMIT;\n/* ROLLBACK; */ SELECT \"end\"",
		"PREPARE ins AS INSERT INTO a VALUES ($1); EXECUTE ins(1)",
		"CREATE TABLE begin_log (commit int)",
	}
	for _, script := range accepted {
		if got, at, ok := txControl(script); ok {
			t.Errorf("txControl(%q) = %q at %d, want none", script, got, at)
		}
	}
}

// Files that begin or end their own transaction are refused by name and
// line, in both formats, up and down; non-transactional ones too.
func TestReadSetRefusesTxControl(t *testing.T) {
	cases := []struct {
		fsys fstest.MapFS
		file string
		line int
	}{
		{fstest.MapFS{"m/0001_a.up.sql": {Data: []byte("BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n")}}, "m/0001_a.up.sql", 1},
		{fstest.MapFS{
			"m/0001_a.up.sql":   {Data: []byte("CREATE TABLE a (id int);\n")},
			"m/0001_a.down.sql": {Data: []byte("DROP TABLE a;\n\nEND;\n")},
		}, "m/0001_a.down.sql", 3},
		{fstest.MapFS{"m/0002_b.sql": {Data: []byte("-- +goose Up\n-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY i ON a (id);\n" +
			"-- +goose StatementBegin\nSTART TRANSACTION;\n-- +goose StatementEnd\n")}}, "m/0002_b.sql", 5},
		{fstest.MapFS{"m/0003_c.sql": {Data: []byte("-- header\n-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n\nROLLBACK;\n")}}, "m/0003_c.sql", 7},
		{fstest.MapFS{"m/0004_d.up.sql": {Data: []byte("-- tenantpath:no-transaction\nSELECT 1; commit;\n")}}, "m/0004_d.up.sql", 2},
	}
	for _, c := range cases {
		_, _, err := readSet(c.fsys, "m")
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidMigration) || pe.File != c.file || pe.Line != c.line {
			t.Errorf("%s: err = %v, want a ParseError at line %d", c.file, err, c.line)
		}
	}
}

func TestCheckHistory(t *testing.T) {
	s, _ := newSet(TenantSet, []*migration{
		{Migration: Migration{Version: 1, Checksum: "a"}},
		{Migration: Migration{Version: 2, Checksum: "b"}},
		{Migration: Migration{Version: 3, Checksum: "c"}},
	})
	var he *HistoryError
	if err := s.check("s", []appliedRow{{1, "a"}, {3, "c"}}); !errors.As(err, &he) || he.Reason != HistoryGap || he.Version != 2 {
		t.Errorf("gap: %v", err)
	}
	if err := s.check("s", []appliedRow{{1, "a"}, {4, "d"}}); !errors.As(err, &he) || he.Reason != HistoryUnknown || he.Version != 4 {
		t.Errorf("unknown: %v", err)
	}
	var ce *ChecksumError
	if err := s.check("s", []appliedRow{{1, "a"}, {2, "x"}}); !errors.As(err, &ce) || ce.Version != 2 || !errors.Is(err, ErrChecksum) {
		t.Errorf("checksum: %v", err)
	}
	if err := s.check("s", []appliedRow{{1, "a"}, {2, "b"}}); err != nil {
		t.Errorf("clean history: %v", err)
	}
}

func TestTextArray(t *testing.T) {
	if got := textArray([]string{`a`, `b"c`, `d\e`}); got != `{"a","b\"c","d\\e"}` {
		t.Fatalf("textArray = %s", got)
	}
}
