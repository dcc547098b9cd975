package tenantpath

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A base driver in memory for the pool's unit tests: no server, and every
// connection can be told to die or to refuse a plan.

type fakeBase struct {
	opened, closed, prepares atomic.Int64
	mu                       sync.Mutex
	conns                    []*fakeBaseConn
	failConnect              error
	// blindReset makes ResetSession miss a dead connection, as pgx's
	// does for one idle less than a second; Ping always notices.
	blindReset bool
}

func (f *fakeBase) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failConnect != nil {
		return nil, f.failConnect
	}
	f.opened.Add(1)
	c := &fakeBaseConn{f: f, id: len(f.conns)}
	f.conns = append(f.conns, c)
	return c, nil
}

func (f *fakeBase) Driver() driver.Driver { return fakeBaseDriver{} }

// open counts the base connections not closed.
func (f *fakeBase) open() int64 { return f.opened.Load() - f.closed.Load() }

type fakeBaseDriver struct{}

func (fakeBaseDriver) Open(string) (driver.Conn, error) { return nil, errors.New("use the connector") }

type fakeBaseConn struct {
	f      *fakeBase
	id     int
	dead   atomic.Bool
	closed atomic.Bool
	resets atomic.Int64
}

func (c *fakeBaseConn) Prepare(q string) (driver.Stmt, error) {
	c.f.prepares.Add(1)
	return &fakeBaseStmt{c: c, q: q}, nil
}

func (c *fakeBaseConn) Close() error {
	if c.closed.Swap(true) {
		return errors.New("fake: closed twice")
	}
	c.f.closed.Add(1)
	return nil
}

func (c *fakeBaseConn) Begin() (driver.Tx, error) { return nil, errors.New("fake: no transactions") }

func (c *fakeBaseConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if c.dead.Load() {
		return nil, driver.ErrBadConn
	}
	return driver.RowsAffected(1), nil
}

func (c *fakeBaseConn) Ping(ctx context.Context) error {
	if c.dead.Load() {
		return driver.ErrBadConn
	}
	return nil
}

func (c *fakeBaseConn) ResetSession(ctx context.Context) error {
	c.resets.Add(1)
	if c.dead.Load() && !c.f.blindReset {
		return driver.ErrBadConn
	}
	return nil
}

func (c *fakeBaseConn) IsValid() bool { return !c.dead.Load() && !c.closed.Load() }

type fakeBaseStmt struct {
	c          *fakeBaseConn
	q          string
	closed     bool
	planBroken bool
}

func (s *fakeBaseStmt) Close() error {
	if s.closed {
		return errors.New("fake: statement closed twice")
	}
	s.closed = true
	return nil
}
func (s *fakeBaseStmt) NumInput() int { return -1 }
func (s *fakeBaseStmt) Exec([]driver.Value) (driver.Result, error) {
	if s.closed {
		return nil, errors.New("fake: statement used after Close")
	}
	if s.planBroken {
		return nil, planChangedError{}
	}
	return driver.RowsAffected(1), nil
}
func (s *fakeBaseStmt) Query([]driver.Value) (driver.Rows, error) { return nil, io.EOF }

// planChangedError is what PostgreSQL answers when a cached plan no longer
// fits the tables on the path.
type planChangedError struct{}

func (planChangedError) Error() string    { return "ERROR: cached plan must not change result type" }
func (planChangedError) SQLState() string { return "0A000" }

// newFakePool returns a connector with a pool over a fresh fakeBase,
// closed when t ends.
func newFakePool(t *testing.T, opts ...Option) (*Connector, *fakeBase) {
	t.Helper()
	f := &fakeBase{}
	c, err := NewConnector(f, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, f
}

func tenantCtx(id string) context.Context { return WithTenant(context.Background(), id) }

// checkout takes a connection for ctx and runs one statement on it, so it
// is on ctx's path.
func checkout(t *testing.T, c *Connector, ctx context.Context) *conn {
	t.Helper()
	dc, err := c.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	cn := dc.(*conn)
	if _, err := cn.ExecContext(ctx, "SELECT 1", nil); err != nil {
		t.Fatalf("Exec: %v", err)
	}
	return cn
}

// waitUntil polls cond every millisecond for up to 5 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func stats(t *testing.T, c *Connector) PoolStats {
	t.Helper()
	st, ok := c.PoolStats()
	if !ok {
		t.Fatal("PoolStats: no pool")
	}
	return st
}

// waiting starts a checkout for ctx in a goroutine and returns the channel
// that will carry its connection (nil on error) once it is granted; it
// returns after the checkout is queued.
func waiting(t *testing.T, c *Connector, ctx context.Context) <-chan *conn {
	t.Helper()
	before := stats(t, c).Waiting
	got := make(chan *conn, 1)
	go func() {
		dc, err := c.Connect(ctx)
		if err != nil {
			got <- nil
			return
		}
		got <- dc.(*conn)
	}()
	waitUntil(t, "the checkout waits", func() bool { return stats(t, c).Waiting == before+1 })
	return got
}
