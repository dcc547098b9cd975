package wire

import "github.com/tenantpath/tenantpath/internal/sqlscan"

// Carriable reports whether sql may share the implicit transaction that
// a carried switch opens. A switch sent in the same write as a request runs
// with it in one implicit transaction block, where PostgreSQL refuses the
// commands that cannot run inside a transaction block (VACUUM, CREATE
// INDEX CONCURRENTLY, …), runs CALL and DO atomically (so a procedure's
// COMMIT fails), and where COPY FROM STDIN would swallow the Sync the
// carrier adds. Such text gets its switch in a round trip of its own. The
// scan is conservative: a false "no" costs a round trip, a false "yes" an
// error the caller sees once (SQLSTATE 25001, and the driver retries).
func Carriable(sql string) bool {
	sp := sqlscan.NewSplitter(sql)
	for {
		st, ok := sp.Next()
		if !ok {
			return true
		}
		if !st.Empty && !carriableStatement(st.Text) {
			return false
		}
	}
}

func carriableStatement(stmt string) bool {
	var first, second string
	sc := sqlscan.New(stmt)
	for sc.Next() {
		t := &sc.Tok
		if t.Kind != sqlscan.Word {
			if t.Kind == sqlscan.Space || t.Kind == sqlscan.Comment {
				continue
			}
			if first == "" {
				return true // not a command word: a parenthesised SELECT, …
			}
			continue
		}
		switch {
		case first == "":
			first = t.Text
		case second == "":
			second = t.Text
		}
		if sqlscan.EqualFold(t.Text, "concurrently") {
			return false
		}
	}
	for _, w := range [...]string{"copy", "vacuum", "cluster", "reindex", "call", "do", "discard", "checkpoint"} {
		if sqlscan.EqualFold(first, w) {
			return false
		}
	}
	switch {
	case sqlscan.EqualFold(first, "create") || sqlscan.EqualFold(first, "drop") || sqlscan.EqualFold(first, "alter"):
		for _, w := range [...]string{"database", "tablespace", "subscription", "system"} {
			if sqlscan.EqualFold(second, w) {
				return false
			}
		}
	case sqlscan.EqualFold(first, "commit") || sqlscan.EqualFold(first, "rollback"):
		return !sqlscan.EqualFold(second, "prepared")
	case sqlscan.EqualFold(first, "prepare"):
		return !sqlscan.EqualFold(second, "transaction")
	}
	return true
}

// How a switch travels with a request, decided by the request's first
// message.
type carry uint8

const (
	carryPlain    carry = iota // in front of an extended-protocol request
	carryConvert               // in front of a simple query, sent in the extended form
	carrySeparate              // alone, with a Sync, answered before the request goes
	carryNot                   // not with this write
)

// carryMode decides how the switch travels with the write p.
func carryMode(p []byte) carry {
	typ, body, only := firstMessage(p)
	switch typ {
	case 'Q':
		// A simple query cannot follow extended-protocol messages that no
		// Sync has closed (PostgreSQL 18 then fails the next command with
		// "unexpected state STARTED"), so one statement is sent in the
		// extended form instead; several go separately.
		if sql, ok := queryText(typ, body); ok && only && Carriable(sql) && statements(sql) <= 1 {
			return carryConvert
		}
		return carrySeparate
	case 'P':
		if sql, ok := queryText(typ, body); !ok || !Carriable(sql) {
			return carrySeparate
		}
		return carryPlain
	case 'B', 'D', 'C', 'E', 'S', 'H':
		return carryPlain
	case 'F':
		return carrySeparate
	}
	return carryNot // Terminate, copy data: not a request a switch can go with
}

// statements counts the statements of sql that hold more than comments.
func statements(sql string) int {
	n := 0
	sp := sqlscan.NewSplitter(sql)
	for {
		st, ok := sp.Next()
		if !ok {
			return n
		}
		if !st.Empty {
			n++
		}
	}
}
