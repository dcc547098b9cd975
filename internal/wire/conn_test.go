package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// Messages as the server sends them.

func msg(typ byte, body ...byte) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(4+len(body)))
	return append(b, body...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func ready(status byte) []byte      { return msg('Z', status) }
func complete(tag string) []byte    { return msg('C', append([]byte(tag), 0)...) }
func row() []byte                   { return msg('D', 0, 1, 0, 0, 0, 1, 'x') }
func errorResponse(c string) []byte { return msg('E', append(append([]byte("C"), c...), 0, 0)...) }
func notice() []byte                { return msg('N', 'M', 'h', 'i', 0, 0) }
func status(name, value string) []byte {
	return msg('S', append(append(append([]byte(name), 0), value...), 0)...)
}

var (
	switchOK   = cat(msg('1'), msg('2'), row(), complete("SELECT 1"))
	switchFail = errorResponse("3F000")
	// an extended-protocol request: Bind, Describe, Execute, Sync
	extRequest = cat(msg('B', 0, 0, 0, 0, 0, 0, 0, 0), msg('D', 'P', 0), msg('E', 0, 0, 0, 0, 0), syncMessage)
	extReply   = cat(msg('2'), msg('T', 0, 0), row(), complete("SELECT 1"), ready('I'))
)

func simpleQuery(sql string) []byte { return msg('Q', append([]byte(sql), 0)...) }

const switchSQL = "SELECT set_config('search_path', 'x', false), 'x'::regnamespace"

// step is one exchange: what the server must receive, then what it sends.
type step struct {
	receive, send []byte
}

// serve plays the server's side of the steps over a pipe, sending each
// reply in chunks of random sizes.
func serve(t *testing.T, server net.Conn, rng *rand.Rand, steps []step) <-chan error {
	done := make(chan error, 1)
	go func() {
		defer server.Close()
		for i, s := range steps {
			got := make([]byte, len(s.receive))
			if _, err := io.ReadFull(server, got); err != nil {
				done <- err
				return
			}
			if !bytes.Equal(got, s.receive) {
				t.Errorf("step %d: server received %q, want %q", i, got, s.receive)
			}
			for b := s.send; len(b) > 0; {
				n := min(1+rng.IntN(9), len(b))
				if _, err := server.Write(b[:n]); err != nil {
					done <- err
					return
				}
				b = b[n:]
			}
		}
		done <- nil
	}()
	return done
}

// readN reads n bytes from c with reads of random, sometimes tiny, sizes.
func readN(t *testing.T, c net.Conn, rng *rand.Rand, n int) []byte {
	t.Helper()
	var out []byte
	for len(out) < n {
		buf := make([]byte, 1+rng.IntN(64))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("read after %q: %v", out, err)
		}
		out = append(out, buf[:k]...)
	}
	return out
}

// exchange is one scripted conversation: the server's steps, and the
// client's writes with what it must read after each.
type exchange struct {
	name    string
	steps   []step
	writes  []clientStep
	fate    Fate
	reports uint64
}

type clientStep struct{ write, read []byte }

