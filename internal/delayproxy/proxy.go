package delayproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// DefaultDelay is the one-way delay the benchmarks use: a 500 µs round
// trip, a database in the same zone as its application.
const DefaultDelay = 250 * time.Microsecond

// ErrNegativeDelay is returned by Start for a delay below zero.
var ErrNegativeDelay = errors.New("delayproxy: negative delay")

// dialTimeout bounds the connection to the upstream for each new client.
const dialTimeout = 5 * time.Second

// A Proxy listens on a loopback port and forwards each connection to its
// upstream through a link that delays both directions.
type Proxy struct {
	upstream string
	delay    time.Duration
	ln       net.Listener
	late     lateness
	ctx      context.Context    // of the dials to the upstream
	stop     context.CancelFunc // cancels ctx: Close ends the dials under way

	mu     sync.Mutex
	links  map[*link]struct{}
	closed bool
	wg     sync.WaitGroup // the accept loop and every link's goroutines
}

// Start listens on a free 127.0.0.1 port and forwards every connection
// made to it to upstream (host:port), delaying each chunk by delay in each
// direction. Close stops it.
func Start(upstream string, delay time.Duration) (*Proxy, error) {
	if delay < 0 {
		return nil, fmt.Errorf("%w: %v", ErrNegativeDelay, delay)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{upstream: upstream, delay: delay, ln: ln, links: map[*link]struct{}{}}
	p.ctx, p.stop = context.WithCancel(context.Background())
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the host:port clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Delay is the one-way delay of every link.
func (p *Proxy) Delay() time.Duration { return p.delay }

// Upstream is the host:port the proxy forwards to.
func (p *Proxy) Upstream() string { return p.upstream }

// Close stops accepting connections, drops every open link (both ends are
// closed and data still in flight is discarded) and returns once all of
// the proxy's goroutines have finished. Closing a closed Proxy does nothing.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.stop()
	err := p.ln.Close()
	for l := range p.links {
		l.shutdown()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // the listener is closed
		}
		p.wg.Add(1)
		go p.serve(c.(*net.TCPConn))
	}
}

// serve dials the upstream for one client and runs their link until both
// directions have ended.
func (p *Proxy) serve(client *net.TCPConn) {
	defer p.wg.Done()
	d := net.Dialer{Timeout: dialTimeout}
	up, err := d.DialContext(p.ctx, "tcp", p.upstream)
	if err != nil {
		client.Close() // the client sees its connection end, as with a refused one
		return
	}
	l := newLink(client, up.(*net.TCPConn), p.delay, &p.late)
	if !p.register(l) {
		l.shutdown()
		return
	}
	l.run()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// register adds l to the open links unless the proxy is closing.
func (p *Proxy) register(l *link) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.links[l] = struct{}{}
	return true
}
