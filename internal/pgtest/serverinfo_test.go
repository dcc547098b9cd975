package pgtest_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestServerVersion(t *testing.T) {
	got := pgtest.ServerVersion(t)
	if got < 10 {
		t.Fatalf("ServerVersion = %d", got)
	}
	db := openDB(t, "pgx", pgtest.DSN(t))
	want := queryString(t, db, "SELECT split_part(current_setting('server_version'), '.', 1)")
	if strconv.Itoa(got) != want {
		t.Errorf("ServerVersion = %d, server_version says %s", got, want)
	}
	if v := os.Getenv(pgtest.EnvPGVersion); v != "" && os.Getenv(pgtest.EnvDSN) == "" && os.Getenv(pgtest.EnvPGBin) == "" {
		if strconv.Itoa(got) != v {
			t.Errorf("%s=%s but the server is %d", pgtest.EnvPGVersion, v, got)
		}
	}
	if again := pgtest.ServerVersion(t); again != got {
		t.Errorf("second ServerVersion = %d, first %d", again, got)
	}
}

// PostgreSQL 18 reports search_path to the client (ParameterStatus) at
// startup and whenever a statement leaves it changed, in the server's own
// normal form (quotes only where needed); older servers do not report it.
// The driver's check of the server's word rests on this, so it is pinned
// here for each server the suites run on.
func TestSearchPathReport(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	prefix := pgtest.UniquePrefix(t)
	plain, mixed := prefix+"a", prefix+"Mixed-Case"
	for _, s := range []string{plain, mixed} {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{s}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	reported := func() string { return conn.PgConn().ParameterStatus("search_path") }
	steps := []struct {
		sql  string
		want string // on PostgreSQL 18 and later
	}{
		{"", `"$user", public`},
		{"SET search_path = " + pgx.Identifier{plain}.Sanitize() + ", public, pg_temp", plain + ", public, pg_temp"},
		{"SELECT set_config('search_path', " + `'"` + mixed + `"'` + ", false)", `"` + mixed + `"`},
		{"BEGIN", `"` + mixed + `"`},
		{"SET LOCAL search_path = public", "public"},
		{"ROLLBACK", `"` + mixed + `"`},
		{"RESET search_path", `"$user", public`},
	}
	version := pgtest.ServerVersion(t)
	for _, st := range steps {
		if st.sql != "" {
			if _, err := conn.Exec(ctx, st.sql); err != nil {
				t.Fatalf("%s: %v", st.sql, err)
			}
		}
		got, want := reported(), st.want
		if version < 18 {
			want = "" // not reported
		}
		if got != want {
			t.Errorf("PostgreSQL %d, after %q: reported search_path %q, want %q", version, st.sql, got, want)
		}
	}
}
