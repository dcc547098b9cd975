// Package wire carries tenantpath's switch in the same network write as
// the request it precedes, for client libraries that let tenantpath wrap
// their net.Conn (pgx: pgconn.Config.AfterNetConnect, which runs after
// TLS). The switch goes as Parse, Bind and Execute on the unnamed
// statement, without a Sync, in front of the client's request, so the
// server runs both in one implicit transaction, in order: the request's
// names are resolved after the switch; if the switch fails, the server
// skips the request and the switch's error is the request's answer; if the
// request fails, the switch is rolled back with it. The switch's own
// replies are hidden from the client, which sees exactly the byte stream
// it would have seen without the switch. The connection reports what
// became of the switch (its Fate) and the search_path the server reports
// (PostgreSQL 18 and later).
//
// Nothing here knows pgx: it speaks the PostgreSQL protocol (version 3.0)
// on a byte stream.
package wire

import (
	"errors"
	"net"
	"sync"
)

// Fate is what became of the last switch armed on a connection.
type Fate uint8

const (
	// FateNone: nothing armed, or armed and not yet sent.
	FateNone Fate = iota
	// FatePending: sent; the end of the transaction it ran in is still
	// to come (the request is in flight, or opened a transaction block).
	FatePending
	// FateRefused: the server refused the switch; the path is as it
	// was, and the switch's error was the request's answer.
	FateRefused
	// FateHeld: the switch ran and its transaction committed.
	FateHeld
	// FateUndone: the switch ran and its transaction rolled back, so the
	// path is as it was before it.
	FateUndone
	// FateLost: the stream did not follow the protocol as expected; the
	// connection's state is unknown and it must be discarded.
	FateLost
)

// Conn is a net.Conn between a PostgreSQL client and the server that can
// carry a switch. It is safe for the use a client library makes of a
// connection: one writer, and one reader at a time, possibly in another
// goroutine than the writer (pgconn reads in the background while a large
// write is in progress).
type Conn struct {
	net.Conn

	// readMu makes one reader of the socket at a time: the client, or a
	// switch sent alone (Write then reads its answer itself).
	readMu  sync.Mutex
	pending []byte // bytes for the client that were read already

	mu     sync.Mutex // guards f, armed, sticky and sent
	f      filter
	armed  []byte // the switch's messages, for the next request
	sticky bool   // for every request until Disarm, not just the next
	sent   bool   // the armed switch went out with a request
	refuse error  // the next request must not go: its write fails with this

	wbuf []byte
}

// ErrOutsideTransaction refuses a request that needs its switch sent
// alone (COPY, several statements in one simple query, …) when the switch
// holds for the transaction only (a transaction-mode pooler): it would end
// before the request ran. Such requests must run inside a transaction.
var ErrOutsideTransaction = errors.New("tenantpath: under TransactionPooling, COPY and multi-statement queries for a tenant must run inside a transaction")

// New wraps c.
func New(c net.Conn) *Conn { return &Conn{Conn: c} }

// Arm makes the next request written on the connection carry query, a
// statement that sets the path and fails if the tenant does not exist.
// With every set, every request carries it until Disarm: a path set for
// the transaction only (set_config(…, true)) ends with each request's
// implicit transaction, and pgx may send a statement in two requests
// (prepare, then execute).
func (c *Conn) Arm(query string, every bool) {
	msgs := switchMessages(query)
	c.mu.Lock()
	c.armed, c.sticky, c.sent = msgs, every, false
	c.f.fate = FateNone
	c.mu.Unlock()
}

// Disarm forgets the armed switch and reports whether it went out with a
// request: false means it never reached the server.
func (c *Conn) Disarm() (sent bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sent = c.sent
	c.armed, c.sticky, c.sent = nil, false, false
	return sent
}

// Fate reports what became of the last armed switch.
func (c *Conn) Fate() Fate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f.fate
}

// Reported returns the last search_path the server reported and how many
// reports there were so far; PostgreSQL before 18 reports none.
func (c *Conn) Reported() (string, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f.reported, c.f.reports.Load()
}

// Refuse makes the next request fail with err instead of being sent: for a
// caller that learns too late that a request must not run and cannot stop
// its client any other way (a pgx tracer). The client then sees a write
// error wrapping err; pgx closes the connection after one, so whatever
// transaction was open on it ends without having run the request. A
// Terminate is never refused: it runs nothing, and refusing it would leave
// the server waiting for a client that has gone. Refuse(nil) withdraws a
// refusal whose request was never written (the client failed before).
func (c *Conn) Refuse(err error) {
	c.mu.Lock()
	c.refuse = err
	c.mu.Unlock()
}

// TxStatus returns the transaction status of the server's last
// ReadyForQuery: 'I' (idle), 'T' (in a transaction block) or 'E' (in a
// failed one).
func (c *Conn) TxStatus() byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f.txStatus == 0 {
		return 'I'
	}
	return c.f.txStatus
}

// InFailedBlock reports whether the server said, in its last
// ReadyForQuery, that the connection is in a failed transaction block:
// until the block ends it refuses every statement but the ones that end it
// (or roll back to a savepoint), so no statement can run on any path.
func (c *Conn) InFailedBlock() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f.txStatus == 'E'
}