func exchanges() []exchange {
	sw := switchMessages(switchSQL)
	q := simpleQuery("SELECT 1")
	qExt := appendExtendedQuery(nil, "SELECT 1")
	qReply := cat(msg('T', 0, 0), row(), complete("SELECT 1"), ready('I'))
	qExtReply := cat(msg('1'), msg('2'), qReply)
	begin, commit, rollback := simpleQuery("begin"), simpleQuery("commit"), simpleQuery("rollback")
	beginExt := appendExtendedQuery(nil, "begin")
	beginReply := cat(complete("BEGIN"), ready('T'))
	beginExtReply := cat(msg('1'), msg('2'), msg('n'), beginReply)
	vacuum := simpleQuery("VACUUM")
	two := simpleQuery("SELECT 1; SELECT 2")
	one := func(w, r []byte) []clientStep { return []clientStep{{w, r}} }
	return []exchange{
		{"extended, switch holds", []step{{cat(sw, extRequest), cat(switchOK, extReply)}},
			one(extRequest, extReply), FateHeld, 0},
		{"extended, unknown tenant", []step{{cat(sw, extRequest), cat(switchFail, ready('I'))}},
			one(extRequest, cat(switchFail, ready('I'))), FateRefused, 0},
		{"extended, request fails", []step{{cat(sw, extRequest), cat(switchOK, errorResponse("42P01"), ready('I'))}},
			one(extRequest, cat(errorResponse("42P01"), ready('I'))), FateUndone, 0},
		// A simple query goes in the extended form behind the switch; the
		// client still reads the simple protocol's replies.
		{"simple query, switch holds", []step{{cat(sw, qExt), cat(switchOK, qExtReply)}},
			one(q, qReply), FateHeld, 0},
		{"simple query fails", []step{{cat(sw, qExt),
			cat(switchOK, msg('1'), msg('2'), msg('T', 0, 0), errorResponse("22012"), ready('I'))}},
			one(q, cat(msg('T', 0, 0), errorResponse("22012"), ready('I'))), FateUndone, 0},
		{"simple query, syntax error", []step{{cat(sw, qExt), cat(switchOK, errorResponse("42601"), ready('I'))}},
			one(q, cat(errorResponse("42601"), ready('I'))), FateUndone, 0},
		{"simple query, unknown tenant", []step{{cat(sw, qExt), cat(switchFail, ready('I'))}},
			one(q, cat(switchFail, ready('I'))), FateRefused, 0},
		{"begin then commit", []step{
			{cat(sw, beginExt), cat(switchOK, beginExtReply)},
			{commit, cat(complete("COMMIT"), ready('I'))}},
			[]clientStep{{begin, beginReply}, {commit, cat(complete("COMMIT"), ready('I'))}}, FateHeld, 0},
		{"begin then rollback", []step{
			{cat(sw, beginExt), cat(switchOK, beginExtReply)},
			{rollback, cat(complete("ROLLBACK"), ready('I'))}},
			[]clientStep{{begin, beginReply}, {rollback, cat(complete("ROLLBACK"), ready('I'))}}, FateUndone, 0},
		{"failed block ended by commit", []step{
			{cat(sw, beginExt), cat(switchOK, beginExtReply)},
			{q, cat(errorResponse("22012"), ready('E'))},
			{commit, cat(complete("ROLLBACK"), ready('I'))}},
			[]clientStep{{begin, beginReply}, {q, cat(errorResponse("22012"), ready('E'))},
				{commit, cat(complete("ROLLBACK"), ready('I'))}}, FateUndone, 0},
		{"separate, switch holds", []step{
			{cat(sw, syncMessage), cat(switchOK, ready('I'))},
			{vacuum, cat(complete("VACUUM"), ready('I'))}},
			one(vacuum, cat(complete("VACUUM"), ready('I'))), FateHeld, 0},
		{"separate, unknown tenant: the request is never sent", []step{
			{cat(sw, syncMessage), cat(switchFail, ready('I'))}},
			one(vacuum, cat(switchFail, ready('I'))), FateRefused, 0},
		{"several statements go separately", []step{
			{cat(sw, syncMessage), cat(switchOK, ready('I'))},
			{two, cat(qReply[:len(qReply)-6], qReply)}},
			one(two, cat(qReply[:len(qReply)-6], qReply)), FateHeld, 0},
		{"asynchronous messages among the switch's replies", []step{{cat(sw, extRequest),
			cat(msg('1'), notice(), msg('2'), status("search_path", `x, pg_temp`), row(), complete("SELECT 1"), extReply)}},
			one(extRequest, cat(notice(), status("search_path", `x, pg_temp`), extReply)), FateHeld, 1},
	}
}

// TestCarry plays every exchange with the server's bytes cut at random
// places and the client reading with buffers of random sizes: the client
// reads exactly what it would have read without the carrier.
func TestCarry(t *testing.T) {
	for _, x := range exchanges() {
		for seed := uint64(0); seed < 40; seed++ {
			rng := rand.New(rand.NewPCG(seed, 1))
			client, server := tcpPair(t)
			done := serve(t, server, rand.New(rand.NewPCG(seed, 2)), x.steps)
			c := New(client)
			c.Arm(switchSQL, false)
			for i, s := range x.writes {
				if _, err := c.Write(s.write); err != nil {
					t.Fatalf("%s: write %d: %v", x.name, i, err)
				}
				if got := readN(t, c, rng, len(s.read)); !bytes.Equal(got, s.read) {
					t.Fatalf("%s (seed %d), write %d: client read\n%q\nwant\n%q", x.name, seed, i, got, s.read)
				}
			}
			if err := <-done; err != nil {
				t.Fatalf("%s: server: %v", x.name, err)
			}
			if f := c.Fate(); f != x.fate {
				t.Fatalf("%s: fate %d, want %d", x.name, f, x.fate)
			}
			if _, n := c.Reported(); n != x.reports {
				t.Fatalf("%s: %d reports, want %d", x.name, n, x.reports)
			}
			c.Close()
		}
	}
}

// tcpPair returns the two ends of a loopback TCP connection: unlike
// net.Pipe, the kernel buffers what nobody reads yet, as with a server.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	return client, server
}

// A refusal fails the next request, reports a byte written (so that pgx
// does not call the failure safe to retry), lets a Terminate through, and
// can be withdrawn.
func TestRefuse(t *testing.T) {
	client, server := tcpPair(t)
	defer server.Close()
	c := New(client)
	defer c.Close()
	refused := errors.New("refused")
	q := simpleQuery("SELECT 1")

	c.Refuse(refused)
	if n, err := c.Write(q); n != 1 || !errors.Is(err, refused) {
		t.Fatalf("refused request: %d, %v", n, err)
	}
	c.Refuse(refused)
	c.Refuse(nil)
	if _, err := c.Write(q); err != nil {
		t.Fatalf("after the refusal was withdrawn: %v", err)
	}
	c.Refuse(refused)
	terminate := msg('X')
	if _, err := c.Write(terminate); err != nil {
		t.Fatalf("Terminate refused: %v", err)
	}
	want := cat(q, terminate)
	got := make([]byte, len(want))
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(server, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("server read %q (%v), want %q", got, err, want)
	}
}
