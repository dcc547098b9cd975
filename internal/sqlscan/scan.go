// Package sqlscan is tenantpath's one SQL lexer. It splits PostgreSQL text
// into tokens the way the server's scanner does for the things that decide
// where a statement ends and what is code and what is data: white space,
// comments (nested block comments included), string constants (plain,
// E'…', U&'…', B'…', X'…', N'…'), quoted identifiers, dollar-quoted bodies
// whose tags may hold any byte ≥ 0x80, parameters, words and semicolons.
//
// It assumes standard_conforming_strings is on (the default since
// PostgreSQL 9.1): a backslash is an escape only inside E'…'.
//
// Nothing allocates: tokens are substrings of the input. Two users build on
// it, the driver's path-change detector and the migrator's statement
// splitter, so they always agree on where statements end.
package sqlscan

import "strings"

// Kind is a token's kind.
type Kind uint8

const (
	Space        Kind = iota + 1 // white space: space, \t, \n, \r, \f, \v
	Comment                      // -- … or /* … */ (Body is the text inside)
	Word                         // a keyword, unquoted identifier or number
	QuotedIdent                  // "…" or U&"…" (Body is the text inside, "" undoubled)
	String                       // '…', E'…', U&'…', B'…', X'…', N'…' (Body is the text inside)
	DollarString                 // $tag$…$tag$ (Body is the text between the tags)
	Param                        // $1, $2, …
	Semicolon                    // ;
	OpenParen                    // (
	CloseParen                   // )
	Other                        // any other single byte: operators, commas, …
)

// Token is one token of the input. Text is the token as written; Body is the
// part between its delimiters for comments, quoted identifiers and strings.
type Token struct {
	Kind Kind
	Text string
	Body string
	// Unicode is set for U&'…' and U&"…", whose escapes can spell any name.
	Unicode bool
	// Unterminated is set when the input ended inside the token.
	Unterminated bool
}

// Scanner yields the tokens of a string, in order: call Next, then read
// Tok, which the next call overwrites. The zero value scans the empty
// string; use [New].
type Scanner struct {
	src string
	pos int
	// Tok is the token Next found. It is kept here, not returned, so that
	// scanning copies no token: this runs on every statement.
	Tok Token
	// SkipNoise makes Next pass over white space and the bytes that would
	// each be an Other token (operators, commas, dots, …) without a token
	// for them: a reader that only wants words, literals, comments,
	// semicolons and parentheses skips most of a statement cheaply.
	SkipNoise bool
}

// New returns a scanner over src.
func New(src string) Scanner { return Scanner{src: src} }

// Pos returns the offset in the input of the next token.
func (s *Scanner) Pos() int { return s.pos }

// Next finds the next token and puts it in Tok; it reports false at the end
// of the input.
func (s *Scanner) Next() bool {
	if s.SkipNoise {
		for s.pos < len(s.src) && noise(s.src, s.pos) {
			s.pos++
		}
	}
	if s.pos >= len(s.src) {
		return false
	}
	s.pos = scanAt(s.src, s.pos, &s.Tok)
	return true
}

// scanAt puts the token that starts at q[i] in t and returns where it ends.
func scanAt(q string, i int, t *Token) int {
	c := q[i]
	switch {
	case isWordStart(c) || isDigit(c):
		return word(q, i, t)
	case IsSpace(c):
		j := i + 1
		for j < len(q) && IsSpace(q[j]) {
			j++
		}
		return t.set(Space, q[i:j], "", j)
	case c == '-' && i+1 < len(q) && q[i+1] == '-':
		j := i + 2
		for j < len(q) && q[j] != '\n' && q[j] != '\r' {
			j++
		}
		return t.set(Comment, q[i:j], q[i+2:j], j)
	case c == '/' && i+1 < len(q) && q[i+1] == '*':
		return blockComment(q, i, t)
	case c == '\'':
		return quoted(q, i, i, '\'', false, String, t)
	case c == '"':
		return quoted(q, i, i, '"', false, QuotedIdent, t)
	case c == '$':
		return dollar(q, i, t)
	case c == ';':
		return t.set(Semicolon, q[i:i+1], "", i+1)
	case c == '(':
		return t.set(OpenParen, q[i:i+1], "", i+1)
	case c == ')':
		return t.set(CloseParen, q[i:i+1], "", i+1)
	}
	return t.set(Other, q[i:i+1], "", i+1)
}

// set fills t with a token that is not Unicode and ends where it should,
// and returns end.
func (t *Token) set(kind Kind, text, body string, end int) int {
	t.Kind, t.Text, t.Body, t.Unicode, t.Unterminated = kind, text, body, false, false
	return end
}

