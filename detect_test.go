package tenantpath

import (
	"testing"

	"github.com/tenantpath/tenantpath/internal/sqlscan"
)

func TestSQLEffects(t *testing.T) {
	cases := []struct {
		query string
		want  sqlEffect
	}{
		{"SELECT 1", 0},
		{"SELECT role FROM users", 0},
		{"INSERT INTO t (search) VALUES ('path')", 0},
		{"SAVEPOINT a", 0},
		{"SELECT resets FROM t", 0},
		{"CREATE TABLE rollbacks (id int)", 0},
		{"SELECT * FROM search_paths_log", 0},
		{"SELECT CASE WHEN x THEN 1 ELSE 2 END FROM t", 0},
		{"SELECT $1::int, $2", 0},
		{"SELECT commit_sha FROM builds", 0},

		{"SET search_path TO x", effectPath},
		{"set SEARCH_PATH = x", effectPath},
		{`SET "search_path" TO x`, effectPath},
		{"SET LOCAL search_path TO x", effectPath},
		{"SELECT set_config('search_path', 'x', false)", effectPath},
		{"select pg_catalog.SET_CONFIG('search_path','x',true)", effectPath},
		{"RESET search_path", effectPath},
		{"reset all", effectPath},
		{"DISCARD ALL", effectPath},
		{"SET ROLE tenant", effectPath},
		{"set session role none", effectPath},
		{"SET LOCAL ROLE x", effectPath},
		{"RESET ROLE", effectPath},
		{"/* app=web */ SET ROLE x", effectPath},
		{"-- traced\nSET ROLE x", effectPath},
		{"SET /* x */ ROLE x", effectPath},
		{"UPDATE users SET role = 'admin'", effectPath}, // a false alarm: it costs one switch
		{"SET SESSION AUTHORIZATION x", effectPath},
		{"SELECT set_config('session_authorization','x',false)", effectPath},
		{`SET U&"search\005fpath" TO x`, effectPath},
		{"DO $$ BEGIN SET search_path TO x; END $$", effectPath | effectBodyEndTx},
		{"DO $body$ BEGIN EXECUTE 'SET ROLE x'; END $body$", effectPath | effectBodyEndTx},
		{"DO $$ BEGIN NULL; END $$", effectBodyEndTx},
		{"SELECT 'commit'", effectBodyEndTx},
		{"DO $$ BEGIN NULL; END $$; COMMIT", effectBodyEndTx | effectEndTx},
		{"SELECT 'a--b'; SET search_path TO y", effectPath},
		{"SELECT 'x; /*'; SET ROLE y", effectPath},

		{"ROLLBACK", effectEndTx},
		{"rollback work", effectEndTx},
		{"ABORT", effectEndTx},
		{"COMMIT", effectEndTx},
		{"END", effectEndTx},
		{"end transaction", effectEndTx},
		{"/* c */ END", effectEndTx},
		{"PREPARE TRANSACTION 'x'", effectEndTx},
		{"BEGIN; SET search_path TO x; COMMIT", effectPath | effectEndTx},
		{"rollback to savepoint a", effectSavepointRollback},
		{"ROLLBACK TRANSACTION TO a", effectSavepointRollback},

		// Spellings of a path change that are not SET search_path.
		{"SET SCHEMA 'x'", effectPath},
		{"set local schema 'x'", effectPath},
		{"SET SESSION SCHEMA 'x'", effectPath},
		{"ALTER TABLE t SET SCHEMA s", effectPath}, // a false alarm
		{"UPDATE pg_settings SET setting = 'x' WHERE name = 'search' || '_path'", effectPath},
		{"select * from PG_SETTINGS", effectPath},
		{"PREPARE p AS SELECT set_config('search_path', 'x', false)", effectPath},
		{"EXECUTE p", effectPath},
		{"/* c */ execute p(1)", effectPath},
		{"SELECT 1; EXECUTE p", effectPath},
		{"GRANT EXECUTE ON FUNCTION f() TO r", 0},
		// psql's rules keep the body of BEGIN ATOMIC one statement, but an
		// END after any semicolon still counts.
		{"CREATE PROCEDURE begin() LANGUAGE sql BEGIN ATOMIC SELECT 1; END", effectEndTx},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; SET SCHEMA 'x'", effectPath | effectEndTx},
		{"SELECT $é$ ; SET ROLE x $é$", effectPath},
	}
	for _, c := range cases {
		if got := sqlEffects(c.query); got != c.want {
			t.Errorf("sqlEffects(%q) = %03b, want %03b", c.query, got, c.want)
		}
	}
}

func TestSQLEffectsAllocatesNothing(t *testing.T) {
	q := "/* app */ SELECT id, title, body FROM notes WHERE owner = $1 AND role = 'x' AND t = $$y$$ ORDER BY created_at DESC LIMIT 50"
	if n := testing.AllocsPerRun(100, func() { sqlEffects(q) }); n != 0 {
		t.Fatalf("%v allocations per call", n)
	}
}

// FuzzSQLEffectsAgreeWithSplitter: the statements the migrator's splitter
// sends one at a time never show an effect that the scan of the whole
// script missed, so the detector and the splitter agree on what a
// statement is.
func FuzzSQLEffectsAgreeWithSplitter(f *testing.F) {
	for _, s := range []string{"SELECT 1; SET ROLE x", "SET (;) ROLE", "CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END; END",
		"ROLLBACK; TO", "SET ; SCHEMA", "$é$;$é$ END", "(; END"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		whole := sqlEffects(q)
		sp := sqlscan.NewSplitter(q)
		for {
			st, ok := sp.Next()
			if !ok {
				return
			}
			if part := sqlEffects(st.Text); part&^whole != 0 {
				t.Fatalf("statement %q of %q has effects %03b; the whole script only %03b", st.Text, q, part, whole)
			}
		}
	})
}

// FuzzSQLEffects: whatever the text, the scan terminates without panicking,
// and prefixing a path change to any statement is always seen.
func FuzzSQLEffects(f *testing.F) {
	for _, s := range []string{"SELECT 1", "'", "\"", "$$", "$a", "/*", "--", "E'\\'", "/* /* */", "$x$ $x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		sqlEffects(q)
		if sqlEffects("SET search_path TO x;"+q)&effectPath == 0 {
			t.Fatalf("missed the SET before %q", q)
		}
	})
}

// pgx-native routing lets through, without a tenant, only a lone statement
// that ends a transaction or handles a savepoint.
func TestTxControlOnly(t *testing.T) {
	for q, want := range map[string]bool{
		"commit":                         true,
		"COMMIT;":                        true,
		"rollback":                       true,
		"  ROLLBACK WORK  ":              true,
		"end":                            true,
		"abort":                          true,
		"savepoint sp_1":                 true,
		"release savepoint sp_1":         true,
		"rollback to savepoint sp_1":     true,
		"/* app */ commit -- done":       true,
		"commit and chain":               true,
		"":                               false,
		";":                              false,
		"select 1":                       false,
		"commit; select 1":               false,
		"commit;;":                       false,
		"commit /* x */ ; insert into t": false,
		"savepoint \"x\"":                false,
		"commit prepared 'x'":            false,
		"rollback; set search_path = x":  false,
		"begin":                          false,
		"insert into t values (1); end":  false,
		"end$$; select 1":                false,
	} {
		if got := txControlOnly(q); got != want {
			t.Errorf("txControlOnly(%q) = %v, want %v", q, got, want)
		}
	}
}
