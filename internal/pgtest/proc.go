package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// account is the user the server programs run as. A nil *account means the
// current user, which is the case whenever the tests do not run as root.
type account struct {
	name string
	uid  uint32
	gid  uint32
}

// serverAccount returns nil when not running as root, and otherwise the
// unprivileged user to run initdb, postgres and pgbouncer as: postgres if it
// exists, else nobody.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return &account{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("running as root and neither the postgres nor the nobody user exists; PostgreSQL refuses to run as root")
}

// makeTempDir creates a private temporary directory owned by acct (when set)
// whose parents acct can traverse. It prefers os.TempDir and falls back to
// /tmp when a parent of os.TempDir is closed to acct.
func makeTempDir(prefix string, acct *account) (string, error) {
	bases := []string{os.TempDir()}
	if acct != nil && bases[0] != "/tmp" {
		bases = append(bases, "/tmp")
	}
	var lastErr error
	for _, base := range bases {
		if acct != nil {
			if err := checkTraversable(base, acct); err != nil {
				lastErr = err
				continue
			}
		}
		dir, err := os.MkdirTemp(base, prefix)
		if err != nil {
			lastErr = err
			continue
		}
		if acct != nil {
			if err := os.Chown(dir, int(acct.uid), int(acct.gid)); err != nil {
				os.RemoveAll(dir)
				return "", err
			}
		}
		return dir, nil
	}
	return "", fmt.Errorf("no temporary directory usable by the server: %w", lastErr)
}

// checkTraversable reports an error naming the first directory from dir up
// to / that acct cannot search.
func checkTraversable(dir string, acct *account) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok {
			perm := fi.Mode().Perm()
			var bit os.FileMode = 0o001
			switch {
			case st.Uid == acct.uid:
				bit = 0o100
			case st.Gid == acct.gid:
				bit = 0o010
			}
			if perm&bit == 0 {
				return fmt.Errorf("directory %s is not searchable by user %s (mode %v)", dir, acct.name, perm)
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// command builds a command that runs as acct in dir, with a clean
// environment: PG* variables of the caller (PGDATA, PGPORT, PGHOST, ...)
// would otherwise steer pg_ctl and friends.
func command(ctx context.Context, acct *account, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv(acct)
	if acct != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Credential: &syscall.Credential{Uid: acct.uid, Gid: acct.gid, NoSetGroups: true},
		}
	}
	return cmd
}

func cleanEnv(acct *account) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			continue
		}
		if acct != nil && (strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "USER=") || strings.HasPrefix(kv, "LOGNAME=")) {
			continue
		}
		env = append(env, kv)
	}
	if acct != nil {
		env = append(env, "HOME=/", "USER="+acct.name, "LOGNAME="+acct.name)
	}
	return append(env, "LC_ALL=C")
}

// runCombined runs cmd and returns its trimmed combined output; the error
// includes that output.
func runCombined(cmd *exec.Cmd) (string, error) {
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	out := strings.TrimSpace(buf.String())
	if err != nil {
		return out, fmt.Errorf("%s: %w\n%s", filepath.Base(cmd.Path), err, indent(out))
	}
	return out, nil
}

// watchdogScript waits for the test binary ($1) to go away, then signals
// the process whose pid is $3 (or the first line of the file $3) with $4,
// waits up to ten seconds for it, kills it, and removes the directory $2.
const watchdogScript = `parent=$1 dir=$2 pidsrc=$3 sig=$4
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
pid=$pidsrc
case $pidsrc in /*) pid=$(head -n 1 "$pidsrc" 2>/dev/null) ;; esac
if [ -n "$pid" ]; then
	kill -"$sig" "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
	kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$dir"
`

// startWatchdog starts a process that stops the server or pooler and
// removes dir should the test binary die without doing so (a panic in a
// test, a timeout, a kill). It runs in its own process group so that an
// interrupt sent to the test's process group leaves it to clean up. Call
// stopWatchdog after a normal shutdown.
func startWatchdog(dir, pidSource, signal string) (*exec.Cmd, error) {
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "pgtest-watchdog",
		strconv.Itoa(os.Getpid()), dir, pidSource, signal)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// No pipes: a leftover process holding the test's stdout would keep
	// `go test` waiting.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	return cmd, nil
}

func stopWatchdog(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// tail returns the last n lines of the file at path, or a note saying why
// it could not be read.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	if s == "" {
		return "    (no output)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
