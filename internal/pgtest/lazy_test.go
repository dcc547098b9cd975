package pgtest_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath/internal/pgtest"
)

// reportServerEnv makes TestCurrentIsTheServerOfDSN print its server's
// directory and port, for TestServerStartsOnFirstUseAndStopsAtExit.
const reportServerEnv = "PGTEST_REPORT_SERVER"

// runSelf runs this test binary on the tests matching run, with env added
// to the environment (TENANTPATH_TEST_DSN cleared unless env sets it), and
// returns its exit code and combined output.
func runSelf(t *testing.T, run string, env ...string) (int, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run="+run, "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), pgtest.EnvDSN+"=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("running %s: %v", exe, err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// A test binary whose tests never ask for a server starts none. The child
// is pointed at server programs that do not exist: any attempt to start a
// server would fail it.
func TestNoServerStartedUnlessAsked(t *testing.T) {
	bogus := filepath.Join(t.TempDir(), "no-postgres-here")
	code, out := runSelf(t, "^TestParseMajor$", pgtest.EnvPGBin+"="+bogus)
	if code != 0 || !strings.Contains(out, "--- PASS: TestParseMajor") {
		t.Fatalf("a test that needs no server, with no server programs: exit %d, want 0:\n%s", code, out)
	}
	if strings.Contains(out, "cannot start") || strings.Contains(out, "initdb") {
		t.Errorf("the child tried to start a server:\n%s", out)
	}
}

// A test that asks for a server when none can be started fails with the
// reason and the fix; it is never skipped.
func TestMissingServerFailsTheTest(t *testing.T) {
	bogus := filepath.Join(t.TempDir(), "no-postgres-here")
	code, out := runSelf(t, "^TestDSNWorksWithPgxAndPq$", pgtest.EnvPGBin+"="+bogus)
	if code == 0 {
		t.Fatalf("a test that needs a server passed without one:\n%s", out)
	}
	for _, want := range []string{"--- FAIL: TestDSNWorksWithPgxAndPq", "cannot start a PostgreSQL server",
		pgtest.EnvPGBin + "=" + bogus, "make test", pgtest.EnvDSN} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not mention %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "--- SKIP") {
		t.Errorf("a test was skipped for want of a server:\n%s", out)
	}
}

// The first test that asks starts the server; Main stops it and removes
// its directory before the binary exits.
func TestServerStartsOnFirstUseAndStopsAtExit(t *testing.T) {
	code, out := runSelf(t, "^TestCurrentIsTheServerOfDSN$", reportServerEnv+"=1")
	if code != 0 {
		t.Fatalf("child exit %d:\n%s", code, out)
	}
	var dir string
	var port int
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "pgtest-server "); ok {
			if _, err := fmt.Sscanf(rest, "%s %d", &dir, &port); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
		}
	}
	if dir == "" {
		t.Fatalf("the child reported no server:\n%s", out)
	}
	// Checked at once: the watchdog would take a second or more to notice
	// the binary has gone, so a leftover here means Main did not stop it.
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("server directory %s still there after the test binary exited (stat: %v)", dir, err)
	}
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		c.Close()
		t.Errorf("port %d still accepts connections after the test binary exited", port)
	}
}

func TestCurrentIsTheServerOfDSN(t *testing.T) {
	srv := pgtest.Current()
	if srv == nil {
		if os.Getenv(pgtest.EnvDSN) == "" {
			t.Fatal("Current() = nil without " + pgtest.EnvDSN)
		}
		if pgtest.DSN(t) != os.Getenv(pgtest.EnvDSN) {
			t.Errorf("DSN() = %q, want %s", pgtest.DSN(t), pgtest.EnvDSN)
		}
		return
	}
	if again := pgtest.Current(); again != srv {
		t.Error("a second Current() returned another server")
	}
	if dsn := pgtest.DSN(t); dsn != srv.DSN() {
		t.Errorf("DSN() = %s, Current().DSN() = %s", dsn, srv.DSN())
	}
	if os.Getenv(reportServerEnv) == "1" {
		fmt.Printf("pgtest-server %s %d\n", filepath.Dir(srv.LogPath()), srv.Port())
	}
}
