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
// The middleware asks every resolver, and every one that finds a tenant
// must find the same one, or the request is refused with
// [ErrAmbiguousTenant]; with [FirstMatchWins] the first to find one wins
// and the rest are not asked. A resolver neither validates the id it finds
// nor changes its case: the middleware validates it with its
// [tenantpath.Naming], whichever resolver found it, and lowercases it only
// with [FoldCase].
type Resolver struct {
	source string // for messages, e.g. `header "X-Tenant-Id"`
	// resolve returns every tenant id the request names this resolver's
	// way (none if it names none; a repeated header gives more than one)
	// and the request the handler should see.
	resolve func(r *http.Request) (ids []string, next *http.Request, err error)
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
// finds nothing. Leading and trailing ASCII spaces and tabs (HTTP's optional
// whitespace) are trimmed from each value and nothing else is changed:
// "acme\u00a0" stays as it is, and the naming refuses it. A header given
// more than once must name the same tenant each time, or the request is
// refused with [ErrAmbiguousTenant].
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
	rv.resolve = func(r *http.Request) ([]string, *http.Request, error) {
		var ids []string
		for _, v := range r.Header.Values(canon) {
			if v = trimOWS(v); v != "" {
				ids = append(ids, v)
			}
		}
		return ids, r, nil
	}
	return rv
}

// Subdomain resolves the tenant from the first label of the request's host
// under baseDomain: with base "example.com", "acme.example.com" names tenant
// "acme". The base domain and the excluded labels match in any ASCII case,
// as host names do; the tenant label itself is passed on as the request
// spelled it, like every resolver's (see [FoldCase]). Nothing outside ASCII
// is folded: "\u212Ailo" (KELVIN SIGN) is not "kilo". The port and a
// trailing dot are ignored. The base domain itself, hosts outside it, hosts
// more than one label below it ("a.b.example.com") and the excluded labels
// (such as "www", "api" or "admin") find nothing.
//
// baseDomain must be an ASCII host name (internationalised names in their
// xn-- form) without scheme, port or path ("example.com", "localhost"); a
// leading dot is ignored.
func Subdomain(baseDomain string, exclude ...string) Resolver {
	base := asciiLower(strings.TrimSuffix(strings.TrimPrefix(baseDomain, "."), "."))
	rv := Resolver{source: fmt.Sprintf("subdomain of %q", base)}
	if reason := hostProblem(base); reason != "" {
		rv.err = fmt.Errorf("tenanthttp: Subdomain: base domain %q: %s", baseDomain, reason)
		return rv
	}
	skip := make(map[string]bool, len(exclude))
	for _, e := range exclude {
		l := asciiLower(e)
		if l == "" || strings.ContainsAny(l, ". :/") {
			rv.err = fmt.Errorf("tenanthttp: Subdomain: excluded label %q is not a single host label", e)
			return rv
		}
		skip[l] = true
	}
	suffix := "." + base
	rv.resolve = func(r *http.Request) ([]string, *http.Request, error) {
		host := strings.TrimSuffix(stripPort(r.Host), ".")
		if len(host) <= len(suffix) || asciiLower(host[len(host)-len(suffix):]) != suffix {
			return nil, r, nil
		}
		label := host[:len(host)-len(suffix)]
		if strings.Contains(label, ".") || skip[asciiLower(label)] {
			return nil, r, nil
		}
		return []string{label}, r, nil
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
	rv.resolve = func(r *http.Request) ([]string, *http.Request, error) {
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), p)
		if !ok {
			return nil, r, nil
		}
		seg, after, _ := strings.Cut(rest, "/")
		if seg == "" {
			return nil, r, nil
		}
		// EscapedPath is always a valid escaping, so these never fail; if
		// they did, the request would be refused rather than misrouted.
		tenant, err := url.PathUnescape(seg)
		if err != nil {
			return nil, r, &tenantpath.InvalidTenantError{Tenant: seg, Reason: err.Error()}
		}
		if mode == KeepPrefix {
			return []string{tenant}, r, nil
		}
		escaped := "/" + after
		path, err := url.PathUnescape(escaped)
		if err != nil {
			return nil, r, &tenantpath.InvalidTenantError{Tenant: tenant, Reason: err.Error()}
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.URL = new(url.URL)
		*r2.URL = *r.URL
		r2.URL.Path = path
		if r.URL.RawPath != "" {
			r2.URL.RawPath = escaped
		}
		return []string{tenant}, r2, nil
	}
	return rv
}

// Func resolves the tenant with fn, for anything the other resolvers do not
// cover: a claim of an already verified token, a custom domain looked up in
// a table, a cookie. fn reports found == false (or an empty tenant) when
// the request names no tenant its way. An error from fn refuses the
// request, with the status [StatusOf] gives it: 400 if it matches
// [tenantpath.ErrInvalidTenant], [ErrMissingTenant] or [ErrAmbiguousTenant],
// 404 if it matches [tenantpath.ErrUnknownTenant], 500 otherwise (logged).
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
	rv.resolve = func(r *http.Request) ([]string, *http.Request, error) {
		tenant, found, err := fn(r)
		if err != nil || !found || tenant == "" {
			return nil, r, err
		}
		return []string{tenant}, r, nil
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
	if !isASCII(h) {
		return "not ASCII; write an internationalised name in its xn-- form"
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return "empty label"
		}
	}
	return ""
}
