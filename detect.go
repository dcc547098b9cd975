package tenantpath

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
	atStart  bool   // the next word begins a statement
	prev     string // the word before the current one, in this statement
	setSeen  bool   // the statement has a SET before the current word
	rollback bool   // a ROLLBACK whose TO may still follow
}

func (s *scanState) scan(q string) {
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ';':
			s.endStatement()
			i++
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := i + 2
			for j < len(q) && q[j] != '\n' {
				j++
			}
			s.inner(q[i+2 : j])
			i = j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j, depth := i+2, 1
			for j < len(q) && depth > 0 {
				switch {
				case q[j] == '/' && j+1 < len(q) && q[j+1] == '*':
					depth++
					j += 2
				case q[j] == '*' && j+1 < len(q) && q[j+1] == '/':
					depth--
					j += 2
				default:
					j++
				}
			}
			s.inner(q[i+2 : j])
			i = j
		case c == '\'':
			escapes := i > 0 && (q[i-1] == 'E' || q[i-1] == 'e')
			j := i + 1
			for j < len(q) {
				if escapes && q[j] == '\\' {
					j += 2
					continue
				}
				if q[j] == '\'' {
					if j+1 < len(q) && q[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			s.inner(q[i+1 : min(j, len(q))])
			i = j + 1
		case c == '"':
			// A quoted identifier is a word of the statement:
			// SET "search_path" TO … must be seen.
			j := i + 1
			for j < len(q) {
				if q[j] == '"' {
					if j+1 < len(q) && q[j+1] == '"' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			s.word(q[i+1 : min(j, len(q))])
			i = j + 1
		case c == '$':
			if end, body, ok := dollarQuoted(q[i:]); ok {
				s.inner(body)
				i += end
				continue
			}
			i++
		case isWordByte(c):
			j := i
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			if (j == i+1 && (c == 'U' || c == 'u')) && j < len(q) && q[j] == '&' {
				s.effect |= effectPath // U&'…' or U&"…": escapes could spell anything
			}
			s.word(q[i:j])
			i = j
		default:
			i++
		}
	}
}

// inner scans a comment or literal as a script of its own: its words count,
// but it does not start or continue the surrounding statement.
func (s *scanState) inner(text string) {
	var in scanState
	in.atStart = true
	in.scan(text)
	s.effect |= in.finish()
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

func (s *scanState) word(w string) {
	first := s.atStart
	s.atStart = false
	if s.rollback {
		switch {
		case equalFold(w, "work") || equalFold(w, "transaction"):
			return // ROLLBACK [WORK | TRANSACTION] [TO …]
		case equalFold(w, "to"):
			s.effect |= effectSavepointRollback
		default:
			s.effect |= effectEndTx
		}
		s.rollback = false
	}
	switch len(w) {
	case 3:
		if equalFold(w, "end") && first {
			s.effect |= effectEndTx
		}
		if equalFold(w, "set") {
			s.setSeen = true
		}
	case 4: // SET [SESSION | LOCAL] ROLE, and, conservatively, any SET … role
		if equalFold(w, "role") && s.setSeen {
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
		if equalFold(w, "commit") {
			s.effect |= effectEndTx
		}
	case 7:
		if equalFold(w, "discard") {
			s.effect |= effectPath
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
		case equalFold(w, "search_path"):
			s.effect |= effectPath
		case equalFold(w, "transaction") && equalFold(s.prev, "prepare"):
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
	s.prev = w
}

// dollarQuoted recognises $tag$…$tag$ at the start of q and returns the
// length of the whole and its body. A '$' that does not open one (a
// parameter such as $1) is not a quote.
func dollarQuoted(q string) (end int, body string, ok bool) {
	j := 1
	for j < len(q) && q[j] != '$' {
		c := q[j]
		if !(c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80 || (j > 1 && '0' <= c && c <= '9')) {
			return 0, "", false
		}
		j++
	}
	if j >= len(q) {
		return 0, "", false
	}
	tag := q[:j+1]
	for k := j + 1; k+len(tag) <= len(q); k++ {
		if q[k] == '$' && q[k:k+len(tag)] == tag {
			return k + len(tag), q[j+1 : k], true
		}
	}
	return len(q), q[j+1:], true // unterminated: the rest is the body
}

func isWordByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c >= 0x80
}

// equalFold compares an ASCII word with a lowercase keyword.
func equalFold(word, lower string) bool {
	if len(word) != len(lower) {
		return false
	}
	for i := 0; i < len(word); i++ {
		c := word[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
