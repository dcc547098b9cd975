package tenanthttp

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tenantpath/tenantpath"
)

// Option configures the middleware built by [New]. Options are checked by
// New: a bad or conflicting option is an error there, never a surprise on a
// request.
type Option func(*config) error

type config struct {
	naming       tenantpath.Naming
	checker      Checker
	allowMissing bool
	onError      func(http.ResponseWriter, *http.Request, *Error)
}

// WithNaming sets the naming whose rules a tenant name must pass before the
// request goes on (see [tenantpath.Naming.Schema]). Use the driver's and
// the migrator's Naming. Without it, the zero Naming applies: the tenant id
// is the schema name, checked by [tenantpath.ValidateStrict].
func WithNaming(n tenantpath.Naming) Option {
	return func(c *config) error {
		if err := n.Check(); err != nil {
			return err
		}
		c.naming = n
		return nil
	}
}

// WithChecker makes the middleware refuse tenants that do not exist with
// 404, asking ch (after the name has been validated). Without an existence
// check, a request for a tenant with no schema goes on, and its first
// statement fails with [tenantpath.ErrUnknownTenant].
//
// It conflicts with [WithLister]: give one existence check.
func WithChecker(ch Checker) Option {
	return func(c *config) error {
		if ch == nil {
			return errors.New("tenanthttp: WithChecker: nil Checker")
		}
		if c.checker != nil {
			return errors.New("tenanthttp: more than one existence check (WithChecker, WithLister)")
		}
		c.checker = ch
		return nil
	}
}

// WithLister is [WithChecker] with a [Cache] over list holding for ttl: a
// few seconds to a minute suits most applications. Pass the migrator's
// List, or a function that reads the application's tenant table. To
// [Cache.Invalidate] the cache after creating a tenant, build it with
// [NewCache] and pass it to WithChecker instead.
func WithLister(list Lister, ttl time.Duration) Option {
	return func(c *config) error {
		cache, err := NewCache(list, ttl)
		if err != nil {
			return err
		}
		return WithChecker(cache)(c)
	}
}

// AllowMissing lets requests that name no tenant through unchanged, with no
// tenant in their context: the driver then runs their statements on the
// connection's base search_path, or refuses them with
// [tenantpath.ErrNoTenant] under [tenantpath.RequireTenant]. Use it when
// one server also serves pages outside any tenant (sign-up, health checks).
// Without it such requests get 400. A request whose tenant is invalid,
// ambiguous or unknown is refused either way.
func AllowMissing() Option {
	return func(c *config) error {
		c.allowMissing = true
		return nil
	}
}

// WithErrorHandler sets what answers a refused request. Without it,
// [DefaultErrorHandler] writes e.Status with a plain-text message.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, e *Error)) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("tenanthttp: WithErrorHandler: nil handler")
		}
		c.onError = h
		return nil
	}
}

// New builds the middleware. For each request it asks the resolvers in
// order; the first to find a tenant wins. It then validates the name with
// the naming, checks that the tenant exists if an existence check was
// given, and calls the next handler with [tenantpath.WithTenant] on the
// request's context (and, for [PathPrefix] with [StripPrefix], the
// shortened path). A request it refuses never reaches the next handler; the
// error handler answers it:
//
//   - no resolver found a tenant: 400 ([ErrMissingTenant]), unless
//     [AllowMissing];
//   - one header given twice with different values: 400
//     ([ErrAmbiguousTenant]);
//   - a name the naming refuses: 400 ([tenantpath.ErrInvalidTenant]);
//   - a tenant the existence check does not know: 404
//     ([tenantpath.ErrUnknownTenant]);
//   - the existence check or a [Func] resolver failed: 500.
//
// New reports configuration errors: no resolvers, a zero or misconfigured
// Resolver, an invalid naming, conflicting options.
//
// The middleware is safe for concurrent use, and works with anything that
// takes an [http.Handler] (net/http, chi, gorilla/mux).
func New(resolvers []Resolver, opts ...Option) (func(http.Handler) http.Handler, error) {
	if len(resolvers) == 0 {
		return nil, errors.New("tenanthttp: New: no resolvers")
	}
	for i, rv := range resolvers {
		if rv.err != nil {
			return nil, rv.err
		}
		if rv.resolve == nil {
			return nil, fmt.Errorf("tenanthttp: New: resolver %d is a zero Resolver; build it with Header, Subdomain, PathPrefix or Func", i)
		}
	}
	cfg := config{onError: DefaultErrorHandler}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("tenanthttp: New: nil Option")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	m := &middleware{cfg: cfg, resolvers: append([]Resolver(nil), resolvers...)}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.serve(next, w, r)
		})
	}, nil
}

type middleware struct {
	cfg       config
	resolvers []Resolver
}

func (m *middleware) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	var (
		tenant string
		source string
		found  bool
		out    = r
	)
	for _, rv := range m.resolvers {
		var err error
		tenant, out, found, err = rv.resolve(r)
		if err != nil {
			m.refuse(w, r, rv.source, "", err)
			return
		}
		if found {
			source = rv.source
			break
		}
	}
	if !found {
		if m.cfg.allowMissing {
			next.ServeHTTP(w, r)
			return
		}
		m.refuse(w, r, "", "", ErrMissingTenant)
		return
	}
	schema, err := m.cfg.naming.Schema(tenant)
	if err != nil {
		m.refuse(w, r, source, tenant, err)
		return
	}
	if m.cfg.checker != nil {
		ok, err := m.cfg.checker.Exists(r.Context(), tenant)
		if err != nil {
			m.refuse(w, r, source, tenant, err)
			return
		}
		if !ok {
			m.refuse(w, r, source, tenant, &tenantpath.UnknownTenantError{Tenant: tenant, Schema: schema})
			return
		}
	}
	next.ServeHTTP(w, out.WithContext(tenantpath.WithTenant(out.Context(), tenant)))
}

func (m *middleware) refuse(w http.ResponseWriter, r *http.Request, source, tenant string, err error) {
	m.cfg.onError(w, r, &Error{Status: statusOf(err), Tenant: tenant, Source: source, Err: err})
}
