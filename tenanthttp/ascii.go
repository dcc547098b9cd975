package tenanthttp

import "strings"

// The helpers below look at bytes, never at Unicode: a resolver trims and
// folds only what its documentation names, so a look-alike such as U+212A
// (KELVIN SIGN) or U+00A0 (NO-BREAK SPACE) reaches the naming unchanged and
// is refused there, instead of being turned into another tenant's id.

// asciiLower maps 'A'-'Z' to 'a'-'z' and leaves every other byte alone. It
// returns s itself when there is nothing to change.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// trimOWS removes leading and trailing spaces and tabs, the only optional
// whitespace HTTP allows around a header value (RFC 9110, section 5.6.3).
func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

// isASCII reports whether every byte of s is below 0x80.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 9110 token, as header names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
