package tenanthttp

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/tenantpath/tenantpath"
)

// DefaultHeader is the header [Header] reads when given no name.
const DefaultHeader = "X-Tenant-ID"

// A Resolver finds the tenant a request names. Build one with [Header],
// [Subdomain], [PathPrefix] or [Func]; the zero Resolver is a configuration
// error. Resolvers are values, safe for concurrent use, and may be shared
// between middlewares.
//
// A resolver that finds nothing lets the next one try; the first that finds
// a tenant wins. A resolver does not validate the name it finds: the
// middleware does, with its [tenantpath.Naming], whichever resolver found it.
type Resolver struct {
	source string // for messages, e.g. `header "X-Tenant-Id"`
	// resolve returns the tenant, the request the handler should see, and
	// whether the request names a tenant this resolver's way.
	resolve func(r *http.Request) (tenant string, next *http.Request, found bool, err error)
	err     error // configuration error, reported by New
}

// String describes the resolver, e.g. `subdomain of "example.com"`.
func (rv Resolver) String() string {
	if rv.source == "" {
		return "zero Resolver"
	}
	return rv.source
}

// Header resolves the tenant from a request header, by default
// [DefaultHeader] (X-Tenant-ID) when name is "". A missing or empty header
// finds nothing. A request that carries the header more than once with
// different values is refused with [ErrAmbiguousTenant]. Leading and
// trailing spaces are trimmed; nothing else is changed (case included: the
// naming's validation refuses upper case by default).
//
// Use it when a trusted proxy or an internal client sets the header. For
// browser traffic, prefer a resolver the user cannot set freely, or check
// that the authenticated user belongs to the tenant in the handler.
func Header(name string) Resolver {
	if name == "" {
		name = DefaultHeader
	}
	canon := http.CanonicalHeaderKey(name)
	rv := Resolver{source: fmt.Sprintf("header %q", canon)}
	if !isToken(name) {
		rv.err = fmt.Errorf("tenanthttp: Header: %q is not a valid header name", name)
		return rv
	}
	rv.resolve = func(r *http.Request) (string, *http.Request, bool, error) {
		var tenant string
		for _, v := range r.Header.Values(canon) {
			v = strings.TrimSpace(v)
			switch {
			case v == "" || v == tenant:
			case tenant == "":
				tenant = v
			default:
				return "", r, false, fmt.Errorf("%w: %q and %q", ErrAmbiguousTenant, tenant, v)
			}
		}
		return tenant, r, tenant != "", nil
	}
	return rv
}

// Subdomain resolves the tenant from the first label of the request's host
// under baseDomain: with base "example.com", "acme.example.com" names tenant
// "acme". Hosts are case-insensitive, so the label is lowercased; the port
// and a trailing dot are ignored. The base domain itself, hosts outside it,
// hosts more than one label below it ("a.b.example.com") and the excluded
// labels (such as "www", "api" or "admin") find nothing.
//
// baseDomain must be a host name without scheme, port or path
// ("example.com", "localhost"); a leading dot is ignored.
func Subdomain(baseDomain string, exclude ...string) Resolver {
	base := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(baseDomain, "."), "."))
	rv := Resolver{source: fmt.Sprintf("subdomain of %q", base)}
	if reason := hostProblem(base); reason != "" {
		rv.err = fmt.Errorf("tenanthttp: Subdomain: base domain %q: %s", baseDomain, reason)
		return rv
	}
	skip := make(map[string]bool, len(exclude))
	for _, e := range exclude {
		l := strings.ToLower(e)
		if l == "" || strings.ContainsAny(l, ". :/") {
			rv.err = fmt.Errorf("tenanthttp: Subdomain: excluded label %q is not a single host label", e)
			return rv
		}
		skip[l] = true
	}
	suffix := "." + base
	rv.resolve = func(r *http.Request) (string, *http.Request, bool, error) {
		host := strings.ToLower(stripPort(r.Host))
		host = strings.TrimSuffix(host, ".")
		label, ok := strings.CutSuffix(host, suffix)
		if !ok || label == "" || strings.Contains(label, ".") || skip[label] {
			return "", r, false, nil
		}
		return label, r, true, nil
	}
	return rv
}

