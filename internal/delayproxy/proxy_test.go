package delayproxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstream starts a TCP server on loopback that runs handle for every
// connection, and returns its address. It is stopped, and its handlers
// waited for, when the test ends.
func upstream(t testing.TB, handle func(c *net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func startProxy(t testing.TB, up string, delay time.Duration) *Proxy {
	t.Helper()
	p, err := Start(up, delay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// echo writes back everything it reads, then ends its side.
func echo(c *net.TCPConn) {
	io.Copy(c, c)
	c.CloseWrite()
}

// A stamped message: a sequence number and the time it was sent, as an
// offset from a start both ends share (the monotonic clock of this process).
const stampLen = 16

func putStamp(b []byte, seq uint64, at time.Duration) {
	binary.BigEndian.PutUint64(b, seq)
	binary.BigEndian.PutUint64(b[8:], uint64(at))
}

func readStamp(r io.Reader) (seq uint64, at time.Duration, err error) {
	var b [stampLen]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, 0, err
	}
	return binary.BigEndian.Uint64(b[:]), time.Duration(binary.BigEndian.Uint64(b[8:])), nil
}

// TestEachDirectionIsDelayed sends stamped requests through the proxy to a
// server that stamps its replies: every request reaches the server at
// least one delay after the client sent it, and every reply reaches the
// client at least one delay after the server sent it. Both ends run in this
// process, so the two one-way times are measured on the same clock.
func TestEachDirectionIsDelayed(t *testing.T) {
	for _, delay := range []time.Duration{DefaultDelay, 3 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			start := time.Now()
			var mu sync.Mutex
			var up []time.Duration // request: server's arrival − client's send
			addr := upstream(t, func(c *net.TCPConn) {
				var out [stampLen]byte
				for {
					seq, sent, err := readStamp(c)
					if err != nil {
						return
					}
					arrived := time.Since(start)
					mu.Lock()
					up = append(up, arrived-sent)
					mu.Unlock()
					putStamp(out[:], seq, time.Since(start))
					if _, err := c.Write(out[:]); err != nil {
						return
					}
				}
			})
			c := dial(t, startProxy(t, addr, delay).Addr())
			const pings = 40
			var down, rtts []time.Duration
			var msg [stampLen]byte
			for i := range uint64(pings) {
				sent := time.Since(start)
				putStamp(msg[:], i, sent)
				if _, err := c.Write(msg[:]); err != nil {
					t.Fatal(err)
				}
				seq, replied, err := readStamp(c)
				if err != nil {
					t.Fatal(err)
				}
				arrived := time.Since(start)
				if seq != i {
					t.Fatalf("reply %d to request %d", seq, i)
				}
				down = append(down, arrived-replied)
				rtts = append(rtts, arrived-sent)
			}
			c.CloseWrite()
			if _, _, err := readStamp(c); err != io.EOF {
				t.Fatalf("after the last reply: %v, want EOF", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(up) != pings {
				t.Fatalf("the server saw %d requests, want %d", len(up), pings)
			}
			checkAtLeast(t, "client → server", up, delay)
			checkAtLeast(t, "server → client", down, delay)
			checkAtLeast(t, "round trip", rtts, 2*delay)
		})
	}
}

// checkAtLeast fails if any of ds is below floor, and logs their spread.
func checkAtLeast(t *testing.T, what string, ds []time.Duration, floor time.Duration) {
	t.Helper()
	s := slices.Sorted(slices.Values(ds))
	if s[0] < floor {
		t.Errorf("%s: %v, below the delay %v", what, s[0], floor)
	}
	t.Logf("%s: min %v, median %v, max %v (at least %v)", what, s[0], s[len(s)/2], s[len(s)-1], floor)
}

// pingRTTs sends n one-byte pings through addr to an echo server and
// returns each round trip, sorted.
func pingRTTs(t testing.TB, addr string, n int) []time.Duration {
	t.Helper()
	c := dial(t, addr)
	rtts := make([]time.Duration, n)
	b := []byte{0}
	for i := range rtts {
		start := time.Now()
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		rtts[i] = time.Since(start)
	}
	slices.Sort(rtts)
	return rtts
}

// TestRoundTripIsAtLeastTwiceTheDelay pings an echo server through a proxy
// with the default delay: the delay holds in each direction, so no round
// trip is shorter than twice it. (How close to it they get depends on the
// machine's load: BenchmarkPing measures that, a test does not assert it.)
func TestRoundTripIsAtLeastTwiceTheDelay(t *testing.T) {
	addr := upstream(t, echo)
	const n = 50
	delayed := pingRTTs(t, startProxy(t, addr, DefaultDelay).Addr(), n)
	t.Logf("delay %v: min %v, median %v (how close to the delay it gets is BenchmarkPing's to measure)",
		DefaultDelay, delayed[0], delayed[n/2])
	if delayed[0] < 2*DefaultDelay {
		t.Errorf("a round trip of %v, shorter than twice the delay %v", delayed[0], DefaultDelay)
	}
}

// TestOrderIsKept streams 1,000 writes of random sizes through the proxy
// to an echo server while reading the echo, and compares the bytes: with a
// delay, many chunks are in flight in both directions at once.
func TestOrderIsKept(t *testing.T) {
	addr := upstream(t, echo)
	for _, delay := range []time.Duration{0, DefaultDelay} {
		t.Run(delay.String(), func(t *testing.T) {
			c := dial(t, startProxy(t, addr, delay).Addr())
			r := rand.New(rand.NewPCG(1, 2))
			var sent bytes.Buffer
			for range 1000 {
				b := make([]byte, 1+r.IntN(4000))
				for i := range b {
					b[i] = byte(r.Uint32())
				}
				sent.Write(b)
			}
			errc := make(chan error, 1)
			go func() {
				data := sent.Bytes()
				r := rand.New(rand.NewPCG(3, 4))
				for len(data) > 0 {
					n := min(len(data), 1+r.IntN(4000))
					if _, err := c.Write(data[:n]); err != nil {
						errc <- err
						return
					}
					data = data[n:]
				}
				errc <- c.CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, sent.Bytes()) {
				i := 0
				for i < len(got) && i < sent.Len() && got[i] == sent.Bytes()[i] {
					i++
				}
				t.Fatalf("received %d bytes, sent %d; first difference at byte %d", len(got), sent.Len(), i)
			}
		})
	}
}

// TestEndOfStreamFollowsTheData: a side that closes its end has all of
// its data delivered before the other side sees the end, and a half-closed
// link still carries the other direction.
func TestEndOfStreamFollowsTheData(t *testing.T) {
	payload := bytes.Repeat([]byte("tenantpath "), 20000)
	t.Run("server writes and closes", func(t *testing.T) {
		addr := upstream(t, func(c *net.TCPConn) { c.Write(payload) })
		c := dial(t, startProxy(t, addr, DefaultDelay).Addr())
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("received %d bytes, want the %d the server wrote", len(got), len(payload))
		}
	})
	t.Run("client half-closes, server answers", func(t *testing.T) {
		addr := upstream(t, func(c *net.TCPConn) {
			req, err := io.ReadAll(c) // until the client's end of stream
			if err != nil {
				return
			}
			c.Write([]byte(strings.ToUpper(string(req))))
		})
		c := dial(t, startProxy(t, addr, DefaultDelay).Addr())
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "PING" {
			t.Fatalf("received %q, want %q", got, "PING")
		}
	})
}

// TestCloseDropsLinksAtOnce closes a proxy whose only link holds a chunk
// due in 10 seconds: Close returns without waiting for it, the chunk is
// never delivered, both ends see their connection end, no goroutine of the
// proxy is left, and the port takes no more connections.
func TestCloseDropsLinksAtOnce(t *testing.T) {
	accepted := make(chan []byte, 1)
	addr := upstream(t, func(c *net.TCPConn) {
		got, _ := io.ReadAll(c) // ends when the proxy drops the link
		accepted <- got
	})
	p, err := Start(addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	if _, err := c.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the link to be open", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.links) == 1
	})
	start := time.Now()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %v: it waited for the delay", took)
	}
	if got := <-accepted; len(got) != 0 {
		t.Errorf("the server received %q after Close", got)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the client's read after Close: %d bytes, %v; want its connection ended", n, err)
	}
	waitFor(t, "the proxy's goroutines to end", func() bool { return !proxyGoroutines() })
	if c2, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c2.Close()
		t.Error("the proxy's port still accepts connections after Close")
	}
	if err := p.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

// TestUnreachableUpstreamEndsTheClient: when the upstream cannot be
// reached, the client's connection ends instead of hanging.
func TestUnreachableUpstreamEndsTheClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	c := dial(t, startProxy(t, gone, DefaultDelay).Addr())
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read through a proxy to a closed port: %d bytes, %v; want EOF", n, err)
	}
}

func TestNegativeDelayIsRefused(t *testing.T) {
	p, err := Start("127.0.0.1:1", -time.Microsecond)
	if !errors.Is(err, ErrNegativeDelay) {
		t.Fatalf("Start with a negative delay: %v, %v; want ErrNegativeDelay", p, err)
	}
}

// proxyGoroutines reports whether any goroutine is running the proxy's code.
func proxyGoroutines() bool {
	var b strings.Builder
	pprof.Lookup("goroutine").WriteTo(&b, 1)
	return strings.Contains(b.String(), "delayproxy.(*link)") || strings.Contains(b.String(), "delayproxy.(*Proxy)")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
