package tptest

import (
	"context"
	"database/sql/driver"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Recorder is a connector that logs every statement its connections
// receive, so tests can see exactly what reached the base driver, and
// tracks which connections are still open and on which a path switch
// failed.
type Recorder struct {
	driver.Connector

	// BeforeSwitch, when set, runs with the statement's context just
	// before a path switch is forwarded to the base driver.
	BeforeSwitch func(ctx context.Context)
	// Delay, when set, is added to every statement: a network round trip,
	// simulated, for measuring what round trips cost.
	Delay time.Duration

	mu      sync.Mutex
	stmts   []string
	conns   []*recordingConn
	connect atomic.Int64
}

// Connect opens a base connection and wraps it so it records.
func (r *Recorder) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := r.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	r.connect.Add(1)
	rc := &recordingConn{Conn: c, r: r}
	r.mu.Lock()
	r.conns = append(r.conns, rc)
	r.mu.Unlock()
	return rc, nil
}

func (r *Recorder) add(s string) {
	r.mu.Lock()
	r.stmts = append(r.stmts, s)
	r.mu.Unlock()
	if r.Delay > 0 {
		time.Sleep(r.Delay)
	}
}

// Len returns how many statements the log holds.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.stmts)
}

// Take returns and clears the log.
func (r *Recorder) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stmts
	r.stmts = nil
	return s
}

// Connects returns how many base connections were opened.
func (r *Recorder) Connects() int64 { return r.connect.Load() }

// OpenAfterFailedSwitch counts connections on which a switch of the path
// failed and which are still open.
func (r *Recorder) OpenAfterFailedSwitch() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.conns {
		if c.switchFailed.Load() && !c.closed.Load() {
			n++
		}
	}
	return n
}

// FailedSwitches counts the connections on which a switch failed.
func (r *Recorder) FailedSwitches() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.conns {
		if c.switchFailed.Load() {
			n++
		}
	}
	return n
}

// Count returns how many logged statements contain substr.
func Count(stmts []string, substr string) int {
	n := 0
	for _, s := range stmts {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

// IsSwitch reports whether q is one of the driver's path switches.
func IsSwitch(q string) bool {
	return strings.Contains(q, "set_config('search_path'") || strings.Contains(q, "RESET search_path")
}

type recordingConn struct {
	driver.Conn
	r            *Recorder
	switchFailed atomic.Bool
	closed       atomic.Bool
}

func (c *recordingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.r.add(q)
	if c.r.BeforeSwitch != nil && IsSwitch(q) {
		c.r.BeforeSwitch(ctx)
	}
	res, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
	if err != nil && IsSwitch(q) {
		c.switchFailed.Store(true)
	}
	return res, err
}

func (c *recordingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.r.add(q)
	if c.r.BeforeSwitch != nil && IsSwitch(q) {
		c.r.BeforeSwitch(ctx)
	}
	rows, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
	if err != nil && IsSwitch(q) {
		c.switchFailed.Store(true)
	}
	return rows, err
}

func (c *recordingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.r.add("PREPARE " + q)
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (c *recordingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.r.add("BEGIN")
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return recordingTx{Tx: tx, r: c.r}, nil
}

// recordingTx logs the end of a transaction begun through a recordingConn.
type recordingTx struct {
	driver.Tx
	r *Recorder
}

func (t recordingTx) Commit() error   { t.r.add("COMMIT"); return t.Tx.Commit() }
func (t recordingTx) Rollback() error { t.r.add("ROLLBACK"); return t.Tx.Rollback() }

func (c *recordingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *recordingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *recordingConn) ResetSession(ctx context.Context) error {
	if sr, ok := c.Conn.(driver.SessionResetter); ok {
		return sr.ResetSession(ctx)
	}
	return nil
}

func (c *recordingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *recordingConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

// Unwrap returns the base driver's connection, for code that needs it.
func (c *recordingConn) Unwrap() driver.Conn { return c.Conn }
