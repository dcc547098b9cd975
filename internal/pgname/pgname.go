// Package pgname holds the rules every PostgreSQL name tenantpath sends
// must meet, shared by the driver and the migrator so they never disagree
// about a name.
package pgname

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxBytes is PostgreSQL's limit on a name (NAMEDATALEN-1). Longer names
// are truncated by the server without an error.
const MaxBytes = 63

// Problem returns why name cannot be a PostgreSQL identifier, or "".
func Problem(name string) string {
	switch {
	case name == "":
		return "empty name"
	case len(name) > MaxBytes:
		return fmt.Sprintf("%d bytes long; PostgreSQL names hold at most %d bytes", len(name), MaxBytes)
	case strings.IndexByte(name, 0) >= 0:
		return "contains NUL"
	case !utf8.ValidString(name):
		return "not valid UTF-8"
	}
	return ""
}

// reservedRoles are names that mean something else where a role is set:
// set_config('role', 'none') returns to the login role, and the others are
// keywords or pseudo-roles.
var reservedRoles = map[string]bool{
	"public": true, "none": true, "current_user": true, "current_role": true,
	"session_user": true, "user": true,
}

// RoleProblem returns why name cannot be a tenant's role, or "".
func RoleProblem(name string) string {
	if reason := Problem(name); reason != "" {
		return reason
	}
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "pg_"):
		return `names starting with "pg_" are reserved for the system`
	case reservedRoles[lower]:
		return "a reserved role name"
	}
	return ""
}
