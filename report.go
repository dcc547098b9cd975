package tenantpath

import "context"

// The server's own word. PostgreSQL 18 reports search_path to the client
// (ParameterStatus) whenever a statement ends with another value than it
// started with, whatever changed it: SET, set_config inside a function or a
// trigger, RESET, ROLLBACK, ROLLBACK TO SAVEPOINT. Where the connection can
// read those reports (internal/wire), they are compared with the path the
// driver believes in before every statement, and a mismatch wins: outside a
// transaction the path becomes unknown (the next call switches), inside
// one tenant calls are refused. Older servers send no report.
//
// Behind a pooler in transaction mode the report describes whichever server
// connection last answered, so under TransactionPooling it is not used.

// checkReport compares the server's latest report with the belief.
func (c *conn) checkReport(ctx context.Context) {
	reported, n := c.wire.Reported()
	c.reportsSeen = n
	if c.cfg.txPooling {
		return
	}
	believed := c.on
	if c.tx != nil {
		if c.tx.pathInDoubt || c.tx.ended {
			return // the caller's own SQL moved it; admit sets it again or refuses
		}
		believed = c.tx.scope
	}
	if c.reportFits(believed, reported) {
		return
	}
	c.doubted(ctx, believed, "the server reports search_path "+reported)
	if c.tx != nil {
		c.tx.doubt = "the server reports search_path " + reported
		c.tx.touched = true
		return
	}
	c.on = Scope{Kind: pathUnknown}
}

// reportFits reports whether reported, the server's rendering of
// search_path, is the path of s.
func (c *conn) reportFits(s Scope, reported string) bool {
	shared := c.cfg.naming.SharedSchemas()
	switch s.Kind {
	case ScopeTenant:
		schema, err := c.cfg.naming.Schema(s.Tenant)
		return err == nil && pathIs(reported, schema, shared)
	case ScopeShared:
		if len(shared) == 0 {
			return pathIs(reported, "pg_temp", nil) // joinPath would add a second
		}
		return pathIs(reported, shared[0], shared[1:])
	case ScopeBase:
		return reported == c.basePath
	}
	return true // unknown, or the caller's own: nothing to compare with
}

// pathIs reports whether reported names first, then rest, then pg_temp, as
// joinPath builds them; pg_temp alone when first is pg_temp and rest is
// nil. The server renders each name as an identifier, quoted only when it
// must be (`org_10, public, pg_temp`), so names are compared one by one
// after unquoting. It allocates nothing.
func pathIs(reported, first string, rest []string) bool {
	p := reported
	name, ok := nextName(&p)
	if !ok || name.differs(first) {
		return false
	}
	for _, want := range rest {
		if name, ok = nextName(&p); !ok || name.differs(want) {
			return false
		}
	}
	if !(first == "pg_temp" && rest == nil) {
		if name, ok = nextName(&p); !ok || name.differs("pg_temp") {
			return false
		}
	}
	_, more := nextName(&p)
	return !more
}

// pathName is one element of a rendered search_path, as written.
type pathName struct {
	text   string
	quoted bool
}

// differs compares the element with a name, undoing "" inside quotes.
func (n pathName) differs(want string) bool {
	if !n.quoted {
		return n.text != want
	}
	i := 0
	for j := 0; j < len(n.text); j++ {
		if i >= len(want) || n.text[j] != want[i] {
			return true
		}
		if n.text[j] == '"' {
			j++ // the second quote of a doubled one
		}
		i++
	}
	return i != len(want)
}

// nextName takes the next comma-separated element from *p.
func nextName(p *string) (pathName, bool) {
	s := *p
	for len(s) > 0 && (s[0] == ' ' || s[0] == ',') {
		s = s[1:]
	}
	if s == "" {
		*p = s
		return pathName{}, false
	}
	if s[0] == '"' {
		for j := 1; j < len(s); j++ {
			if s[j] != '"' {
				continue
			}
			if j+1 < len(s) && s[j+1] == '"' {
				j++
				continue
			}
			*p = s[j+1:]
			return pathName{text: s[1:j], quoted: true}, true
		}
		*p = ""
		return pathName{text: s[1:], quoted: true}, true
	}
	j := 0
	for j < len(s) && s[j] != ',' {
		j++
	}
	name := s[:j]
	for len(name) > 0 && name[len(name)-1] == ' ' {
		name = name[:len(name)-1]
	}
	*p = s[j:]
	return pathName{text: name}, true
}
