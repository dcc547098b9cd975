package wire

import "encoding/binary"

// The frontend messages the carrier sends (PostgreSQL protocol 3.0, §55.7).

// switchMessages returns Parse, Bind and Execute of query on the unnamed
// statement and portal, without arguments, results in text: the query runs
// before the client's next request, in the same implicit transaction, and
// nothing is cached on the server.
func switchMessages(query string) []byte {
	return appendParseBindExecute(make([]byte, 0, len(query)+40), query, false)
}

// appendParseBindExecute appends Parse, Bind and Execute of query on the
// unnamed statement and portal, with a Describe of the portal before the
// Execute when describe is set.
func appendParseBindExecute(b []byte, query string, describe bool) []byte {
	// Parse: statement name "", query, no parameter types.
	b = message(b, 'P', func(b []byte) []byte {
		b = append(b, 0)
		b = append(b, query...)
		b = append(b, 0)
		return binary.BigEndian.AppendUint16(b, 0)
	})
	// Bind: portal "", statement "", no parameter formats, no
	// parameters, no result formats (all text).
	b = message(b, 'B', func(b []byte) []byte {
		b = append(b, 0, 0)
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, 0)
		return binary.BigEndian.AppendUint16(b, 0)
	})
	if describe {
		b = message(b, 'D', func(b []byte) []byte { return append(b, 'P', 0) })
	}
	// Execute: portal "", no row limit.
	return message(b, 'E', func(b []byte) []byte {
		b = append(b, 0)
		return binary.BigEndian.AppendUint32(b, 0)
	})
}

// appendExtendedQuery appends sql as the extended protocol's equivalent of
// a simple Query message: Parse, Bind (results in text, as the simple
// protocol sends them), Describe of the portal (for the RowDescription the
// simple protocol sends), Execute and Sync. Its replies are the simple
// query's with ParseComplete, BindComplete and NoData added.
func appendExtendedQuery(b []byte, sql string) []byte {
	b = appendParseBindExecute(b, sql, true)
	return append(b, syncMessage...)
}

// syncMessage ends an extended-protocol sequence: the server commits the
// implicit transaction (or, after an error, stops skipping) and answers
// ReadyForQuery.
var syncMessage = []byte{'S', 0, 0, 0, 4}

// message appends one message of type typ whose body body appends.
func message(b []byte, typ byte, body func([]byte) []byte) []byte {
	b = append(b, typ, 0, 0, 0, 0)
	start := len(b) - 4
	b = body(b)
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// firstMessage returns the type and body of the first message in a
// client's write, and whether the write holds exactly that one message.
func firstMessage(p []byte) (typ byte, body []byte, only bool) {
	if len(p) < 5 {
		return 0, nil, false
	}
	n := int(binary.BigEndian.Uint32(p[1:5]))
	if n < 4 || 1+n > len(p) {
		return p[0], nil, false
	}
	return p[0], p[5 : 1+n], 1+n == len(p)
}

// queryText returns the SQL of a Query ('Q') or Parse ('P') message body.
func queryText(typ byte, body []byte) (string, bool) {
	switch typ {
	case 'Q':
		if i := indexByte(body, 0); i >= 0 {
			return string(body[:i]), true
		}
	case 'P':
		if i := indexByte(body, 0); i >= 0 { // the statement name
			rest := body[i+1:]
			if j := indexByte(rest, 0); j >= 0 {
				return string(rest[:j]), true
			}
		}
	}
	return "", false
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
