package pgtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// User is the superuser of every server started by [Start].
const User = "tenantpath"

// startTimeout bounds how long pg_ctl waits for the server to accept
// connections after a start or restart.
const startTimeout = 60 * time.Second

// Options configure [Start]. The zero value is ready to use.
type Options struct {
	// Logf, if set, receives progress messages. If nil, Start is silent.
	Logf func(format string, args ...any)
	// Settings are extra postgresql.conf settings (name to value). They are
	// applied after, and so override, the defaults chosen by Start.
	Settings map[string]string
}

// Server is an ephemeral PostgreSQL server in a private temporary
// directory. Its methods are safe for concurrent use.
type Server struct {
	tools   *pgTools
	acct    *account // nil: run as the current user
	dir     string   // private temp dir; removed by Stop
	dataDir string
	sockDir string
	logPath string
	port    int
	logf    func(string, ...any)

	mu      sync.Mutex
	stopped bool
	stopDog func() // stops the watchdog; nil before it started
}

// Start initialises a fresh data directory and starts a server on a free
// 127.0.0.1 port (and on a unix socket in its private directory). Its only
// role is the superuser [User], authenticated by trust. It returns once the
// server accepts connections. The caller must call [Server.Stop].
func Start(opts Options) (*Server, error) {
	started := time.Now()
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	tools, err := findPGTools()
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	dir, err := makeTempDir("tenantpath-pg-", acct)
	if err != nil {
		return nil, err
	}
	s := &Server{
		tools:   tools,
		acct:    acct,
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		sockDir: filepath.Join(dir, "sock"),
		logPath: filepath.Join(dir, "postgres.log"),
		logf:    logf,
	}
	if err := s.start(opts.Settings); err != nil {
		s.teardown()
		return nil, err
	}
	logf("pgtest: PostgreSQL (%s) ready on 127.0.0.1:%d in %v", tools.binDir, s.port, time.Since(started).Round(time.Millisecond))
	return s, nil
}

func (s *Server) start(settings map[string]string) error {
	if err := os.Mkdir(s.sockDir, 0o700); err != nil {
		return err
	}
	if err := s.chown(s.sockDir); err != nil {
		return err
	}
	who := "the current user"
	if s.acct != nil {
		who = "user " + s.acct.name
	}
	s.logf("pgtest: initdb %s as %s", s.dataDir, who)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := runCombined(command(ctx, s.acct, s.dir, s.tools.initdb,
		"-D", s.dataDir, "-A", "trust", "-U", User, "-E", "UTF8", "--no-locale", "--no-sync"))
	if err != nil {
		return fmt.Errorf("initdb failed: %w", err)
	}
	if err := s.appendConf(s.baseSettings(settings)); err != nil {
		return err
	}
	// A free port can be taken by someone else (another test binary) before
	// the server binds it; then pick another.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.port = port
		if err := s.appendConf([][2]string{{"port", strconv.Itoa(port)}}); err != nil {
			return err
		}
		lastErr = s.pgCtl("start", "-l", s.logPath)
		if lastErr == nil {
			break
		}
		if !strings.Contains(tail(s.logPath, 20), "could not bind") &&
			!strings.Contains(tail(s.logPath, 20), "already in use") {
			return s.withLog(fmt.Errorf("PostgreSQL did not start: %w", lastErr))
		}
		s.logf("pgtest: port %d taken, retrying", port)
	}
	if lastErr != nil {
		return s.withLog(fmt.Errorf("PostgreSQL did not start: %w", lastErr))
	}
	dog, err := startWatchdog(s.dir, filepath.Join(s.dataDir, "postmaster.pid"), "QUIT")
	if err != nil {
		return err
	}
	s.stopDog = func() { stopWatchdog(dog) }
	return s.ping()
}

