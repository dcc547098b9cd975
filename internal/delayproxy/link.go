package delayproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// queueLen is how many chunks a direction holds in flight before its
// reader waits for the writer: far more than a request–response protocol
// ever has outstanding.
const queueLen = 256

// chunkSize is the most one read takes from a socket.
const chunkSize = 32 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// A chunk is what one read returned, due to be written at due. A chunk
// without a buffer is the end of the stream.
type chunk struct {
	buf *[]byte
	n   int
	due time.Time
}

// A link is one client connection and its upstream connection.
type link struct {
	client, server *net.TCPConn
	delay          time.Duration
	late           *lateness // the proxy's, shared by its writers

	done chan struct{} // closed by shutdown

	mu      sync.Mutex
	down    bool
	waiters []waiter // interrupted by shutdown
}

func newLink(client, server *net.TCPConn, delay time.Duration, late *lateness) *link {
	return &link{client: client, server: server, delay: delay, late: late, done: make(chan struct{})}
}

// run forwards both directions and returns when both have ended, with
// both connections closed.
func (l *link) run() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.forward(l.client, l.server) }()
	go func() { defer wg.Done(); l.forward(l.server, l.client) }()
	wg.Wait()
	l.shutdown()
}

// shutdown drops the link: both connections are closed, the writers stop
// without sending what they hold, and a writer waiting for a chunk's due
// time wakes at once.
func (l *link) shutdown() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return
	}
	l.down = true
	close(l.done)
	l.client.Close()
	l.server.Close()
	for _, w := range l.waiters {
		w.interrupt()
	}
}

// forward copies src to dst, each chunk delayed, until src ends (dst then
// gets the end of the stream too) or the link is dropped.
func (l *link) forward(src, dst *net.TCPConn) {
	if l.delay == 0 {
		l.copyNow(src, dst)
		return
	}
	w, err := newWaiter()
	if err != nil {
		l.shutdown()
		return
	}
	if !l.addWaiter(w) {
		w.close()
		return
	}
	q := make(chan chunk, queueLen)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		defer w.close()
		l.write(dst, q, w)
	}()
	l.read(src, q)
	<-writerDone
}

// addWaiter registers w for shutdown to interrupt, unless the link is
// already down.
func (l *link) addWaiter(w waiter) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return false
	}
	l.waiters = append(l.waiters, w)
	return true
}

// read stamps each chunk of src with its due time and queues it.
func (l *link) read(src *net.TCPConn, q chan<- chunk) {
	for {
		bp := buffers.Get().(*[]byte)
		n, err := src.Read(*bp)
		due := time.Now().Add(l.delay)
		if n > 0 {
			if !l.queue(q, chunk{buf: bp, n: n, due: due}) {
				return
			}
		} else {
			buffers.Put(bp)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				l.queue(q, chunk{due: due})
			} else {
				l.shutdown()
			}
			return
		}
	}
}

func (l *link) queue(q chan<- chunk, c chunk) bool {
	select {
	case q <- c:
		return true
	case <-l.done:
		return false
	}
}

// write sends each queued chunk to dst once it is due, in queue order.
func (l *link) write(dst *net.TCPConn, q <-chan chunk, w waiter) {
	for {
		var c chunk
		select {
		case c = <-q:
		case <-l.done:
			return
		}
		if err := l.late.waitUntil(w, c.due); err != nil {
			l.shutdown() // interrupted (the link is down already), or no timer to wait on
			return
		}
		if c.buf == nil {
			dst.CloseWrite()
			return
		}
		_, err := dst.Write((*c.buf)[:c.n])
		buffers.Put(c.buf)
		if err != nil {
			l.shutdown()
			return
		}
	}
}

// copyNow is forward without a delay: each chunk is written as soon as it
// is read, by the goroutine that read it.
func (l *link) copyNow(src, dst *net.TCPConn) {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	for {
		n, err := src.Read(*bp)
		if n > 0 {
			if _, werr := dst.Write((*bp)[:n]); werr != nil {
				l.shutdown()
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				dst.CloseWrite()
			} else {
				l.shutdown()
			}
			return
		}
	}
}
