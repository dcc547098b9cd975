package migrator

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// The migration file parser is fed files written by people, checked out of
// repositories, sometimes half-merged: whatever they hold, it must return a
// migration or a ParseError, never panic, and what it returns must be
// consistent. The seed corpora live in testdata/fuzz; plain `go test` runs
// them, and `go test -fuzz FuzzParseGoose ./migrator` explores further.

// FuzzParseGoose feeds a goose-style file body to the parser.
func FuzzParseGoose(f *testing.F) {
	f.Add("-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nDROP TABLE t;\n")
	f.Add("-- +goose Up\n-- +goose NO TRANSACTION\nSELECT 1;\n-- +goose StatementBegin\nBEGIN;\n-- +goose StatementEnd\n")
	f.Fuzz(func(t *testing.T, data string) {
		m, err := parseGoose("m/0001_x.sql", data)
		if err != nil {
			checkParseError(t, err, "m/0001_x.sql", data)
			return
		}
		again, err := parseGoose("m/0001_x.sql", data)
		if err != nil || again.upSQL != m.upSQL || again.downSQL != m.downSQL || again.NoTx != m.NoTx || again.HasDown != m.HasDown {
			t.Fatalf("parsing the same file twice differs: %v", err)
		}
		if m.Checksum != checksum(m.upSQL) {
			t.Fatalf("checksum %s is not the up SQL's", m.Checksum)
		}
		// Like goose, the parser reads an annotation as whatever follows
		// "-- +goose", trimmed ("-- +gooseUp" is an Up marker too).
		sawUp := false
		for _, line := range strings.Split(data, "\n") {
			annotation, ok := strings.CutPrefix(strings.TrimSpace(line), "-- +goose")
			sawUp = sawUp || ok && strings.TrimSpace(annotation) == "Up"
		}
		if !sawUp {
			t.Fatal("accepted a file without an Up marker")
		}
		for _, body := range []string{m.upSQL, m.downSQL} {
			for _, line := range strings.Split(body, "\n") {
				if annotation, ok := strings.CutPrefix(strings.TrimSpace(line), "-- +goose"); ok {
					switch strings.TrimSpace(annotation) {
					case "Up", "Down", "NO TRANSACTION":
						t.Fatalf("section marker %q left in a section's SQL", line)
					}
				}
			}
			if body != "" && !strings.HasSuffix(body, "\n") {
				t.Fatalf("section SQL %q does not end its last line", body)
			}
			checkSplit(t, body)
		}
		for _, body := range []string{m.upSQL, m.downSQL} {
			if words, at, found := txControl(body); found {
				t.Fatalf("accepted a section with %s at offset %d", words, at)
			}
		}
		if m.HasDown && len(statements(m.downSQL)) == 0 {
			t.Fatal("HasDown with no down statement")
		}
		wantNoTx := false
		for _, line := range strings.Split(data, "\n") {
			l := strings.TrimSpace(line)
			annotation, isGoose := strings.CutPrefix(l, "-- +goose")
			if l == noTxMarker || isGoose && strings.TrimSpace(annotation) == "NO TRANSACTION" {
				wantNoTx = true
			}
		}
		if m.NoTx != wantNoTx {
			t.Fatalf("NoTx = %v, want %v", m.NoTx, wantNoTx)
		}
	})
}

// FuzzReadSet feeds a folder holding one file of any name and content to
// the set reader, and, for names in the golang-migrate format, the same
// content as both halves of a pair.
func FuzzReadSet(f *testing.F) {
	f.Add("0001_users.up.sql", "CREATE TABLE users (id int);")
	f.Fuzz(func(t *testing.T, name, data string) {
		if !fs.ValidPath(name) || strings.Contains(name, "/") || name == "." {
			return // not a file name fstest.MapFS can hold in one folder
		}
		fsys := fstest.MapFS{"m/" + name: {Data: []byte(data)}}
		if strings.HasSuffix(name, ".up.sql") {
			fsys["m/"+strings.TrimSuffix(name, ".up.sql")+".down.sql"] = &fstest.MapFile{Data: []byte(data)}
		}
		ms, _, err := readSet(fsys, "m")
		if err != nil {
			var pe *ParseError
			if !errors.Is(err, ErrInvalidMigration) || !errors.As(err, &pe) || pe.Reason == "" || !strings.HasPrefix(pe.File, "m/") {
				t.Fatalf("error %v is not a ParseError about a file in m/", err)
			}
			return
		}
		if !strings.HasSuffix(name, ".sql") && len(ms) != 0 {
			t.Fatalf("%q is not a .sql file, yet %d migrations were read", name, len(ms))
		}
		if len(ms) > 1 {
			t.Fatalf("one file (or pair) gave %d migrations", len(ms))
		}
		for _, m := range ms {
			if m.Version <= 0 || m.Name == "" || !strings.HasPrefix(m.Source, "m/") {
				t.Fatalf("migration %+v: version, name or source missing", m.Migration)
			}
			if m.Checksum != checksum(m.upSQL) {
				t.Fatal("checksum is not the up SQL's")
			}
			if _, err := newSet(TenantSet, ms); err != nil {
				t.Fatalf("a single migration makes an invalid set: %v", err)
			}
			checkSplit(t, m.upSQL)
		}
	})
}

// FuzzSplitStatements feeds any script to the statement splitter used for
// non-transactional migrations and to the check that refuses transaction
// control.
func FuzzSplitStatements(f *testing.F) {
	for _, seed := range []string{
		"CREATE INDEX CONCURRENTLY a ON t (x); SELECT ';' -- ;\n",
		"SELECT 'a;b', $x$;$x$, E'\\';', \"q;\"; /* ; /* ; */ */ SELECT 2",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $é$ SELECT 1; $é$; COMMIT",
		"CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END; BEGIN;",
		"$", "'", "/*", "--", "$a", "E'\\", ";;;", "\v", "\u3000",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, script string) {
		checkSplit(t, script)
		words, at, ok := txControl(script)
		if !ok {
			return
		}
		// The words reported are the script's, at the offset reported.
		first := strings.Fields(words)[0]
		if at < 0 || at+len(first) > len(script) || script[at:at+len(first)] != first {
			t.Fatalf("txControl says %q at %d in %q", words, at, script)
		}
	})
}

// checkSplit checks the splitter's promises on script: every statement is
// trimmed and non-empty, is a piece of the script, and the pieces appear in
// order.
func checkSplit(t *testing.T, script string) {
	t.Helper()
	rest := script
	for i, st := range statements(script) {
		if st == "" || st != trimSpace(st) {
			t.Fatalf("statement %d is empty or untrimmed: %q", i, st)
		}
		at := strings.Index(rest, st)
		if at < 0 {
			t.Fatalf("statement %d %q is not a piece of the script, in order", i, st)
		}
		rest = rest[at+len(st):]
	}
}

// checkParseError checks that err is a ParseError about file, with a line
// number inside data (or none).
func checkParseError(t *testing.T, err error, file, data string) {
	t.Helper()
	var pe *ParseError
	if !errors.Is(err, ErrInvalidMigration) || !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not a ParseError", err, err)
	}
	if pe.File != file || pe.Reason == "" {
		t.Fatalf("ParseError %+v: wrong file or no reason", pe)
	}
	if lines := strings.Count(data, "\n") + 1; pe.Line < 0 || pe.Line > lines {
		t.Fatalf("ParseError line %d outside the file's %d lines", pe.Line, lines)
	}
}