// baseSettings returns the settings written to postgresql.conf: fast and
// unsafe durability (the data is thrown away), room for many connections
// and many schemas per transaction, pg_stat_statements when installed, then
// the caller's settings in name order.
func (s *Server) baseSettings(extra map[string]string) [][2]string {
	set := [][2]string{
		{"listen_addresses", "127.0.0.1"},
		{"unix_socket_directories", s.socketDirSetting()},
		{"fsync", "off"},
		{"synchronous_commit", "off"},
		{"full_page_writes", "off"},
		{"max_connections", "300"},
		{"max_locks_per_transaction", "512"},
		{"shared_buffers", "128MB"},
		{"logging_collector", "off"},
		{"log_min_messages", "warning"},
	}
	if s.tools.libDir != "" && fileExists(filepath.Join(s.tools.libDir, "pg_stat_statements.so")) {
		set = append(set,
			[2]string{"shared_preload_libraries", "pg_stat_statements"},
			[2]string{"pg_stat_statements.track", "all"})
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		set = append(set, [2]string{k, extra[k]})
	}
	return set
}

// socketDirSetting returns the private socket directory, or "" (no unix
// socket) when the socket path would exceed the 107 bytes Linux allows.
func (s *Server) socketDirSetting() string {
	if len(s.sockDir)+len("/.s.PGSQL.65535") > 107 {
		return ""
	}
	return s.sockDir
}

// appendConf appends settings to postgresql.conf; later lines win.
func (s *Server) appendConf(settings [][2]string) error {
	f, err := os.OpenFile(filepath.Join(s.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\n# pgtest\n")
	for _, kv := range settings {
		fmt.Fprintf(&b, "%s = '%s'\n", kv[0], strings.ReplaceAll(kv[1], "'", "''"))
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pgCtl runs pg_ctl action on the data directory and waits for it.
func (s *Server) pgCtl(action string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout+30*time.Second)
	defer cancel()
	all := append([]string{action, "-D", s.dataDir, "-w", "-t", strconv.Itoa(int(startTimeout / time.Second))}, args...)
	_, err := runCombined(command(ctx, s.acct, s.dir, s.tools.pgCtl, all...))
	return err
}

// ping connects once to check the server answers queries.
func (s *Server) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var lastErr error
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, s.DSN())
		if err == nil {
			var one int
			err = conn.QueryRow(ctx, "SELECT 1").Scan(&one)
			conn.Close(context.Background())
			if err == nil {
				return nil
			}
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	return s.withLog(fmt.Errorf("PostgreSQL on port %d does not answer: %w", s.port, lastErr))
}

// DSN returns the server's URL DSN, for example
// postgres://tenantpath@127.0.0.1:54321/postgres?sslmode=disable. It works
// with pgx and lib/pq alike.
func (s *Server) DSN() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(User),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// LogPath returns the path of the server log, which Stop removes.
func (s *Server) LogPath() string { return s.logPath }

// Restart restarts the server (pg_ctl restart -m fast) on the same port,
// closing every connection, and returns once it accepts connections again.
// Restarting a stopped server is an error.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("pgtest: restart of a stopped server")
	}
	if err := s.pgCtl("restart", "-m", "fast", "-l", s.logPath); err != nil {
		return s.withLog(fmt.Errorf("pgtest: restart failed: %w", err))
	}
	return s.ping()
}

// Stop stops the server (fast shutdown, falling back to immediate and then
// to SIGKILL) and removes its directory. Calling it again does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	return s.teardown()
}

func (s *Server) teardown() error {
	var errs []error
	if fileExists(filepath.Join(s.dataDir, "postmaster.pid")) {
		if err := s.pgCtl("stop", "-m", "fast"); err != nil {
			if err2 := s.pgCtl("stop", "-m", "immediate"); err2 != nil {
				s.killPostmaster()
				errs = append(errs, fmt.Errorf("pgtest: stop: %w", err))
			}
		}
	}
	if s.stopDog != nil {
		s.stopDog()
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Server) killPostmaster() {
	b, err := os.ReadFile(filepath.Join(s.dataDir, "postmaster.pid"))
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (s *Server) chown(path string) error {
	if s.acct == nil {
		return nil
	}
	return os.Chown(path, int(s.acct.uid), int(s.acct.gid))
}

// withLog adds the tail of the server log to err.
func (s *Server) withLog(err error) error {
	return fmt.Errorf("%w\nlast lines of %s:\n%s", err, s.logPath, indent(tail(s.logPath, 30)))
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
