package migrator

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tenantpath/tenantpath"
)

// appliedRow is one row of a version table.
type appliedRow struct {
	version  int64
	checksum string
}

// action runs inside one locked schema on a pinned connection. It receives
// the applied rows (already checked against the set) and returns the
// migrations it applied or rolled back.
type action func(ctx context.Context, conn *sql.Conn, t target, applied []appliedRow) ([]MigrationResult, error)

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
type session struct {
	conn *sql.Conn
	held string // schema whose lock the connection still holds, or ""
	runs int    // schema runs started on conn
}

// newSession pins a connection.
func (m *Migrator) newSession(ctx context.Context) (*session, error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &session{conn: conn}, nil
}

// release gives the session's lock back, resets search_path to the session
// default and returns the connection to the pool; if that fails the
// connection is discarded (closed, never reused), which ends its server
// session and so releases any lock. It runs with a context cancellation
// cannot interrupt.
func (s *session) release(ctx context.Context) {
	if s.conn == nil {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	const reset = `set_config('search_path', (SELECT reset_val FROM pg_catalog.pg_settings WHERE name = 'search_path'), false)`
	var err error
	if s.held != "" {
		_, err = s.conn.ExecContext(cctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0)), `+reset, lockKey(s.held))
	} else {
		_, err = s.conn.ExecContext(cctx, `SELECT `+reset)
	}
	if err != nil {
		discard(s.conn)
	} else {
		s.conn.Close()
	}
	s.conn, s.held = nil, ""
}

// lostConnection reports whether err says the connection was gone before
// the statement was sent (as pgx and lib/pq report a connection closed by a
// previous failure), so the statement can safely be tried on another one.
func lostConnection(err error) bool {
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)
}

// broken discards the session's connection after an error that leaves it
// in doubt.
func (s *session) broken() {
	discard(s.conn)
	s.conn, s.held = nil, ""
}

// runSchema runs act in schema t on the session's connection: it takes the
// schema's advisory lock and sets search_path (releasing the previous run's
// lock in the same statement), makes sure the version table exists (for an
// up run), reads and checks the applied versions and calls act. The lock and
// path stay on the session until the next run or release. If the lock
// statement fails, the connection is discarded and ok is false.
func (m *Migrator) runSchema(ctx context.Context, s *session, t target, create bool, act action) (res Result, ok bool) {
	start := time.Now()
	res = Result{Tenant: t.tenant, Schema: t.schema}
	defer func() { res.Duration = time.Since(start) }()

	s.runs++
	exists, hasTable, err := m.lockSchema(ctx, s, t)
	if err != nil {
		// The connection is in doubt (it may hold a lock, or be on a
		// tenant's path): discard it, which ends its session and so
		// releases any lock.
		s.broken()
		res.Err = fmt.Errorf("migrator: schema %q: locking: %w", t.schema, err)
		return res, false
	}
	s.held = t.schema
	conn := s.conn

	if !exists {
		if t.tenant != "" {
			res.Err = &tenantpath.UnknownTenantError{Tenant: t.tenant, Schema: t.schema}
			return res, true
		}
		if !create {
			return res, true
		}
		if _, err := conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+tenantpath.QuoteIdentifier(t.schema)); err != nil {
			res.Err = fmt.Errorf("migrator: creating shared schema %q: %w", t.schema, err)
			return res, true
		}
	}
	var applied []appliedRow
	if hasTable {
		applied, err = m.readApplied(ctx, conn, t.schema)
		if err != nil {
			res.Err = err
			return res, true
		}
	} else if create {
		if _, err := conn.ExecContext(ctx, m.createVersionTableSQL(t.schema)); err != nil {
			res.Err = fmt.Errorf("migrator: schema %q: creating version table: %w", t.schema, err)
			return res, true
		}
	}
	if len(applied) > 0 {
		res.From = applied[len(applied)-1].version
	}
	res.To = res.From
	if err := t.set.check(t.schema, applied); err != nil {
		res.Err = err
		return res, true
	}
	res.Applied, res.Err = act(ctx, conn, t, applied)
	if n := len(res.Applied); n > 0 {
		if res.Applied[n-1].Down {
			res.To = versionAfterDown(applied, res.Applied)
		} else {
			res.To = res.Applied[n-1].Version
		}
	}
	return res, true
}

// versionAfterDown is the newest version still applied after a rollback.
func versionAfterDown(applied []appliedRow, done []MigrationResult) int64 {
	gone := make(map[int64]bool, len(done))
	for _, d := range done {
		gone[d.Version] = true
	}
	for i := len(applied) - 1; i >= 0; i-- {
		if !gone[applied[i].version] {
			return applied[i].version
		}
	}
	return 0
}

// lockSchema takes t's advisory lock on the session's connection and, in
// the same statement, releases the lock the session still holds from its
// previous run, sets search_path and reports whether the schema and its
// version table exist. (The two locks are different keys, so the order in
// which the server evaluates them does not matter.)
//
// It waits for a lock held elsewhere by polling pg_try_advisory_lock (5 ms,
// doubling up to 250 ms) rather than blocking in pg_advisory_lock: a run
// cancelled while waiting then leaves no server session queued for the lock,
// which would otherwise take it after the client has gone and hold it until
// it noticed.
func (m *Migrator) lockSchema(ctx context.Context, s *session, t target) (exists, hasTable bool, err error) {
	const columns = `SELECT l, CASE WHEN l THEN set_config('search_path', $2, false) END,
	        EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $3),
	        to_regclass($4) IS NOT NULL`
	wait := 5 * time.Millisecond
	for {
		var locked bool
		var path sql.NullString
		var row *sql.Row
		if s.held != "" {
			row = s.conn.QueryRowContext(ctx, columns+`
			   FROM pg_advisory_unlock(hashtextextended($5, 0)) AS u,
			        pg_try_advisory_lock(hashtextextended($1, 0)) AS l`,
				lockKey(t.schema), t.path, t.schema, m.table(t.schema), lockKey(s.held))
		} else {
			row = s.conn.QueryRowContext(ctx, columns+`
			   FROM pg_try_advisory_lock(hashtextextended($1, 0)) AS l`,
				lockKey(t.schema), t.path, t.schema, m.table(t.schema))
		}
		if err := row.Scan(&locked, &path, &exists, &hasTable); err != nil {
			return false, false, err
		}
		s.held = ""
		if locked {
			return exists, hasTable, nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false, false, ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}

// discard closes a pinned connection instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// readApplied reads a schema's version table. The statement text is the
// same for every schema (the quoted table name is an argument, read by
// query_to_xml on the server), so drivers that prepare and cache statements
// (pgx does by default) prepare it once per connection instead of once per
// tenant: one round trip, and no statement cache filling with per-tenant
// texts. It runs as its own statement after the lock was taken, so its
// snapshot sees every row a concurrent run committed before releasing the
// lock.
func (m *Migrator) readApplied(ctx context.Context, conn *sql.Conn, schema string) ([]appliedRow, error) {
	var doc string
	err := conn.QueryRowContext(ctx, `SELECT query_to_xml(
		'SELECT string_agg(version::text || '':'' || checksum, '','' ORDER BY version) AS a FROM ' || $1,
		false, true, '')::text`, m.table(schema)).Scan(&doc)
	if err != nil {
		return nil, fmt.Errorf("migrator: schema %q: reading versions: %w", schema, err)
	}
	list := xmlField(doc, "a")
	if list == "" {
		return nil, nil
	}
	var out []appliedRow
	for _, item := range strings.Split(list, ",") {
		v, sum, _ := strings.Cut(item, ":")
		version, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("migrator: schema %q: unreadable version %q", schema, v)
		}
		out = append(out, appliedRow{version: version, checksum: sum})
	}
	return out, nil
}

// check compares a schema's applied versions with the set: every applied
// version must have a migration with the same checksum, and no migration
// older than the newest applied one may be missing.
func (s *set) check(schema string, applied []appliedRow) error {
	if len(applied) == 0 {
		return nil
	}
	newest := applied[len(applied)-1].version
	done := make(map[int64]bool, len(applied))
	for _, a := range applied {
		done[a.version] = true
		mig := s.byVersion[a.version]
		if mig == nil {
			return &HistoryError{Schema: schema, Version: a.version, Reason: "unknown", Newest: newest}
		}
		if mig.Checksum != "" && a.checksum != mig.Checksum {
			return &ChecksumError{Schema: schema, Version: a.version, Name: mig.Name, Applied: a.checksum, Current: mig.Checksum}
		}
	}
	for _, mig := range s.list {
		if mig.Version > newest {
			break
		}
		if !done[mig.Version] {
			return &HistoryError{Schema: schema, Version: mig.Version, Reason: "gap", Newest: newest}
		}
	}
	return nil
}

// upAction applies every pending migration, each in its own transaction
// with its version row, stopping at the first failure.
func (m *Migrator) upAction(ctx context.Context, conn *sql.Conn, t target, applied []appliedRow) ([]MigrationResult, error) {
	var newest int64
	if len(applied) > 0 {
		newest = applied[len(applied)-1].version
	}
	var done []MigrationResult
	for _, mig := range t.set.list {
		if mig.Version <= newest {
			continue
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
		r, err := m.apply(ctx, conn, t.schema, mig, false)
		if err != nil {
			return done, err
		}
		done = append(done, r)
	}
	return done, nil
}

// apply runs one migration up or down on conn. A transactional SQL
// migration travels in one Exec together with its version row change, so it
// costs one round trip whatever its size; a Go migration runs in an explicit
// transaction.
func (m *Migrator) apply(ctx context.Context, conn *sql.Conn, schema string, mig *migration, down bool) (MigrationResult, error) {
	start := time.Now()
	res := MigrationResult{Version: mig.Version, Name: mig.Name, Down: down}
	fail := func(err error) (MigrationResult, error) {
		return res, &MigrationError{Schema: schema, Version: mig.Version, Name: mig.Name, Down: down, Err: err}
	}
	body, fn := mig.upSQL, mig.up
	if down {
		body, fn = mig.downSQL, mig.down
	}
	if mig.NoTx {
		for _, stmt := range splitStatements(body) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fail(err)
			}
		}
		if _, err := conn.ExecContext(ctx, m.versionChange(schema, mig, down, time.Since(start))); err != nil {
			return fail(err)
		}
		res.Duration = time.Since(start)
		return res, nil
	}
	if fn == nil {
		// One Exec without arguments travels as one simple-protocol
		// Query message, which the server runs as one implicit
		// transaction: the migration and its version row commit
		// together or not at all, in a single round trip. (A driver
		// that used the extended protocol would have the server refuse
		// the multi-statement text as a whole: an error, never half a
		// migration.) The body may end in a comment or without a
		// semicolon: the newline and the lone semicolon close it.
		script := body + "\n;\n" + m.versionChange(schema, mig, down, -1)
		if _, err := conn.ExecContext(ctx, script); err != nil {
			return fail(err)
		}
		res.Duration = time.Since(start)
		return res, nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	if err := fn(ctx, tx); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, m.versionChange(schema, mig, down, time.Since(start))); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// versionChange is the statement that records (or, down, removes) mig's
// version row. It carries no arguments so it can share an Exec with the
// migration. took < 0 means "measure on the server": the time since the
// current query message arrived, which for a script sent in one Exec is the
// time its statements took.
func (m *Migrator) versionChange(schema string, mig *migration, down bool, took time.Duration) string {
	if down {
		return fmt.Sprintf("DELETE FROM %s WHERE version = %d", m.table(schema), mig.Version)
	}
	dur := "clock_timestamp() - statement_timestamp()"
	if took >= 0 {
		dur = fmt.Sprintf("interval '%d microseconds'", took.Microseconds())
	}
	return fmt.Sprintf("INSERT INTO %s (version, name, checksum, duration) VALUES (%d, %s, %s, %s)",
		m.table(schema), mig.Version, tenantpath.QuoteLiteral(mig.Name), tenantpath.QuoteLiteral(mig.Checksum), dur)
}

// Target says how far a rollback goes: [Steps] or [ToVersion].
type Target struct {
	steps int
	to    int64
	isTo  bool
}

// Steps rolls back the n newest applied migrations (fewer if fewer are
// applied).
func Steps(n int) Target { return Target{steps: n} }

// ToVersion rolls back every applied migration newer than v; v = 0 rolls
// back everything.
func ToVersion(v int64) Target { return Target{to: v, isTo: true} }

func (m *Migrator) downAction(tg Target) action {
	return func(ctx context.Context, conn *sql.Conn, t target, applied []appliedRow) ([]MigrationResult, error) {
		var todo []*migration
		for i := len(applied) - 1; i >= 0; i-- {
			if tg.isTo && applied[i].version <= tg.to {
				break
			}
			if !tg.isTo && len(todo) >= tg.steps {
				break
			}
			todo = append(todo, t.set.byVersion[applied[i].version])
		}
		for _, mig := range todo {
			if !mig.HasDown {
				return nil, &NoDownError{Schema: t.schema, Version: mig.Version, Name: mig.Name}
			}
		}
		var done []MigrationResult
		for _, mig := range todo {
			r, err := m.apply(ctx, conn, t.schema, mig, true)
			if err != nil {
				return done, err
			}
			done = append(done, r)
		}
		return done, nil
	}
}

// runOne runs act in one schema on a freshly pinned connection, and
// releases it.
func (m *Migrator) runOne(ctx context.Context, t target, create bool, act action) Result {
	s, err := m.newSession(ctx)
	if err != nil {
		return Result{Tenant: t.tenant, Schema: t.schema, Err: err}
	}
	defer s.release(ctx)
	res, _ := m.runSchema(ctx, s, t, create, act)
	return res
}

// MigrateShared applies the pending shared migrations in the first shared
// schema (creating it if needed), each in its own transaction, under that
// schema's advisory lock.
func (m *Migrator) MigrateShared(ctx context.Context) (Result, error) {
	if err := m.ensureRegistry(ctx); err != nil {
		return Result{Schema: m.naming.SharedSchemas()[0], Err: err}, err
	}
	res := m.runOne(ctx, m.sharedTarget(), true, m.upAction)
	return res, res.Err
}

// RollbackShared rolls the shared schema back to tg.
func (m *Migrator) RollbackShared(ctx context.Context, tg Target) (Result, error) {
	res := m.runOne(ctx, m.sharedTarget(), false, m.downAction(tg))
	return res, res.Err
}

// MigrateTenant applies the pending tenant migrations in one tenant's
// schema. The tenant need not be listed by the tenant source, but its schema
// must exist (else the error matches [tenantpath.ErrUnknownTenant]).
func (m *Migrator) MigrateTenant(ctx context.Context, tenant string) (Result, error) {
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return Result{Tenant: tenant, Err: err}, err
	}
	res := m.runOne(ctx, t, true, m.upAction)
	return res, res.Err
}

// RollbackTenant rolls one tenant's schema back to tg.
func (m *Migrator) RollbackTenant(ctx context.Context, tenant string, tg Target) (Result, error) {
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return Result{Tenant: tenant, Err: err}, err
	}
	res := m.runOne(ctx, t, false, m.downAction(tg))
	return res, res.Err
}
