package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestCLI builds the command once and runs each behaviour through the
// binary, as a deployment runs it, against the test server.
func TestCLI(t *testing.T) {
	bin := buildCLI(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, string)
	}{
		{"HelpAndVersion", testHelpAndVersion},
		{"UsageErrors", testUsageErrors},
		{"MissingFolders", testMissingFolders},
		{"ConfigPrecedence", testConfigPrecedence},
		{"ConfigFile", testConfigFile},
		{"LifecycleAndMigrate", testLifecycleAndMigrate},
		{"SharedFailureExitCode", testSharedFailureExitCode},
		{"TenantsQuery", testTenantsQuery},
		{"RollbackTenantsNeedsYes", testRollbackTenantsNeedsYes},
		{"StatusCheckAndJSON", testStatusCheckAndJSON},
		{"DryRun", testDryRun},
		{"NewMigration", testNewMigration},
		{"FailureOutput", testFailureOutput},
		{"ProgressForced", testProgressForced},
		{"NamingMismatch", testNamingMismatch},
		{"UnknownTenants", testUnknownTenants},
		{"NoTenantsFound", testNoTenantsFound},
		{"Verbose", testVerbose},
		{"Exec", testExec},
		{"Spares", testSparesCLI},
		{"ExportImport", testExportImportCLI},
		{"Move", testMoveCLI},
		{"CheckShadowed", testCheckShadowed},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, bin) })
	}
}

// buildCLI builds the command into the test's temporary folder with the go
// tool that runs the tests.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tenantpath")
	out, err := exec.Command(goTool(t), "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// goTool is the go command of the toolchain running the tests.
func goTool(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("no go tool to build the command with")
	}
	return p
}

// cli runs the built command with its own schema prefix and shared schema
// so tests never collide.
type cli struct {
	t      *testing.T
	bin    string
	dir    string
	dsn    string
	prefix string
	db     *sql.DB
	env    []string // added to the command's environment
}

func newCLI(t *testing.T, bin string) *cli {
	t.Helper()
	c := &cli{t: t, bin: bin, dir: t.TempDir(), dsn: pgtest.DSN(t), prefix: pgtest.UniquePrefix(t)}
	db, err := sql.Open("pgx", c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.db = db
	c.write("migrations/0001_orgs.sql", "-- +goose Up\nCREATE TABLE organisations (id text PRIMARY KEY);\n-- +goose Down\nDROP TABLE organisations;\n")
	c.write("tenant_migrations/0001_users.up.sql", "CREATE TABLE users (id serial PRIMARY KEY, email text);\n")
	c.write("tenant_migrations/0001_users.down.sql", "DROP TABLE users;\n")
	return c
}

func (c *cli) write(name, data string) {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cli) exec(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runBinary(t, c.bin, append([]string{"DATABASE_URL=" + c.dsn}, c.env...), args...)
}

// run runs the command with the test's folder and naming flags; the
// database comes from DATABASE_URL, as a deployment would pass it.
func (c *cli) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	full := append([]string{"--dir", c.dir, "--prefix", c.prefix, "--shared-schemas", c.prefix + "shared,public"}, args...)
	return c.exec(c.t, full...)
}

func (c *cli) mustRun(want int, args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(args...)
	if code != want {
		c.t.Fatalf("tenantpath %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out
}

// runBinary runs bin with only PATH and env in its environment, so the
// test's own TENANTPATH_* or DATABASE_URL never leak in.
func runBinary(t *testing.T, bin string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", bin, err)
	}
	if s := errb.String(); strings.Contains(s, "tenantpath: tenantpath:") || strings.Contains(out.String(), "tenantpath: tenantpath:") {
		t.Errorf("doubled prefix in the output of %q:\n%s%s", args, out.String(), s)
	}
	return code, out.String(), errb.String()
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, s)
	}
	return v
}

// versionRows reads every version table of the given schemas, as
// "schema:version" lines, to prove a command changed nothing.
func (c *cli) versionRows(schemas ...string) []string {
	c.t.Helper()
	var out []string
	for _, s := range schemas {
		rows, err := c.db.Query("SELECT version FROM " + tenantpath.QuoteIdentifier(s) + ".tenantpath_migrations ORDER BY version")
		if err != nil {
			out = append(out, s+": "+err.Error())
			continue
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				c.t.Fatal(err)
			}
			out = append(out, s+":"+v)
		}
		rows.Close()
	}
	return out
}
