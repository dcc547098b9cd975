package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// pgTools holds the paths of the PostgreSQL server programs of one version.
type pgTools struct {
	binDir   string
	initdb   string
	pgCtl    string
	postgres string
	libDir   string // directory holding extension libraries; "" if unknown
}

// debianPGRoot is where Debian and Ubuntu install each PostgreSQL version.
// A variable so that tests can point it elsewhere.
var debianPGRoot = "/usr/lib/postgresql"

// installRoots returns the directories where scripts/install-pg18.sh puts a
// PostgreSQL version that the distribution lacks, as <root>/<major>: the
// system-wide one it uses as root, then the current user's cache. A
// variable so that tests can point it elsewhere.
var installRoots = func() []string {
	roots := []string{"/opt/tenantpath/postgresql"}
	if d, err := os.UserCacheDir(); err == nil {
		roots = append(roots, filepath.Join(d, "tenantpath", "postgresql"))
	}
	return roots
}

// findPGTools finds the server programs to start, as chosen by the
// environment: the directory in TENANTPATH_PG_BIN, else the major version
// in TENANTPATH_PG_VERSION, else the default (see findDefaultPGTools).
func findPGTools() (*pgTools, error) {
	if dir := os.Getenv(EnvPGBin); dir != "" {
		t, err := toolsIn(dir)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvPGBin, dir, err)
		}
		return t, nil
	}
	if v := os.Getenv(EnvPGVersion); v != "" {
		return findPGVersion(v)
	}
	return findDefaultPGTools()
}

// findPGVersion finds the programs of one major version: Debian's
// /usr/lib/postgresql/<major>/bin, then <root>/<major>/bin for each of
// installRoots. It checks what `postgres --version` says, so a directory
// holding another version is never used by mistake.
func findPGVersion(v string) (*pgTools, error) {
	major, err := strconv.Atoi(v)
	if err != nil || major <= 0 || strconv.Itoa(major) != v {
		return nil, fmt.Errorf("%s=%q: want a major version such as 15 or 18", EnvPGVersion, v)
	}
	dirs := []string{filepath.Join(debianPGRoot, v, "bin")}
	for _, root := range installRoots() {
		dirs = append(dirs, filepath.Join(root, v, "bin"))
	}
	var looked []string
	for _, d := range dirs {
		t, err := toolsIn(d)
		if err != nil {
			looked = append(looked, d+"/{initdb,pg_ctl,postgres}")
			continue
		}
		got, err := programMajor(t.postgres)
		if err != nil {
			looked = append(looked, fmt.Sprintf("%s (%v)", t.postgres, err))
			continue
		}
		if got != major {
			looked = append(looked, fmt.Sprintf("%s (version %d)", t.postgres, got))
			continue
		}
		return t, nil
	}
	hint := ""
	if major == 18 {
		hint = "; scripts/install-pg18.sh installs it (`make test` runs it)"
	}
	return nil, fmt.Errorf("%s=%s: PostgreSQL %d server programs not found (looked for %s)%s",
		EnvPGVersion, v, major, strings.Join(looked, ", "), hint)
}

// findDefaultPGTools finds initdb, pg_ctl and postgres: first through
// initdb on PATH (following symlinks, since Debian-style installs link into
// the versioned directory), then in the highest version under
// /usr/lib/postgresql.
func findDefaultPGTools() (*pgTools, error) {
	var looked []string
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		looked = append(looked, p)
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	} else {
		looked = append(looked, "initdb on PATH")
	}
	versioned := debianVersionDirs()
	for _, v := range versioned {
		dirs = append(dirs, filepath.Join(v, "bin"))
	}
	if len(versioned) == 0 {
		looked = append(looked, debianPGRoot+"/<version>/bin")
	}
	for _, d := range dirs {
		t, err := toolsIn(d)
		if err != nil {
			looked = append(looked, d+"/{initdb,pg_ctl,postgres}")
			continue
		}
		return t, nil
	}
	return nil, fmt.Errorf("PostgreSQL server programs not found (looked for %s)", strings.Join(dedupe(looked), ", "))
}

// toolsIn returns the programs in the bin directory d, or an error if one
// of initdb, pg_ctl and postgres is missing there.
func toolsIn(d string) (*pgTools, error) {
	t := &pgTools{
		binDir:   d,
		initdb:   filepath.Join(d, "initdb"),
		pgCtl:    filepath.Join(d, "pg_ctl"),
		postgres: filepath.Join(d, "postgres"),
	}
	for _, p := range []string{t.initdb, t.pgCtl, t.postgres} {
		if !isExecutable(p) {
			return nil, fmt.Errorf("no executable %s", p)
		}
	}
	t.libDir = findLibDir(d)
	return t, nil
}

// programMajor returns the major version that `postgres --version` reports,
// e.g. 15 for "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" and
// 18 for "postgres (PostgreSQL) 18.4" or "... 18beta1".
func programMajor(postgres string) (int, error) {
	out, err := exec.Command(postgres, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", filepath.Base(postgres), err)
	}
	return parseMajor(string(out))
}

func parseMajor(version string) (int, error) {
	_, rest, ok := strings.Cut(version, "(PostgreSQL) ")
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, err := strconv.Atoi(rest[:end])
	if !ok || err != nil || n <= 0 {
		return 0, fmt.Errorf("unexpected version %q", strings.TrimSpace(version))
	}
	return n, nil
}

// debianVersionDirs returns /usr/lib/postgresql/<version>, highest first.
func debianVersionDirs() []string {
	entries, err := os.ReadDir(debianPGRoot)
	if err != nil {
		return nil
	}
	type ver struct {
		dir string
		n   float64
	}
	var vs []ver
	for _, e := range entries {
		n, err := strconv.ParseFloat(e.Name(), 64)
		if err != nil {
			continue
		}
		vs = append(vs, ver{filepath.Join(debianPGRoot, e.Name()), n})
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].n > vs[j].n })
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.dir
	}
	return out
}

// findLibDir returns the extension library directory of the PostgreSQL
// whose programs are in binDir: the versioned Debian lib directory beside
// it, lib/postgresql beside it (the layout of the PostgreSQL 18 that
// scripts/install-pg18.sh installs), or what its own pg_config reports.
func findLibDir(binDir string) string {
	lib := filepath.Join(filepath.Dir(binDir), "lib")
	for _, d := range []string{lib, filepath.Join(lib, "postgresql")} {
		if fileExists(filepath.Join(d, "postgres.so")) || fileExists(filepath.Join(d, "plpgsql.so")) {
			return d
		}
	}
	if pc := filepath.Join(binDir, "pg_config"); isExecutable(pc) {
		if out, err := exec.Command(pc, "--pkglibdir").Output(); err == nil {
			if d := strings.TrimSpace(string(out)); d != "" {
				return d
			}
		}
	}
	return ""
}

// findPgBouncer finds the pgbouncer program on PATH or in /usr/sbin.
func findPgBouncer() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"} {
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("pgbouncer not found on PATH or in /usr/sbin; run `make test` (scripts/install-deps.sh installs the Debian package pgbouncer)")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
