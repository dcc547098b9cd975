package migrator

import "strings"

// splitStatements splits a SQL script into statements at top-level
// semicolons. It understands '…' and E'…' strings, "…" identifiers,
// $tag$…$tag$ bodies, -- line comments and nested /* */ comments, so a
// semicolon inside any of them does not split. Statements that hold only
// whitespace and comments are dropped.
//
// It is only used for non-transactional migrations: the server runs a
// multi-statement simple query as one implicit transaction, and
// CREATE INDEX CONCURRENTLY refuses to run inside one, so each statement has
// to travel on its own.
func splitStatements(script string) []string {
	var out []string
	start := 0
	meaningful := false
	i := 0
	n := len(script)
	flush := func(end int) {
		if meaningful {
			out = append(out, strings.Trim(script[start:end], sqlSpace))
		}
		start = end + 1
		meaningful = false
	}
	for i < n {
		c := script[i]
		switch {
		case c == '-' && i+1 < n && script[i+1] == '-':
			for i < n && script[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < n && script[i+1] == '*':
			depth := 0
			for i < n {
				if script[i] == '/' && i+1 < n && script[i+1] == '*' {
					depth++
					i += 2
					continue
				}
				if script[i] == '*' && i+1 < n && script[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
					continue
				}
				i++
			}
			continue
		case c == '\'':
			meaningful = true
			escapes := i > 0 && (script[i-1] == 'E' || script[i-1] == 'e')
			i++
			for i < n {
				if escapes && script[i] == '\\' {
					i += 2
					continue
				}
				if script[i] == '\'' {
					if i+1 < n && script[i+1] == '\'' {
						i += 2
						continue
					}
					break
				}
				i++
			}
			i++
			continue
		case c == '"':
			meaningful = true
			i++
			for i < n {
				if script[i] == '"' {
					if i+1 < n && script[i+1] == '"' {
						i += 2
						continue
					}
					break
				}
				i++
			}
			i++
			continue
		case c == '$':
			if tag, ok := dollarTag(script[i:]); ok {
				meaningful = true
				end := strings.Index(script[i+len(tag):], tag)
				if end < 0 {
					i = n
				} else {
					i += len(tag) + end + len(tag)
				}
				continue
			}
		case c == ';':
			flush(i)
			i++
			continue
		case strings.IndexByte(sqlSpace, c) >= 0:
			i++
			continue
		}
		meaningful = true
		i++
	}
	flush(n)
	return out
}

// sqlSpace is what PostgreSQL's scanner skips as white space. Other
// characters, Unicode spaces included, are kept: the server will judge them.
const sqlSpace = " \t\n\r\f\v"

// dollarTag returns the opening "$tag$" at the start of s, if there is one.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[:j+1], true
		}
		if !(c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (j > 1 && '0' <= c && c <= '9')) {
			return "", false
		}
	}
	return "", false
}