// Reports returns how many times the server reported search_path. It takes
// no lock: callers compare it before every statement.
func (c *Conn) Reports() uint64 { return c.f.reports.Load() }

// RefusedBeforeBind reports whether the last request, sent with the
// extended protocol, failed before the server bound its statement: the
// statement never started to run (a plan that no longer fits is refused
// then), so running it again cannot do anything twice.
func (c *Conn) RefusedBeforeBind() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f.extended && c.f.errBeforeBind
}

// Write sends a request of the client's, with the armed switch in front of
// it if there is one.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if err := c.refuse; err != nil {
		c.refuse = nil
		if typ, _, _ := firstMessage(p); typ != 'X' {
			c.mu.Unlock()
			// One byte "written": nothing was, but pgx counts a write
			// error with nothing written as safe to retry, and its
			// database/sql adapter then retries the call on other
			// connections, to be refused there too and to end as
			// driver.ErrBadConn. A refusal is no fault of the connection:
			// the caller must see it.
			return 1, err
		}
	}
	sw := c.armed
	c.f.request(p)
	if sw == nil {
		c.mu.Unlock()
		return c.Conn.Write(p)
	}
	how := carryMode(p)
	if how == carryNot {
		c.mu.Unlock()
		return c.Conn.Write(p) // the switch waits for the next request
	}
	if !c.sticky {
		c.armed = nil
	}
	c.sent = true
	if how == carrySeparate {
		if c.sticky && c.f.txStatus != 'T' {
			// A switch for the transaction only would end with its own
			// Sync, before the request ran. Inside a transaction block it
			// holds until the block ends, so it may go alone there.
			c.armed, c.sticky, c.sent = nil, false, false
			c.mu.Unlock()
			return 0, ErrOutsideTransaction
		}
		c.mu.Unlock()
		return c.writeSeparate(sw, p)
	}
	c.f.expectSwitch(how == carryConvert)
	c.mu.Unlock()
	buf := append(c.wbuf[:0], sw...)
	if how == carryConvert {
		_, body, _ := firstMessage(p)
		sql, _ := queryText('Q', body)
		buf = appendExtendedQuery(buf, sql)
	} else {
		buf = append(buf, p...)
	}
	n, err := c.Conn.Write(buf)
	c.keep(buf)
	if how == carryConvert {
		if n < len(buf) {
			return 0, err
		}
		return len(p), err
	}
	return clientBytes(n, len(sw), len(p)), err
}

// writeSeparate sends the switch and a Sync alone and reads their answer
// before the client's request is sent. Some requests cannot share the
// switch's transaction (carryMode). If the switch fails, the request is
// not sent at all: the client reads the switch's error and a
// ReadyForQuery as its answer.
func (c *Conn) writeSeparate(sw, p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	c.mu.Lock()
	c.f.expectSeparate()
	c.mu.Unlock()
	buf := append(append(c.wbuf[:0], sw...), syncMessage...)
	_, err := c.Conn.Write(buf)
	c.keep(buf)
	if err != nil {
		return 0, err
	}
	var tmp [512]byte
	for {
		n, err := c.Conn.Read(tmp[:])
		c.mu.Lock()
		out := c.f.feed(tmp[:n], nil)
		c.pending = append(c.pending, c.f.held...)
		c.pending = append(c.pending, out...)
		c.f.held = c.f.held[:0]
		done, refused := c.f.phase != separateReply, c.f.fate == FateRefused
		c.mu.Unlock()
		if err != nil {
			return 0, err
		}
		if done && refused {
			return len(p), nil // never sent: the answer is in pending
		}
		if done {
			return c.Conn.Write(p)
		}
	}
}

// Read returns what the server sent, without the replies to the
// carrier's messages.
func (c *Conn) Read(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	for {
		c.mu.Lock()
		held := c.f.hdrN
		c.mu.Unlock()
		if len(p) <= held+8 {
			return c.readSmall(p)
		}
		n, err := c.Conn.Read(p[held:])
		c.mu.Lock()
		copy(p, c.f.hdr[:held]) // a header split across reads starts this one
		c.f.hdrN = 0
		out := c.f.feed(p[:held+n], p[:0])
		c.mu.Unlock()
		if len(out) > 0 || err != nil {
			return len(out), err
		}
	}
}

// readSmall serves a read into a buffer too small to hold a header that
// was split: it goes through pending.
func (c *Conn) readSmall(p []byte) (int, error) {
	var tmp [512]byte
	for len(c.pending) == 0 {
		n, err := c.Conn.Read(tmp[:])
		c.mu.Lock()
		c.pending = c.f.feed(tmp[:n], c.pending)
		c.mu.Unlock()
		if err != nil && len(c.pending) == 0 {
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// keep holds on to a write buffer for the next write, unless it grew large.
func (c *Conn) keep(buf []byte) {
	if cap(buf) <= 64<<10 {
		c.wbuf = buf[:0]
	} else {
		c.wbuf = nil
	}
}

// clientBytes is how many of the client's bytes a write of the switch and
// the client's request, which wrote n bytes in all, sent.
func clientBytes(n, prefix, size int) int {
	return min(max(n-prefix, 0), size)
}
