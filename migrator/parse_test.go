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
	ms, err := readSet(fsys, "m", false)
	if err != nil {
		t.Fatal(err)
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
	if b.Name != "b" || !b.HasDown || b.NoTx || len(splitStatements(b.upSQL)) != 1 {
		t.Errorf("b = %+v, statements %q", b, splitStatements(b.upSQL))
	}
	if !c.NoTx || c.HasDown {
		t.Errorf("c = %+v", c)
	}
	if !d.NoTx || d.HasDown {
		t.Errorf("d = %+v", d)
	}
	// A changed byte changes the checksum.
	fsys["m/0001_a.up.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE a (id bigint);")}
	ms2, _ := readSet(fsys, "m", false)
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
			_, err := readSet(fsys, "m", false)
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
		ms, err := readSet(fsys, "m", false)
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
		if ms, err := readSet(fstest.MapFS{}, "m", true); err != nil || ms != nil {
			t.Fatalf("missing default dir: %v, %v", ms, err)
		}
		if _, err := readSet(fstest.MapFS{}, "m", false); err == nil {
			t.Fatal("missing explicit dir: no error")
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
	got := splitStatements(script)
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
}

func TestCheckHistory(t *testing.T) {
	s, _ := newSet(TenantSet, []*migration{
		{Migration: Migration{Version: 1, Checksum: "a"}},
		{Migration: Migration{Version: 2, Checksum: "b"}},
		{Migration: Migration{Version: 3, Checksum: "c"}},
	})
	var he *HistoryError
	if err := s.check("s", []appliedRow{{1, "a"}, {3, "c"}}); !errors.As(err, &he) || he.Reason != "gap" || he.Version != 2 {
		t.Errorf("gap: %v", err)
	}
	if err := s.check("s", []appliedRow{{1, "a"}, {4, "d"}}); !errors.As(err, &he) || he.Reason != "unknown" || he.Version != 4 {
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

// The parser and the splitter never panic, and the splitter never returns
// an empty statement or loses a non-blank, non-comment character outside
// quotes and comments.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n",
		"-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON a (id);",
		"SELECT 'a;b', $x$;$x$, E'\\';', \"q;\"; /* ; /* ; */ */ SELECT 2",
		"$", "'", "/*", "--", "$a", "E'\\", ";;;",
		"\v", "\u3000", // found by the fuzzer: white space PostgreSQL skips, and one it does not
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		_, _ = parseGoose("f.sql", data)
		_ = checkAnnotations("f.up.sql", data)
		for _, stmt := range splitStatements(data) {
			if strings.Trim(stmt, sqlSpace) == "" {
				t.Fatalf("empty statement from %q", data)
			}
		}
	})
}
