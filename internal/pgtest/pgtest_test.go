package pgtest_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/lib/pq"

	"github.com/tenantpath/tenantpath/internal/pgtest"
)

// crashHelperEnv makes the test binary act as a process that starts a
// server and dies without stopping it; see TestWatchdogCleansUpAfterCrash.
const crashHelperEnv = "PGTEST_CRASH_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(crashHelperEnv) == "1" {
		srv, err := pgtest.Start(pgtest.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("%s %d\n", filepath.Dir(srv.LogPath()), srv.Port())
		os.Exit(3) // no Stop: the watchdog must clean up
	}
	pgtest.Main(m)
}

func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("sql.Open(%q): %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryString(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var s string
	if err := db.QueryRowContext(ctx, query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

func TestDSNWorksWithPgxAndPq(t *testing.T) {
	dsn := pgtest.DSN(t)
	if !strings.HasPrefix(dsn, "postgres://") {
		t.Errorf("DSN %q is not a URL", dsn)
	}
	// The ephemeral server's only role is User; an outside server's is
	// whatever its DSN names.
	login := pgtest.LoginRole(t)
	if pgtest.Current() != nil && login != pgtest.User {
		t.Errorf("LoginRole = %q on the ephemeral server, want %q", login, pgtest.User)
	}
	for _, driver := range []string{"pgx", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			db := openDB(t, driver, dsn)
			if got := queryString(t, db, "SELECT current_user"); got != login {
				t.Errorf("current_user = %q, want %q", got, login)
			}
			if got := queryString(t, db, "SELECT $1::text || 'b'", "a"); got != "ab" {
				t.Errorf("parameter round trip = %q", got)
			}
		})
	}
}

