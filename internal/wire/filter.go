package wire

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
)

// phase is what the filter expects next from the server.
type phase uint8

const (
	// idle: nothing of the carrier's is outstanding; every message goes
	// to the client.
	idle phase = iota
	// switchReply: the replies to the carried switch come first
	// (ParseComplete, BindComplete, DataRow, then CommandComplete or
	// ErrorResponse); they are the carrier's, not the client's.
	switchReply
	// outcome: the switch ran; the client's replies go through while the
	// filter waits for the end of the transaction the switch ran in.
	outcome
	// separateReply: the switch and a Sync were sent alone; its replies
	// and ReadyForQuery come before the client's request is even sent.
	separateReply
)

// filter reads the server's message stream, hides the replies that answer
// the carrier's own messages, and follows what became of the switch. It
// keeps no bytes of the client's: messages pass through as they arrive.
type filter struct {
	// Where in the stream it is.
	hdr  [5]byte // a header split across reads, fed again with the next
	hdrN int
	typ  byte
	left int  // bytes of the current message's body still to come
	drop bool // the current message is the carrier's
	body []byte

	// What it expects.
	phase phase
	// converted: the client's simple query went as Parse, Bind, Describe,
	// Execute and Sync (see carryConvert); the replies only that form has
	// (ParseComplete, BindComplete, NoData) are hidden until the first
	// that both forms send.
	converted bool
	txStatus  byte // from the last ReadyForQuery: 'I', 'T' or 'E'
	inBlock   bool // the switch's transaction became an explicit block
	errSeen   bool // an error since the switch ran
	commitTag bool // the last CommandComplete said COMMIT
	fate      Fate

	// The client's current request: sent with the extended protocol, and
	// whether an error came before its statement was bound.
	extended      bool
	bound         bool
	errBeforeBind bool

	// separate mode: the messages the client must receive as the answer
	// to a request that was never sent, and whether the switch failed.
	held   []byte
	failed bool

	// The server's reports of search_path (PostgreSQL 18 and later).
	reported string
	reports  atomic.Uint64 // read without the lock, before every statement
}

// maxCapture bounds the bodies kept to be read (ReadyForQuery,
// CommandComplete, ParameterStatus); longer ones are not inspected.
const maxCapture = 4096

// feed processes b, which the server sent, and appends to out what the
// client must receive. out may share b's array: it never gets ahead of
// what has been read.
func (f *filter) feed(b, out []byte) []byte {
	for len(b) > 0 {
		if f.left == 0 {
			need := 5 - f.hdrN
			if len(b) < need {
				f.hdrN += copy(f.hdr[f.hdrN:], b)
				return out
			}
			copy(f.hdr[f.hdrN:], b[:need])
			b = b[need:]
			f.hdrN = 0
			f.start()
			if !f.drop {
				out = f.emit(out, f.hdr[:])
			}
			if f.left == 0 {
				f.end()
				continue
			}
		}
		n := min(f.left, len(b))
		if f.capturing() && len(f.body)+n <= maxCapture {
			f.body = append(f.body, b[:n]...)
		}
		if !f.drop {
			out = f.emit(out, b[:n])
		}
		b = b[n:]
		f.left -= n
		if f.left == 0 {
			f.end()
		}
	}
	return out
}

// emit adds bytes for the client: to out, or in separate mode to held.
func (f *filter) emit(out, b []byte) []byte {
	if f.phase == separateReply {
		f.held = append(f.held, b...)
		return out
	}
	return append(out, b...)
}

func (f *filter) capturing() bool {
	return f.typ == 'Z' || f.typ == 'C' || f.typ == 'S'
}

