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

// Scanner yields the tokens of a string, in order. The zero value scans the
// empty string; use [New].
type Scanner struct {
	src string
	pos int
}

// New returns a scanner over src.
func New(src string) Scanner { return Scanner{src: src} }

// Pos returns the offset in the input of the next token.
func (s *Scanner) Pos() int { return s.pos }

// Next returns the next token, and false at the end of the input.
func (s *Scanner) Next() (Token, bool) {
	q, i := s.src, s.pos
	if i >= len(q) {
		return Token{}, false
	}
	t, end := scanAt(q, i)
	s.pos = end
	return t, true
}

func scanAt(q string, i int) (Token, int) {
	c := q[i]
	switch {
	case IsSpace(c):
		j := i + 1
		for j < len(q) && IsSpace(q[j]) {
			j++
		}
		return Token{Kind: Space, Text: q[i:j]}, j
	case c == '-' && i+1 < len(q) && q[i+1] == '-':
		j := i + 2
		for j < len(q) && q[j] != '\n' && q[j] != '\r' {
			j++
		}
		return Token{Kind: Comment, Text: q[i:j], Body: q[i+2 : j]}, j
	case c == '/' && i+1 < len(q) && q[i+1] == '*':
		return blockComment(q, i)
	case c == '\'':
		return quoted(q, i, i, '\'', false, String)
	case c == '"':
		return quoted(q, i, i, '"', false, QuotedIdent)
	case c == '$':
		return dollar(q, i)
	case c == ';':
		return Token{Kind: Semicolon, Text: q[i : i+1]}, i + 1
	case c == '(':
		return Token{Kind: OpenParen, Text: q[i : i+1]}, i + 1
	case c == ')':
		return Token{Kind: CloseParen, Text: q[i : i+1]}, i + 1
	case isWordStart(c) || isDigit(c):
		return word(q, i)
	}
	return Token{Kind: Other, Text: q[i : i+1]}, i + 1
}

// word scans a keyword, identifier or number, and the string constants
// whose prefix looks like one: E'…', B'…', X'…', N'…', U&'…' and U&"…".
func word(q string, i int) (Token, int) {
	if j := i + 1; j < len(q) {
		switch q[i] {
		case 'E', 'e', 'B', 'b', 'X', 'x', 'N', 'n':
			if q[j] == '\'' {
				escapes := q[i] == 'E' || q[i] == 'e'
				return quoted(q, i, j, '\'', escapes, String)
			}
		case 'U', 'u':
			if j+1 < len(q) && q[j] == '&' && (q[j+1] == '\'' || q[j+1] == '"') {
				kind := String
				if q[j+1] == '"' {
					kind = QuotedIdent
				}
				t, end := quoted(q, i, j+1, q[j+1], false, kind)
				t.Unicode = true
				return t, end
			}
		}
	}
	j := i + 1
	for j < len(q) && isWordCont(q[j]) {
		j++
	}
	return Token{Kind: Word, Text: q[i:j]}, j
}

// quoted scans a constant opened by the quote at open, whose token starts at
// start (before any prefix). A doubled quote stands for itself; with
// escapes, a backslash escapes the next byte.
func quoted(q string, start, open int, quote byte, escapes bool, kind Kind) (Token, int) {
	j := open + 1
	for j < len(q) {
		switch {
		case escapes && q[j] == '\\':
			j += 2
			continue
		case q[j] == quote:
			if j+1 < len(q) && q[j+1] == quote {
				j += 2
				continue
			}
			return Token{Kind: kind, Text: q[start : j+1], Body: q[open+1 : j]}, j + 1
		}
		j++
	}
	return Token{Kind: kind, Text: q[start:], Body: q[min(open+1, len(q)):], Unterminated: true}, len(q)
}

func blockComment(q string, i int) (Token, int) {
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
				return Token{Kind: Comment, Text: q[i:j], Body: q[i+2 : j-2]}, j
			}
		default:
			j++
		}
	}
	return Token{Kind: Comment, Text: q[i:], Body: q[i+2:], Unterminated: true}, len(q)
}

// dollar scans what starts with '$': a dollar-quoted body, a parameter, or
// a lone '$'.
func dollar(q string, i int) (Token, int) {
	j := i + 1
	if j < len(q) && isDigit(q[j]) {
		for j < len(q) && isDigit(q[j]) {
			j++
		}
		return Token{Kind: Param, Text: q[i:j]}, j
	}
	for j < len(q) && q[j] != '$' {
		if !(isWordStart(q[j]) || (j > i+1 && isDigit(q[j]))) {
			return Token{Kind: Other, Text: q[i : i+1]}, i + 1
		}
		j++
	}
	if j >= len(q) {
		return Token{Kind: Other, Text: q[i : i+1]}, i + 1
	}
	tag := q[i : j+1]
	for k := j + 1; k+len(tag) <= len(q); k++ {
		if q[k] == '$' && q[k:k+len(tag)] == tag {
			return Token{Kind: DollarString, Text: q[i : k+len(tag)], Body: q[j+1 : k]}, k + len(tag)
		}
	}
	return Token{Kind: DollarString, Text: q[i:], Body: q[j+1:], Unterminated: true}, len(q)
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