func TestServerSettings(t *testing.T) {
	if pgtest.Current() == nil {
		t.Log("using " + pgtest.EnvDSN + ": the settings are the server's own")
		return
	}
	db := openDB(t, "pgx", pgtest.DSN(t))
	want := map[string]string{
		"max_connections":           "300",
		"max_locks_per_transaction": "512",
		"fsync":                     "off",
		"synchronous_commit":        "off",
		"full_page_writes":          "off",
		"shared_buffers":            "128MB",
		"server_encoding":           "UTF8",
	}
	for name, value := range want {
		if got := queryString(t, db, "SELECT current_setting($1)", name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
	// pg_stat_statements is preloaded whenever it is installed, and
	// scripts/install-deps.sh installs it.
	if got := queryString(t, db, "SELECT current_setting('shared_preload_libraries')"); got != "pg_stat_statements" {
		t.Errorf("shared_preload_libraries = %q, want pg_stat_statements", got)
	}
	if got := queryString(t, db, "SELECT current_setting('pg_stat_statements.track')"); got != "all" {
		t.Errorf("pg_stat_statements.track = %q, want all", got)
	}
}

func TestStartStopRestart(t *testing.T) {
	start := time.Now()
	srv, err := pgtest.Start(pgtest.Options{
		Logf:     t.Logf,
		Settings: map[string]string{"work_mem": "8MB", "application_name": "it's quoted"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v", time.Since(start))
	t.Cleanup(func() { srv.Stop() })
	dir := filepath.Dir(srv.LogPath())
	if srv.Port() == 0 || !strings.Contains(srv.DSN(), ":"+strconv.Itoa(srv.Port())+"/") {
		t.Fatalf("port %d, DSN %s", srv.Port(), srv.DSN())
	}
	if mainSrv := pgtest.Current(); mainSrv != nil && mainSrv.Port() == srv.Port() {
		t.Fatalf("second server on the same port %d", srv.Port())
	}

	db := openDB(t, "pgx", srv.DSN())
	if got := queryString(t, db, "SHOW work_mem"); got != "8MB" {
		t.Errorf("work_mem = %q, want 8MB", got)
	}
	if got := queryString(t, db, "SELECT current_setting('application_name', true)"); got == "" {
		// application_name set by the client overrides the default; only
		// check the server accepted the quoted value.
		t.Log("application_name overridden by the client")
	}
	var before int
	if err := db.QueryRow("SELECT pg_backend_pid()").Scan(&before); err != nil {
		t.Fatal(err)
	}
	db.SetMaxIdleConns(0)

	start = time.Now()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restart took %v", time.Since(start))
	if got := queryString(t, db, "SELECT 'after restart'"); got != "after restart" {
		t.Errorf("after restart: %q", got)
	}
	db.Close()

	start = time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop took %v", time.Since(start))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("server directory %s still there after Stop (stat: %v)", dir, err)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port())), time.Second); err == nil {
		c.Close()
		t.Errorf("port %d still accepts connections after Stop", srv.Port())
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := srv.Restart(); err == nil {
		t.Error("Restart after Stop succeeded")
	}
}

func TestUniquePrefixDropsSchemas(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z][a-z0-9_]*_$`)
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	var prefix, other string
	const n = 130 // three drop batches
	t.Run("create", func(t *testing.T) {
		prefix = pgtest.UniquePrefix(t)
		other = pgtest.UniquePrefix(t)
		for _, p := range []string{prefix, other} {
			if !valid.MatchString(p) || len(p) > 12 {
				t.Fatalf("prefix %q: want short, lowercase ascii, digits and underscores, ending in _", p)
			}
		}
		if prefix == other || strings.HasPrefix(other, prefix) || strings.HasPrefix(prefix, other) {
			t.Fatalf("prefixes %q and %q overlap", prefix, other)
		}
		for i := range n {
			name := pgx.Identifier{fmt.Sprintf("%sschema%d", prefix, i)}.Sanitize()
			if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name+"; CREATE TABLE "+name+".t (id int primary key)"); err != nil {
				t.Fatal(err)
			}
		}
		// A name that only looks like the prefix under LIKE semantics.
		lookalike := strings.TrimSuffix(prefix, "_") + "x"
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{lookalike}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	})
	lookalike := pgx.Identifier{strings.TrimSuffix(prefix, "_") + "x"}.Sanitize()
	defer conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+lookalike)
	var left int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, $1)", prefix).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d schemas with prefix %q left after cleanup", left, prefix)
	}
	var lookalikeLeft int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", strings.TrimSuffix(prefix, "_")+"x").Scan(&lookalikeLeft); err != nil {
		t.Fatal(err)
	}
	if lookalikeLeft != 1 {
		t.Errorf("schema %sx was dropped by the cleanup of %q", strings.TrimSuffix(prefix, "_"), prefix)
	}
}

func TestStartPgBouncer(t *testing.T) {
	for _, mode := range []string{"session", "transaction"} {
		t.Run(mode, func(t *testing.T) {
			dsn := pgtest.StartPgBouncer(t, mode, 0)
			if dsn == pgtest.DSN(t) {
				t.Fatal("PgBouncer DSN is the server's DSN")
			}
			// In transaction mode named prepared statements do not outlive
			// their transaction, so pgx must not cache them; lib/pq must
			// send Parse and Bind in one round trip (binary_parameters), or
			// the two may reach different server connections.
			clients := map[string][2]string{
				"pgx":      {"pgx", dsn},
				"postgres": {"postgres", dsn},
			}
			if mode == "transaction" {
				clients = map[string][2]string{
					"pgx-exec":   {"pgx", dsn + "&default_query_exec_mode=exec"},
					"pgx-simple": {"pgx", dsn + "&default_query_exec_mode=simple_protocol"},
					"postgres":   {"postgres", dsn + "&binary_parameters=yes"},
				}
			}
			for name, c := range clients {
				driver, d := c[0], c[1]
				t.Run(name, func(t *testing.T) {
					db := openDB(t, driver, d)
					if got := queryString(t, db, "SELECT $1::text || current_user", "via "); got != "via "+pgtest.LoginRole(t) {
						t.Errorf("got %q", got)
					}
					// Several connections share the small pool.
					db.SetMaxOpenConns(8)
					errs := make(chan error, 40)
					for i := range 40 {
						go func() {
							var n int
							err := db.QueryRow("SELECT $1::int + 1 FROM pg_sleep(0.05)", i).Scan(&n)
							if err == nil && n != i+1 {
								err = fmt.Errorf("got %d, want %d", n, i+1)
							}
							errs <- err
						}()
					}
					for range 40 {
						if err := <-errs; err != nil {
							t.Error(err)
						}
					}
				})
			}
		})
	}
}

// TestWatchdogCleansUpAfterCrash starts a server in a child process that
// exits without stopping it, and checks the server is stopped and its
// directory removed anyway.
func TestWatchdogCleansUpAfterCrash(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("helper exited %d (%v), want 3; stderr:\n%s", code, err, stderr.String())
	}
	var dir string
	var port int
	if _, err := fmt.Sscanf(string(out), "%s %d", &dir, &port); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, statErr := os.Stat(dir)
		c, dialErr := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if dialErr == nil {
			c.Close()
		}
		if os.IsNotExist(statErr) && dialErr != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("20s after the crash: directory %s stat err %v, port %d dial err %v", dir, statErr, port, dialErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStartFailureIncludesServerLog(t *testing.T) {
	srv, err := pgtest.Start(pgtest.Options{Settings: map[string]string{"shared_buffers": "lots"}})
	if err == nil {
		srv.Stop()
		t.Fatal("Start succeeded with shared_buffers = lots")
	}
	if !strings.Contains(err.Error(), "shared_buffers") || !strings.Contains(err.Error(), "postgres.log") {
		t.Errorf("error does not quote the server log:\n%v", err)
	}
	// The failed server's directory is gone.
	m := regexp.MustCompile(`last lines of (\S+)/postgres\.log`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("no log path in error:\n%v", err)
	}
	if _, statErr := os.Stat(m[1]); !os.IsNotExist(statErr) {
		t.Errorf("directory %s of the failed server still there (stat: %v)", m[1], statErr)
	}
}
