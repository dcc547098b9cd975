package tenantpath

import (
	"context"
	"database/sql/driver"
	"sync"
)

// stmtCacheSize bounds the prepared statements kept per pool connection;
// the least recently prepared one is closed to make room.
const stmtCacheSize = 64

// stmtCache keeps a pool connection's prepared statements by query text.
// database/sql, with its idle pool off, closes a connection's statements
// each time it gives the connection back and prepares them again on the
// next one it gets; the cache answers those prepares without a round trip.
// It belongs to one connection and is used by whoever holds that
// connection, but a statement prepared on a *sql.Conn may be closed after
// the Conn, from a goroutine that no longer holds the connection while
// another does: so the cache has a lock, and a base statement whose last
// Close comes then is not closed at once (that would talk to the server on
// another caller's connection) but when the connection is given back.
type stmtCache struct {
	mu   sync.Mutex
	m    map[string]*sharedStmt
	tick uint64
	late []driver.Stmt // to close when the connection is given back
}

// sharedStmt is a base driver statement kept in a connection's cache, handed
// to every prepare of its text. Closing it only drops a reference: the
// cache closes it when it is evicted, or the server drops it with the
// connection.
type sharedStmt struct {
	conn    *conn
	cache   *stmtCache
	inner   driver.Stmt
	query   string
	used    uint64
	refs    int  // handed out and not yet closed
	evicted bool // out of the cache: the last Close closes inner
}

var (
	_ driver.Stmt              = (*sharedStmt)(nil)
	_ driver.StmtExecContext   = (*sharedStmt)(nil)
	_ driver.StmtQueryContext  = (*sharedStmt)(nil)
	_ driver.NamedValueChecker = (*sharedStmt)(nil)
)

// prepare returns the base driver's statement for query, from the cache
// or prepared now.
func (sc *stmtCache) prepare(ctx context.Context, c *conn, query string) (driver.Stmt, error) {
	stats := &c.owner.p.stats
	sc.mu.Lock()
	sc.tick++
	if s := sc.m[query]; s != nil {
		s.used = sc.tick
		s.refs++
		sc.mu.Unlock()
		stats.stmtHits.Add(1)
		return s, nil
	}
	sc.mu.Unlock()
	inner, err := prepareInner(ctx, c.inner, query)
	if err != nil {
		return nil, err
	}
	stats.stmtMisses.Add(1)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.m == nil {
		sc.m = make(map[string]*sharedStmt)
	}
	if old := sc.m[query]; old != nil {
		sc.evictLocked(old)
	} else if len(sc.m) >= stmtCacheSize {
		sc.evictOldest()
	}
	s := &sharedStmt{conn: c, cache: sc, inner: inner, query: query, used: sc.tick, refs: 1}
	sc.m[query] = s
	return s, nil
}

func (sc *stmtCache) evictOldest() {
	var oldest *sharedStmt
	for _, s := range sc.m {
		if oldest == nil || s.used < oldest.used {
			oldest = s
		}
	}
	sc.evictLocked(oldest)
}

// evict takes s out of the cache, for the holder of the connection; it is
// closed when nobody holds it any more.
func (sc *stmtCache) evict(s *sharedStmt) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.evictLocked(s)
}

func (sc *stmtCache) evictLocked(s *sharedStmt) {
	if s.evicted {
		return
	}
	s.evicted = true
	if sc.m[s.query] == s {
		delete(sc.m, s.query)
	}
	if s.refs == 0 {
		sc.late = append(sc.late, s.inner)
	}
}

// released closes the base statements nobody holds any more, when the
// connection is given back: nobody else uses it then.
func (sc *stmtCache) released() {
	sc.mu.Lock()
	late := sc.late
	sc.late = nil
	sc.mu.Unlock()
	for _, st := range late {
		st.Close()
	}
}

// closeAll forgets every statement when the connection closes. They are
// not closed one by one: the server drops a session's prepared statements
// with it, and a round trip each would only delay the close.
func (sc *stmtCache) closeAll() {
	sc.mu.Lock()
	sc.m, sc.late = nil, nil
	sc.mu.Unlock()
}

func (s *sharedStmt) Close() error {
	sc := s.cache
	sc.mu.Lock()
	defer sc.mu.Unlock()
	s.refs--
	if s.evicted && s.refs == 0 {
		sc.late = append(sc.late, s.inner)
	}
	return nil
}

func (s *sharedStmt) NumInput() int { return s.inner.NumInput() }

// forget evicts a statement the server refused to run because its cached
// plan no longer fits the tables on the path (tenants at different
// migration versions): the next prepare of its text prepares afresh.
func (s *sharedStmt) forget(err error) error {
	if err != nil && isPlanChanged(err) {
		s.cache.evict(s)
	}
	return err
}

func (s *sharedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, err := execStmt(ctx, s.inner, args)
	return res, s.forget(err)
}

func (s *sharedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := queryStmt(ctx, s.inner, args)
	return rows, s.forget(err)
}

// Exec runs the statement with context.Background.
func (s *sharedStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), namedValues(args))
}

// Query runs the statement with context.Background.
func (s *sharedStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), namedValues(args))
}

// CheckNamedValue asks the base statement, then the base connection, as
// database/sql would ask them without the cache.
func (s *sharedStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := s.inner.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return s.conn.CheckNamedValue(nv)
}
