package tenantpath

import "github.com/tenantpath/tenantpath/internal/sqlscan"

// sqlEffect says what the caller's SQL may do to the session's path.
type sqlEffect uint8

const (
	// effectPath: it may change the path or the role: SET/RESET
	// search_path, set_config, DISCARD, SET ROLE, SET SESSION
	// AUTHORIZATION ("$user" on a base path follows the role), or a
	// Unicode-escaped identifier or string that could spell any of them.
	effectPath sqlEffect = 1 << iota
	// effectEndTx: it may end a transaction begun by hand, committing or
	// undoing whatever was set inside it: COMMIT (which rolls back an
	// aborted transaction), END, ROLLBACK, ABORT, PREPARE TRANSACTION.
	effectEndTx
	// effectSavepointRollback: ROLLBACK TO SAVEPOINT. It undoes what was
	// set after the savepoint: harmless inside a transaction begun by the
	// driver (the path was set before BEGIN), not in one begun by hand.
	effectSavepointRollback
	// effectBodyEndTx: a word that ends a transaction, inside a comment, a
	// literal or a dollar-quoted body (a DO block's END). Outside a
	// transaction block such a body may commit; inside one it cannot
	// (PostgreSQL refuses transaction control in a DO block or a
	// procedure called in a transaction block), so it does not end a
	// driver transaction.
	effectBodyEndTx
)

// sqlEffects reports what query may do to the path. It is deliberately
// conservative: it looks at words, not grammar, and it also reads the words
// inside comments, string literals and dollar-quoted bodies (a DO block or
// an EXECUTE can change the path too), so a column named "reset" also
// counts. A false alarm costs one extra switch later; a miss could run a
// statement under a stale path. Comments and literals do not count as the
// start of a statement or as the words before one, so `/* app */ SET ROLE x`
// and `SET /* x */ ROLE x` are seen. It allocates nothing, because it runs on
// every statement.
func sqlEffects(query string) sqlEffect {
	var s scanState
	s.atStart = true
	s.scan(query)
	return s.finish()
}

type scanState struct {
	effect   sqlEffect
	bound    sqlscan.Boundary
	atStart  bool // the next word begins a statement
	prepare  bool // the word before the current one was PREPARE
	setSeen  bool // the statement has a SET before the current word
	rollback bool // a ROLLBACK whose TO may still follow
}

func (s *scanState) scan(q string) {
	sc := sqlscan.New(q)
	sc.SkipNoise = true
	for sc.Next() {
		t := &sc.Tok
		switch t.Kind {
		case sqlscan.Word:
			s.word(t.Text)
		case sqlscan.Comment, sqlscan.String, sqlscan.DollarString:
			// Their words count, as a script of their own: a DO block or
			// an EXECUTE can run any of them.
			s.inner(t.Body)
		case sqlscan.QuotedIdent:
			// A quoted identifier is a word of the statement:
			// SET "search_path" TO … must be seen.
			s.word(t.Body)
		case sqlscan.Semicolon:
			// Every semicolon may start a statement for the words that count
			// only there, even where psql's rules (and the statement
			// splitter) see none: a miss could leak, a false alarm cannot.
			s.atStart = true
		}
		if t.Unicode {
			s.effect |= effectPath // U&'…' or U&"…": escapes could spell anything
		}
		switch t.Kind {
		case sqlscan.Word, sqlscan.Semicolon, sqlscan.OpenParen, sqlscan.CloseParen:
			if s.bound.Ends(t) { // the other kinds never move it
				s.endStatement()
			}
		}
	}
}

// inner scans a comment or literal as a script of its own: its words count,
// but it does not start or continue the surrounding statement.
func (s *scanState) inner(text string) {
	var in scanState
	in.atStart = true
	in.scan(text)
	e := in.finish()
	if e&effectEndTx != 0 {
		e = e&^effectEndTx | effectBodyEndTx
	}
	s.effect |= e
}

func (s *scanState) finish() sqlEffect {
	s.endStatement()
	return s.effect
}

func (s *scanState) endStatement() {
	if s.rollback {
		s.effect |= effectEndTx
	}
	*s = scanState{effect: s.effect, atStart: true}
}

// word takes one word of a statement. Words are told apart by length first:
// this runs on every word of every statement.
func (s *scanState) word(w string) {
	first, prepare := s.atStart, s.prepare
	s.atStart, s.prepare = false, false
	if s.rollback {
		s.rollback = false
		switch {
		case equalFold(w, "work") || equalFold(w, "transaction"):
			s.rollback = true // ROLLBACK [WORK | TRANSACTION] [TO …]
			return
		case equalFold(w, "to"):
			s.effect |= effectSavepointRollback
		default:
			s.effect |= effectEndTx
		}
	}
	switch len(w) {
	case 3:
		switch {
		case equalFold(w, "set"):
			s.setSeen = true
		case first && equalFold(w, "end"):
			s.effect |= effectEndTx
		}
	case 4: // SET [SESSION | LOCAL] ROLE, and, conservatively, any SET … role
		if s.setSeen && equalFold(w, "role") {
			s.effect |= effectPath
		}
	case 5:
		switch {
		case equalFold(w, "reset"):
			s.effect |= effectPath
		case equalFold(w, "abort"):
			s.effect |= effectEndTx
		}
	case 6:
		switch {
		case equalFold(w, "commit"):
			s.effect |= effectEndTx
		case s.setSeen && equalFold(w, "schema"):
			// SET SCHEMA 'x' is SET search_path; ALTER … SET SCHEMA is a
			// false alarm.
			s.effect |= effectPath
		}
	case 7:
		switch {
		case equalFold(w, "discard"):
			s.effect |= effectPath
		case first && equalFold(w, "execute"):
			// An SQL-level prepared statement may hold anything.
			s.effect |= effectPath
		case equalFold(w, "prepare"):
			s.prepare = true
		}
	case 8:
		if equalFold(w, "rollback") {
			s.rollback = true
		}
	case 10:
		if equalFold(w, "set_config") {
			s.effect |= effectPath
		}
	case 11:
		switch {
		case equalFold(w, "search_path"), equalFold(w, "pg_settings"):
			s.effect |= effectPath
		case prepare && equalFold(w, "transaction"):
			s.effect |= effectEndTx
		}
	case 13: // SET SESSION AUTHORIZATION, and, conservatively, any AUTHORIZATION
		if equalFold(w, "authorization") {
			s.effect |= effectPath
		}
	case 21:
		if equalFold(w, "session_authorization") {
			s.effect |= effectPath
		}
	}
}

// equalFold compares an ASCII word with a lowercase keyword.
func equalFold(word, lower string) bool { return sqlscan.EqualFold(word, lower) }
