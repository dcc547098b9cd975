package migrator

import (
	"strings"

	"github.com/tenantpath/tenantpath/internal/sqlscan"
)

// statements returns the statements of a script in order, each without its
// semicolon and trimmed of white space, leaving out those that hold only
// white space and comments. The boundaries are psql's (the package's one
// lexer, internal/sqlscan): a semicolon inside a string, a quoted
// identifier, a dollar-quoted body (whatever bytes its tag holds), a
// comment, parentheses or a BEGIN ATOMIC body does not end a statement.
//
// Non-transactional migrations need it: the server runs a multi-statement
// query as one implicit transaction, in which CREATE INDEX CONCURRENTLY
// refuses to run, so each statement has to travel on its own.
func statements(script string) []string {
	var out []string
	sp := sqlscan.NewSplitter(script)
	for {
		st, ok := sp.Next()
		if !ok {
			return out
		}
		if !st.Empty {
			out = append(out, trimSpace(st.Text))
		}
	}
}

// trimSpace trims what PostgreSQL's scanner counts as white space, and
// nothing else: a Unicode space is the server's to judge.
func trimSpace(s string) string {
	for len(s) > 0 && sqlscan.IsSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && sqlscan.IsSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// txControlWords are the first words of the statements that begin or end a
// transaction. ROLLBACK TO SAVEPOINT is among them: savepoints need a
// transaction block, which a migration sent as one script is not.
var txControlWords = []string{"begin", "start", "commit", "end", "rollback", "abort"}

// txControl finds the first top-level statement of script that begins or
// ends a transaction (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK,
// ABORT, PREPARE TRANSACTION). It returns the statement's leading words as
// written, e.g. "COMMIT" or "PREPARE TRANSACTION", and the byte offset of
// its first word; ok is false when there is none. BEGIN ATOMIC bodies, DO
// blocks and function bodies are not top level, so they are never found.
func txControl(script string) (words string, at int, ok bool) {
	sp := sqlscan.NewSplitter(script)
	for {
		st, more := sp.Next()
		if !more {
			return "", 0, false
		}
		first, second, offset := leadingWords(st.Text)
		if isTxControl(first, second) {
			words = first
			if sqlscan.EqualFold(first, "prepare") {
				words += " " + second
			}
			return words, st.Start + offset, true
		}
	}
}

func isTxControl(first, second string) bool {
	for _, w := range txControlWords {
		if sqlscan.EqualFold(first, w) {
			return true
		}
	}
	return sqlscan.EqualFold(first, "prepare") && sqlscan.EqualFold(second, "transaction")
}

// leadingWords returns the first two words of a statement, skipping white
// space and comments, and the offset of the first; a word is "" where the
// statement has something else.
func leadingWords(stmt string) (first, second string, at int) {
	sc := sqlscan.New(stmt)
	var words [2]string
	for n := 0; n < len(words); {
		pos := sc.Pos()
		ok := sc.Next()
		t := &sc.Tok
		if !ok || (t.Kind != sqlscan.Space && t.Kind != sqlscan.Comment && t.Kind != sqlscan.Word) {
			break
		}
		if t.Kind == sqlscan.Word {
			if n == 0 {
				at = pos
			}
			words[n] = t.Text
			n++
		}
	}
	return words[0], words[1], at
}

// lineOf returns the 1-based line of byte offset at in s.
func lineOf(s string, at int) int { return 1 + strings.Count(s[:at], "\n") }