// PathMode says whether [PathPrefix] removes what it matched from the path
// the handler sees.
type PathMode uint8

const (
	// StripPrefix: the handler sees the path after the tenant segment, so
	// "/t/acme/notes" is served as "/notes", as [http.StripPrefix] would.
	StripPrefix PathMode = iota
	// KeepPrefix: the handler sees the path unchanged.
	KeepPrefix
)

// PathPrefix resolves the tenant from the path segment that follows prefix:
// with prefix "/t", "/t/acme/notes" names tenant "acme". The segment is
// matched in the escaped path and then unescaped, so "/t/a%2Fb/notes"
// names "a/b" (which the default naming then refuses). Paths outside the
// prefix, and an empty segment ("/t/", "/t//notes"), find nothing.
//
// prefix must start with "/"; a trailing "/" is optional. With
// [StripPrefix] the handler sees the rest of the path ("/notes", or "/" for
// "/t/acme"); with [KeepPrefix] it sees the path as it came.
func PathPrefix(prefix string, mode PathMode) Resolver {
	p := strings.TrimSuffix(prefix, "/") + "/"
	rv := Resolver{source: fmt.Sprintf("path prefix %q", p)}
	switch {
	case !strings.HasPrefix(prefix, "/"):
		rv.err = fmt.Errorf("tenanthttp: PathPrefix: prefix %q must start with '/'", prefix)
		return rv
	case mode != StripPrefix && mode != KeepPrefix:
		rv.err = fmt.Errorf("tenanthttp: PathPrefix: unknown PathMode %d", mode)
		return rv
	}
	rv.resolve = func(r *http.Request) (string, *http.Request, bool, error) {
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), p)
		if !ok {
			return "", r, false, nil
		}
		seg, after, _ := strings.Cut(rest, "/")
		if seg == "" {
			return "", r, false, nil
		}
		// EscapedPath is always a valid escaping, so these never fail; if
		// they did, the request would be refused rather than misrouted.
		tenant, err := url.PathUnescape(seg)
		if err != nil {
			return "", r, false, &tenantpath.InvalidTenantError{Tenant: seg, Reason: err.Error()}
		}
		if mode == KeepPrefix {
			return tenant, r, true, nil
		}
		escaped := "/" + after
		path, err := url.PathUnescape(escaped)
		if err != nil {
			return "", r, false, &tenantpath.InvalidTenantError{Tenant: tenant, Reason: err.Error()}
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.URL = new(url.URL)
		*r2.URL = *r.URL
		r2.URL.Path = path
		if r.URL.RawPath != "" {
			r2.URL.RawPath = escaped
		}
		return tenant, r2, true, nil
	}
	return rv
}

// Func resolves the tenant with fn, for anything the other resolvers do not
// cover: a claim of an already verified token, a custom domain looked up in
// a table, a cookie. fn reports found == false when the request names no
// tenant its way, letting the next resolver try. An error from fn refuses
// the request: with status 400 if it matches [tenantpath.ErrInvalidTenant],
// [ErrMissingTenant] or [ErrAmbiguousTenant], 404 if it matches
// [tenantpath.ErrUnknownTenant], and 500 otherwise (see [Error]).
//
// name appears in error messages ("" means "func").
func Func(name string, fn func(r *http.Request) (tenant string, found bool, err error)) Resolver {
	if name == "" {
		name = "func"
	}
	rv := Resolver{source: name}
	if fn == nil {
		rv.err = fmt.Errorf("tenanthttp: Func %q: nil function", name)
		return rv
	}
	rv.resolve = func(r *http.Request) (string, *http.Request, bool, error) {
		tenant, found, err := fn(r)
		if err != nil {
			return "", r, false, err
		}
		return tenant, r, found && tenant != "", nil
	}
	return rv
}

// stripPort removes the port from a Host header value, IPv6 literals
// included ("[::1]:8080").
func stripPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// hostProblem checks a configured base domain.
func hostProblem(h string) string {
	if h == "" {
		return "empty"
	}
	if strings.ContainsAny(h, ":/@?# ") {
		return "want a host name only, without scheme, port or path"
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return "empty label"
		}
	}
	return ""
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
