package tenantpath

// mayChangePath reports whether the caller's SQL might change the session's
// search_path, or undo a change we made: SET/RESET search_path, set_config,
// DISCARD, SET ROLE and SET SESSION AUTHORIZATION ("$user" on a base path
// follows the role), and ROLLBACK or ABORT (a transaction begun by hand with
// plain SQL could otherwise undo a switch made inside it).
//
// It is deliberately conservative: it looks at words, not grammar, so a
// column named "reset" also counts. A false positive costs one extra switch
// later; a miss could run a statement under a stale path. It allocates
// nothing, because it runs on every statement.
func mayChangePath(query string) bool {
	var prev1, prev2 string // the two words before the current one
	var setStarts bool      // the statement began with SET
	atStart := true         // the next word begins a statement
	for i := 0; i < len(query); {
		c := query[i]
		if !isWordByte(c) {
			if c == ';' {
				atStart = true
			}
			i++
			continue
		}
		j := i
		for j < len(query) && isWordByte(query[j]) {
			j++
		}
		word := query[i:j]
		i = j
		if atStart {
			setStarts = equalFold(word, "set")
			atStart = false
		}
		switch len(word) {
		case 4: // SET [SESSION | LOCAL] ROLE, but not UPDATE … SET role = …
			if setStarts && equalFold(word, "role") && (equalFold(prev1, "set") ||
				(equalFold(prev2, "set") && (equalFold(prev1, "session") || equalFold(prev1, "local")))) {
				return true
			}
		case 5:
			if equalFold(word, "reset") || equalFold(word, "abort") {
				return true
			}
		case 7:
			if equalFold(word, "discard") {
				return true
			}
		case 8:
			if equalFold(word, "rollback") {
				return true
			}
		case 10:
			if equalFold(word, "set_config") {
				return true
			}
		case 11:
			if equalFold(word, "search_path") {
				return true
			}
		case 13: // SET SESSION AUTHORIZATION
			if equalFold(word, "authorization") && equalFold(prev1, "session") {
				return true
			}
		case 21:
			if equalFold(word, "session_authorization") {
				return true
			}
		}
		prev2, prev1 = prev1, word
	}
	return false
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
