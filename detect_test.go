package tenantpath

import "testing"

func TestMayChangePath(t *testing.T) {
	yes := []string{
		"SET search_path TO x", "set SEARCH_PATH = x", "SET LOCAL search_path TO x",
		"SELECT set_config('search_path', 'x', false)", "select pg_catalog.SET_CONFIG('search_path','x',true)",
		"RESET search_path", "reset all", "DISCARD ALL", "discard plans",
		"SET ROLE tenant", "set session role none", "SET LOCAL ROLE x", "RESET ROLE",
		"SET SESSION AUTHORIZATION x", "SELECT set_config('session_authorization','x',false)",
		"ROLLBACK", "rollback to savepoint a", "ABORT", "BEGIN; SET search_path TO x; COMMIT",
	}
	no := []string{
		"SELECT 1", "SELECT role FROM users", "UPDATE users SET role = 'admin'",
		"INSERT INTO t (search) VALUES ('path')", "SAVEPOINT a", "COMMIT", "SELECT resets FROM t",
		"CREATE TABLE rollbacks (id int)", "SELECT * FROM search_paths_log",
	}
	for _, q := range yes {
		if !mayChangePath(q) {
			t.Errorf("missed %q", q)
		}
	}
	for _, q := range no {
		if mayChangePath(q) {
			t.Errorf("false alarm on %q", q)
		}
	}
}

func TestMayChangePathAllocatesNothing(t *testing.T) {
	q := "SELECT id, title, body FROM notes WHERE owner = $1 AND role = 'x' ORDER BY created_at DESC LIMIT 50"
	if n := testing.AllocsPerRun(100, func() { mayChangePath(q) }); n != 0 {
		t.Fatalf("%v allocations per call", n)
	}
}
