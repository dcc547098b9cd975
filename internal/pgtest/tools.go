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

// findPGTools finds initdb, pg_ctl and postgres: first through initdb on
// PATH (following symlinks, since Debian-style installs link into the
// versioned directory), then in the highest version under /usr/lib/postgresql.
func findPGTools() (*pgTools, error) {
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
		t := &pgTools{
			binDir:   d,
			initdb:   filepath.Join(d, "initdb"),
			pgCtl:    filepath.Join(d, "pg_ctl"),
			postgres: filepath.Join(d, "postgres"),
		}
		if !isExecutable(t.initdb) || !isExecutable(t.pgCtl) || !isExecutable(t.postgres) {
			looked = append(looked, d+"/{initdb,pg_ctl,postgres}")
			continue
		}
		t.libDir = findLibDir(d)
		return t, nil
	}
	return nil, fmt.Errorf("PostgreSQL server programs not found (looked for %s)", strings.Join(dedupe(looked), ", "))
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
// it, or what its own pg_config reports.
func findLibDir(binDir string) string {
	sibling := filepath.Join(filepath.Dir(binDir), "lib")
	if fileExists(filepath.Join(sibling, "postgres.so")) || fileExists(filepath.Join(sibling, "plpgsql.so")) {
		return sibling
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
