package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// StartPgBouncer starts PgBouncer in front of this test binary's server and
// returns the URL DSN that reaches the server through it. mode is the
// pool_mode, "session" or "transaction". Clients are trusted; each
// database/user pair gets a pool of poolSize server connections (4 when
// poolSize <= 0). PgBouncer listens on a free 127.0.0.1 port and is stopped
// by a t.Cleanup.
//
// Of the startup parameters pgx and lib/pq may send, PgBouncer itself
// handles client_encoding, datestyle, timezone and application_name;
// extra_float_digits is ignored. Parameters given in the DSN beyond those
// (search_path, options, ...) are refused by PgBouncer.
//
// In transaction mode, named prepared statements do not survive between
// transactions (PgBouncer before 1.21 does not track them), so pgx must not
// cache statements: add default_query_exec_mode=exec (or simple_protocol)
// to the DSN it is given. lib/pq prepares the unnamed statement and binds
// it in two separate round trips, which the pooler may send to two server
// connections ("unnamed prepared statement does not exist"): add
// binary_parameters=yes, which sends both in one.
//
// StartPgBouncer fails t if PgBouncer is not installed (`make test`
// installs it) or does not start.
func StartPgBouncer(t testing.TB, mode string, poolSize int) string {
	t.Helper()
	if mode != "session" && mode != "transaction" {
		t.Fatalf("pgtest: StartPgBouncer: pool mode %q, want session or transaction", mode)
	}
	if poolSize <= 0 {
		poolSize = 4
	}
	dsn := DSN(t)
	bin, err := findPgBouncer()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("pgtest: StartPgBouncer: parse DSN: %v", err)
	}
	b, err := startPgBouncer(bin, cfg, mode, poolSize)
	if err != nil {
		t.Fatalf("pgtest: StartPgBouncer: %v", err)
	}
	t.Cleanup(b.stop)
	database := "postgres"
	if cfg.Database != "" {
		database = cfg.Database
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(cfg.User),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

type pgBouncer struct {
	dir     string
	logPath string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	stopDog func()
}

func startPgBouncer(bin string, cfg *pgconn.Config, mode string, poolSize int) (*pgBouncer, error) {
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	dir, err := makeTempDir("tenantpath-pgbouncer-", acct)
	if err != nil {
		return nil, err
	}
	b := &pgBouncer{dir: dir, logPath: filepath.Join(dir, "pgbouncer.log")}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if b.port, err = freePort(); err != nil {
			break
		}
		if lastErr = b.start(bin, acct, cfg, mode, poolSize); lastErr == nil {
			return b, nil
		}
		if !strings.Contains(tail(b.logPath, 10), "in use") {
			break
		}
	}
	os.RemoveAll(dir)
	if lastErr == nil {
		lastErr = err
	}
	return nil, lastErr
}

func (b *pgBouncer) start(bin string, acct *account, cfg *pgconn.Config, mode string, poolSize int) error {
	server := fmt.Sprintf("host=%s port=%d", cfg.Host, cfg.Port)
	if cfg.Password != "" {
		// The server wants a password: connect as the DSN's user with it.
		server += fmt.Sprintf(" user=%s password=%s", cfg.User, cfg.Password)
	}
	ini := fmt.Sprintf(`[databases]
* = %s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = %s
default_pool_size = %d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
server_login_retry = 1
pidfile = %s
logfile = %s
log_connections = 0
log_disconnections = 0
`, server, b.port, filepath.Join(b.dir, "userlist.txt"), mode, poolSize,
		filepath.Join(b.dir, "pgbouncer.pid"), b.logPath)
	users := fmt.Sprintf("%q \"\"\n", cfg.User)
	iniPath := filepath.Join(b.dir, "pgbouncer.ini")
	for path, content := range map[string]string{iniPath: ini, filepath.Join(b.dir, "userlist.txt"): users} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
		if acct != nil {
			if err := os.Chown(path, int(acct.uid), int(acct.gid)); err != nil {
				return err
			}
		}
	}
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	if acct != nil {
		if err := os.Chown(b.logPath, int(acct.uid), int(acct.gid)); err != nil {
			return err
		}
	}
	cmd := command(context.Background(), acct, b.dir, bin, iniPath)
	// Files, not pipes: nothing left running may hold the test's output.
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	b.cmd = cmd
	b.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(b.exited)
	}()
	if dog, err := startWatchdog(b.dir, strconv.Itoa(cmd.Process.Pid), "TERM"); err == nil {
		b.stopDog = func() { stopWatchdog(dog) }
	} else {
		b.kill()
		return err
	}
	if err := b.waitReady(10 * time.Second); err != nil {
		b.kill()
		b.stopDog()
		return fmt.Errorf("%w\nlast lines of %s:\n%s", err, b.logPath, indent(tail(b.logPath, 20)))
	}
	return nil
}

// waitReady waits until PgBouncer accepts TCP connections.
func (b *pgBouncer) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port))
	for {
		select {
		case <-b.exited:
			return errors.New("pgbouncer exited during startup")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgbouncer not listening on %s after %v: %w", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops PgBouncer: SIGTERM, and SIGKILL if it is still running two
// seconds later (newer PgBouncer versions wait for clients on SIGTERM).
func (b *pgBouncer) kill() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
		return
	case <-time.After(2 * time.Second):
	}
	_ = b.cmd.Process.Kill()
	<-b.exited
}

func (b *pgBouncer) stop() {
	b.kill()
	if b.stopDog != nil {
		b.stopDog()
	}
	os.RemoveAll(b.dir)
}