// start decides, from a message's type, whether the client sees it.
func (f *filter) start() {
	f.typ = f.hdr[0]
	f.left = int(binary.BigEndian.Uint32(f.hdr[1:])) - 4
	if f.left < 0 {
		f.left = 0
		f.lose()
	}
	f.body = f.body[:0]
	f.drop = false
	if async(f.typ) {
		return
	}
	if f.converted && f.phase == outcome {
		if f.typ == '1' || f.typ == '2' || f.typ == 'n' {
			f.drop = true
			return
		}
		f.converted = false
	}
	switch f.phase {
	case switchReply, separateReply:
		switch f.typ {
		case '1', '2', 'D', 'C':
			f.drop = true
		case 'E':
			// The switch failed. Carried, the server now skips the
			// client's request up to its Sync, so this error is the
			// answer the client gets; sent alone, it is held for the
			// client's request, which will not be sent.
			f.failed = true
		case 'Z':
			switch {
			case f.phase == separateReply:
				f.drop = !f.failed // the answer to the carrier's Sync
			case !f.failed:
				f.lose() // a carried switch ends with CommandComplete or an error
			}
		default:
			f.lose()
		}
	}
}

// end acts on a whole message.
func (f *filter) end() {
	client := !f.drop && f.phase != switchReply && f.phase != separateReply
	switch f.typ {
	case 'S':
		f.parameterStatus()
	case '2':
		if client {
			f.bound = true
		}
	case 'E':
		if client && !f.bound {
			f.errBeforeBind = true
		}
		if f.phase == outcome {
			f.errSeen = true
		}
	case 'C':
		if f.phase == switchReply || f.phase == separateReply {
			f.ran()
		} else {
			f.commitTag = bytes.HasPrefix(f.body, []byte("COMMIT"))
		}
	case 'Z':
		f.ready()
	}
}

// request notes the start of a request of the client's.
func (f *filter) request(p []byte) {
	f.extended = len(p) > 0 && (p[0] == 'P' || p[0] == 'B')
	f.bound, f.errBeforeBind = false, false
}

// expectSwitch: a switch goes in front of a request; converted says the
// request is a simple query the carrier sent in the extended form.
func (f *filter) expectSwitch(converted bool) {
	if f.phase == switchReply || f.phase == separateReply {
		f.lose() // the last switch's replies were never read
		return
	}
	f.phase, f.fate, f.failed = switchReply, FatePending, false
	f.converted = converted
}

// expectSeparate: a switch and a Sync go alone, before the request.
func (f *filter) expectSeparate() {
	if f.phase == switchReply || f.phase == separateReply {
		f.lose()
		return
	}
	f.phase, f.fate, f.failed = separateReply, FatePending, false
	f.held = f.held[:0]
}

// ran: the switch's CommandComplete.
func (f *filter) ran() {
	f.errSeen, f.commitTag = false, false
	f.inBlock = f.txStatus == 'T' || f.txStatus == 'E'
	if f.phase == switchReply {
		f.phase = outcome
		f.fate = FatePending
	}
}

// ready handles a ReadyForQuery: it may end the switch's transaction.
func (f *filter) ready() {
	status := byte('I')
	if len(f.body) > 0 {
		status = f.body[0]
	}
	f.txStatus = status
	switch f.phase {
	case switchReply:
		// The switch failed and the server has skipped to the Sync:
		// this is the only ReadyForQuery.
		f.phase, f.fate = idle, FateRefused
		f.failed, f.converted = false, false
	case separateReply:
		f.phase = idle
		switch {
		case f.failed:
			f.fate = FateRefused
		case status == 'I':
			f.fate = FateHeld
		default:
			f.phase, f.fate, f.inBlock = outcome, FatePending, true
		}
		f.failed = false
	case outcome:
		if status != 'I' {
			f.inBlock = true
			return
		}
		held := !f.errSeen
		if f.inBlock {
			held = f.commitTag
		}
		f.fate = FateUndone
		if held {
			f.fate = FateHeld
		}
		f.phase = idle
	}
}

// parameterStatus records the server's report of search_path.
func (f *filter) parameterStatus() {
	name, rest, ok := bytes.Cut(f.body, []byte{0})
	if !ok || string(name) != "search_path" {
		return
	}
	value, _, _ := bytes.Cut(rest, []byte{0})
	f.reported = string(value)
	f.reports.Add(1)
}

// lose gives up: the stream no longer matches what the filter expects.
func (f *filter) lose() {
	f.fate = FateLost
	f.phase = idle
}

// async reports the messages the server may send at any time.
func async(typ byte) bool {
	return typ == 'N' || typ == 'S' || typ == 'A'
}
