package migrator

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"time"
)

// cleanupTimeout bounds the unlock-and-reset that ends every session. It
// runs with context.WithoutCancel, so a cancelled run still gives its lock
// back; the timeout only guards against a dead network.
const cleanupTimeout = 30 * time.Second

// session is one pinned connection used for schema runs: a single run
// (MigrateTenant, MigrateShared) or all the runs of one worker of
// MigrateTenants. After a run the connection still holds that schema's
// advisory lock and search_path (held); the next run's lock statement
// releases the lock in the same round trip, and release ends it all. So a
// worker pays one round trip per tenant less than lock-run-unlock would,
// while no connection ever goes back to the pool with a lock or a tenant
// path.
//
// Every statement of a session is sent with a context carrying
// tenantpath.WithBasePath (the runs derive theirs from the caller's so): on
// a pool opened through tenantpath the driver then resets a connection left
// on a tenant's path before the first statement and leaves the path the
// session sets alone, so each statement lands in the schema the session
// chose, whatever scope the caller's context named.
type session struct {
	conn   *sql.Conn
	held   string // key text of the lock the connection holds, or ""
	runs   int    // schema runs started on conn
	shared bool   // the session takes its locks in shared mode (work, not migrations)
}

// newSession pins a connection for migration runs (exclusive locks).
func (m *Migrator) newSession(ctx context.Context) (*session, error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &session{conn: conn}, nil
}

// newSharedSession pins a connection for work across tenants (shared
// locks).
func (m *Migrator) newSharedSession(ctx context.Context) (*session, error) {
	s, err := m.newSession(ctx)
	if s != nil {
		s.shared = true
	}
	return s, err
}

// lockStatement takes $1's lock and, once it is held, sets search_path to
// $2 and reports whether schema $3 and table $4 exist; with release it
// gives back the lock of $5 in the same statement. (The two locks have
// different keys, so the order in which the server evaluates them does not
// matter.)
func lockStatement(release bool) string {
	return `SELECT l, CASE WHEN l THEN set_config('search_path', $2, false) END,
	        EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $3),
	        to_regclass($4) IS NOT NULL
	   FROM ` + sessionTryLock(release, false, 5)
}

// lock takes the advisory lock of t's schema, releasing the one the session
// still holds from its previous run in the same statement, sets
// search_path to t's and reports whether the schema and its version table
// (named table) exist. It records what the session holds: t's schema once
// the lock is taken, nothing after an error or while waiting.
func (s *session) lock(ctx context.Context, t target, table string) (exists, hasTable bool, err error) {
	err = s.acquire(ctx, lockKey(t.schema), func() (bool, error) {
		args := []any{lockKey(t.schema), t.path, t.schema, table}
		if s.held != "" {
			args = append(args, s.held)
		}
		var locked bool
		var path sql.NullString
		err := s.conn.QueryRowContext(ctx, lockStatement(s.held != ""), args...).Scan(&locked, &path, &exists, &hasTable)
		return locked, err
	})
	return exists, hasTable, err
}

// take takes the lock whose key text is key, in the session's mode,
// releasing the session's previous lock in the same statement. It sets no
// path: work across tenants sets its path inside its own transaction,
// after the lock is held, so that transaction's snapshot sees any drop or
// rename that committed before.
func (s *session) take(ctx context.Context, key string) error {
	return s.acquire(ctx, key, func() (bool, error) {
		args := []any{key}
		if s.held != "" {
			args = append(args, s.held)
		}
		var locked bool
		err := s.conn.QueryRowContext(ctx, "SELECT l FROM "+sessionTryLock(s.held != "", s.shared, 2), args...).Scan(&locked)
		return locked, err
	})
}

// acquire runs try, one statement that gives back the session's previous
// lock and tries to take key's, until the lock is taken, recording what
// the session holds. It waits for a lock held elsewhere by polling (5 ms,
// doubling up to 250 ms) rather than blocking in pg_advisory_lock: a run
// cancelled while waiting then leaves no server session queued for the
// lock, which would otherwise take it after the client has gone and hold it
// until it noticed.
func (s *session) acquire(ctx context.Context, key string, try func() (bool, error)) error {
	wait := 5 * time.Millisecond
	for {
		locked, err := try()
		if err != nil {
			return err
		}
		s.held = ""
		if locked {
			s.held = key
			return nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}

// resetPath sets search_path back to the session's own default
// (pg_settings.reset_val honours a search_path given in the connection
// string or set on the role).
const resetPath = `set_config('search_path', (SELECT reset_val FROM pg_catalog.pg_settings WHERE name = 'search_path'), false)`

// release gives the session's lock back, resets search_path and returns the
// connection to the pool; if that fails the connection is discarded
// (closed, never reused), which ends its server session and so releases
// any lock. It runs with a context cancellation cannot interrupt.
func (s *session) release(ctx context.Context) {
	if s.conn == nil {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var err error
	if s.held != "" {
		_, err = s.conn.ExecContext(cctx, "SELECT "+sessionUnlock(s.shared)+", "+resetPath, s.held)
	} else {
		_, err = s.conn.ExecContext(cctx, "SELECT "+resetPath)
	}
	if err != nil {
		s.broken()
		return
	}
	s.conn.Close()
	s.conn, s.held = nil, ""
}

// broken discards the session's connection after an error that leaves it
// in doubt.
func (s *session) broken() {
	discard(s.conn)
	s.conn, s.held = nil, ""
}

// discard closes a pinned connection instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// lostConnection reports whether err says the connection was gone before
// the statement was sent (as pgx and lib/pq report a connection closed by a
// previous failure), so the statement can safely be tried on another one.
func lostConnection(err error) bool {
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)
}