// word scans a keyword, identifier or number, and the string constants
// whose prefix looks like one: E'…', B'…', X'…', N'…', U&'…' and U&"…".
func word(q string, i int, t *Token) int {
	if j := i + 1; j < len(q) {
		switch q[i] {
		case 'E', 'e', 'B', 'b', 'X', 'x', 'N', 'n':
			if q[j] == '\'' {
				escapes := q[i] == 'E' || q[i] == 'e'
				return quoted(q, i, j, '\'', escapes, String, t)
			}
		case 'U', 'u':
			if j+1 < len(q) && q[j] == '&' && (q[j+1] == '\'' || q[j+1] == '"') {
				kind := String
				if q[j+1] == '"' {
					kind = QuotedIdent
				}
				end := quoted(q, i, j+1, q[j+1], false, kind, t)
				t.Unicode = true
				return end
			}
		}
	}
	j := i + 1
	for j < len(q) && isWordCont(q[j]) {
		j++
	}
	return t.set(Word, q[i:j], "", j)
}

// quoted scans a constant opened by the quote at open, whose token starts at
// start (before any prefix). A doubled quote stands for itself; with
// escapes, a backslash escapes the next byte.
func quoted(q string, start, open int, quote byte, escapes bool, kind Kind, t *Token) int {
	j := open + 1
	for j < len(q) {
		if !escapes {
			// The closing quote, found a word at a time.
			k := strings.IndexByte(q[j:], quote)
			if k < 0 {
				break
			}
			j += k
		}
		switch {
		case escapes && q[j] == '\\':
			j += 2
			continue
		case q[j] == quote:
			if j+1 < len(q) && q[j+1] == quote {
				j += 2
				continue
			}
			return t.set(kind, q[start:j+1], q[open+1:j], j+1)
		}
		j++
	}
	end := t.set(kind, q[start:], q[min(open+1, len(q)):], len(q))
	t.Unterminated = true
	return end
}

func blockComment(q string, i int, t *Token) int {
	j, depth := i+2, 1
	for j < len(q) {
		switch {
		case q[j] == '/' && j+1 < len(q) && q[j+1] == '*':
			depth++
			j += 2
		case q[j] == '*' && j+1 < len(q) && q[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return t.set(Comment, q[i:j], q[i+2:j-2], j)
			}
		default:
			j++
		}
	}
	end := t.set(Comment, q[i:], q[i+2:], len(q))
	t.Unterminated = true
	return end
}

// dollar scans what starts with '$': a dollar-quoted body, a parameter, or
// a lone '$'.
func dollar(q string, i int, t *Token) int {
	j := i + 1
	if j < len(q) && isDigit(q[j]) {
		for j < len(q) && isDigit(q[j]) {
			j++
		}
		return t.set(Param, q[i:j], "", j)
	}
	for j < len(q) && q[j] != '$' {
		if !(isWordStart(q[j]) || (j > i+1 && isDigit(q[j]))) {
			return t.set(Other, q[i:i+1], "", i+1)
		}
		j++
	}
	if j >= len(q) {
		return t.set(Other, q[i:i+1], "", i+1)
	}
	tag := q[i : j+1]
	for k := j + 1; k+len(tag) <= len(q); k++ {
		if q[k] == '$' && q[k:k+len(tag)] == tag {
			return t.set(DollarString, q[i:k+len(tag)], q[j+1:k], k+len(tag))
		}
	}
	end := t.set(DollarString, q[i:], q[j+1:], len(q))
	t.Unterminated = true
	return end
}

// noise reports whether q[i] is white space or a byte that is an Other
// token on its own.
func noise(q string, i int) bool {
	c := q[i]
	switch {
	case IsSpace(c):
		return true
	case isWordStart(c) || isDigit(c):
		return false
	}
	switch c {
	case '\'', '"', '$', ';', '(', ')':
		return false
	case '-', '/': // "--" and "/*" open comments
		return i+1 >= len(q) || q[i+1] != c && !(c == '/' && q[i+1] == '*')
	}
	return true
}

// IsSpace reports whether c is white space to PostgreSQL's scanner. Other
// characters, Unicode spaces included, are not.
func IsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isWordStart: PostgreSQL's ident_start, [A-Za-z\200-\377_].
func isWordStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80
}

// isWordCont: ident_cont, which also takes digits and '$'; numbers with a
// decimal point or exponent are split into several words, which is enough
// for finding statement boundaries.
func isWordCont(c byte) bool { return isWordStart(c) || isDigit(c) || c == '$' }

// EqualFold reports whether word equals lower, a lowercase ASCII keyword,
// ignoring ASCII case. It allocates nothing.
func EqualFold(word, lower string) bool {
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
