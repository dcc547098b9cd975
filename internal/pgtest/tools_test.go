package pgtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// isolateTools points every place findPGTools looks at empty temporary
// directories and clears the variables that choose a server, so that the
// test sees only what it creates. It returns the Debian root and the first
// install root.
func isolateTools(t *testing.T) (debian, install string) {
	t.Helper()
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvPGBin, "")
	t.Setenv(EnvPGVersion, "")
	oldDebian, oldRoots := debianPGRoot, installRoots
	debian, install = t.TempDir(), t.TempDir()
	other := t.TempDir()
	debianPGRoot = debian
	installRoots = func() []string { return []string{install, other} }
	t.Cleanup(func() { debianPGRoot, installRoots = oldDebian, oldRoots })
	return debian, install
}

func TestFindPGToolsNotInstalled(t *testing.T) {
	debian, _ := isolateTools(t)
	_, err := findPGTools()
	if err == nil {
		t.Fatal("findPGTools found programs in empty directories")
	}
	for _, want := range []string{"initdb on PATH", debian + "/<version>/bin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	msg := startFailure(err)
	for _, want := range []string{"make test", EnvDSN, EnvPGBin, EnvPGVersion, err.Error()} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message does not mention %q:\n%s", want, msg)
		}
	}
}

func TestFindPGToolsPicksHighestVersion(t *testing.T) {
	debian, install := isolateTools(t)
	for _, v := range []string{"9.6", "15", "16", "notaversion"} {
		writeFakeTools(t, filepath.Join(debian, v, "bin"), v)
	}
	// What scripts/install-pg18.sh installs is used only when asked for.
	writeFakeTools(t, filepath.Join(install, "18", "bin"), "18.4")
	tools, err := findPGTools()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(debian, "16", "bin"); tools.binDir != want {
		t.Errorf("binDir = %s, want %s", tools.binDir, want)
	}
}

func TestFindPGToolsByVersion(t *testing.T) {
	debian, install := isolateTools(t)
	writeFakeTools(t, filepath.Join(debian, "15", "bin"), "15.18 (Debian 15.18-0+deb12u1)")
	writeFakeTools(t, filepath.Join(debian, "16", "bin"), "16.1")
	writeFakeTools(t, filepath.Join(install, "18", "bin"), "18.4")
	for v, want := range map[string]string{
		"15": filepath.Join(debian, "15", "bin"),
		"18": filepath.Join(install, "18", "bin"),
	} {
		t.Setenv(EnvPGVersion, v)
		tools, err := findPGTools()
		if err != nil {
			t.Fatalf("%s=%s: %v", EnvPGVersion, v, err)
		}
		if tools.binDir != want {
			t.Errorf("%s=%s: binDir = %s, want %s", EnvPGVersion, v, tools.binDir, want)
		}
	}
	// The npm layout keeps the contrib modules in lib/postgresql.
	t.Setenv(EnvPGVersion, "18")
	if err := os.MkdirAll(filepath.Join(install, "18", "lib", "postgresql"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(install, "18", "lib", "postgresql", "plpgsql.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if tools, err := findPGTools(); err != nil || tools.libDir != filepath.Join(install, "18", "lib", "postgresql") {
		t.Errorf("libDir of the installed 18 = %v (%v), want its lib/postgresql", tools, err)
	}
}

func TestFindPGToolsRefusesWrongOrMissingVersion(t *testing.T) {
	debian, install := isolateTools(t)
	// A directory named 17 whose server says it is 16 is not PostgreSQL 17.
	writeFakeTools(t, filepath.Join(debian, "17", "bin"), "16.2")
	for v, wants := range map[string][]string{
		"17":   {"version 16", EnvPGVersion + "=17"},
		"18":   {filepath.Join(install, "18", "bin"), "install-pg18.sh"},
		"18.4": {"want a major version"},
		"x":    {"want a major version"},
		"018":  {"want a major version"},
	} {
		t.Setenv(EnvPGVersion, v)
		tools, err := findPGTools()
		if err == nil {
			t.Errorf("%s=%s: found %s", EnvPGVersion, v, tools.binDir)
			continue
		}
		for _, want := range wants {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s=%s: error %q does not mention %q", EnvPGVersion, v, err, want)
			}
		}
	}
}

func TestFindPGToolsBinDir(t *testing.T) {
	debian, _ := isolateTools(t)
	writeFakeTools(t, filepath.Join(debian, "15", "bin"), "15.18")
	dir := filepath.Join(t.TempDir(), "custom", "bin")
	writeFakeTools(t, dir, "18.4")
	// TENANTPATH_PG_BIN wins over TENANTPATH_PG_VERSION.
	t.Setenv(EnvPGVersion, "15")
	t.Setenv(EnvPGBin, dir)
	tools, err := findPGTools()
	if err != nil || tools.binDir != dir {
		t.Fatalf("%s=%s: got %v, %v", EnvPGBin, dir, tools, err)
	}
	missing := filepath.Join(t.TempDir(), "nothing")
	t.Setenv(EnvPGBin, missing)
	if _, err := findPGTools(); err == nil || !strings.Contains(err.Error(), EnvPGBin+"="+missing) {
		t.Errorf("%s=%s: error %v, want one naming the variable", EnvPGBin, missing, err)
	}
}

func TestParseMajor(t *testing.T) {
	for in, want := range map[string]int{
		"postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n": 15,
		"postgres (PostgreSQL) 18.4\n":                           18,
		"postgres (PostgreSQL) 18beta1\n":                        18,
		"postgres (PostgreSQL) 9.6.24\n":                         9,
	} {
		if got, err := parseMajor(in); err != nil || got != want {
			t.Errorf("parseMajor(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "postgres (PostgreSQL) ", "something else 18.4"} {
		if got, err := parseMajor(in); err == nil {
			t.Errorf("parseMajor(%q) = %d, want an error", in, got)
		}
	}
}

// writeFakeTools writes initdb, pg_ctl and postgres scripts into dir; the
// fake postgres answers --version with version.
func writeFakeTools(t *testing.T, dir, version string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		script := "#!/bin/sh\nexit 1\n"
		if name == "postgres" {
			script = "#!/bin/sh\necho 'postgres (PostgreSQL) " + version + "'\n"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
