package tenanthttp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/tenantpath/tenantpath"
)

// New builds the middleware. For each request it asks the resolvers (all of
// them, or in order until one finds a tenant with [FirstMatchWins]), folds
// case if [FoldCase] says so, validates the name with the naming, checks
// that the tenant exists if an existence check was given, and calls the
// next handler with [tenantpath.WithTenant] on the request's context (and,
// for [PathPrefix] with [StripPrefix], the shortened path). A request it
// refuses never reaches the next handler; the error handler answers it,
// with the status [StatusOf] gives its cause:
//
//   - no resolver found a tenant: 400 ([ErrMissingTenant]), unless
//     [AllowMissing];
//   - two different tenants in one request (two resolvers disagree, or a
//     header is given twice): 400 ([ErrAmbiguousTenant]);
//   - a name the naming refuses: 400 ([tenantpath.ErrInvalidTenant]);
//   - a tenant the existence check does not know: 404
//     ([tenantpath.ErrUnknownTenant]);
//   - the existence check or a [Func] resolver failed: 500, logged with its
//     cause (see [WithLogger]).
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
		var err error
		if opt == nil {
			err = errors.New("tenanthttp: New: nil Option")
		} else {
			err = opt(&cfg)
		}
		if err != nil {
			for _, undo := range cfg.undo {
				undo()
			}
			return nil, err
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
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

// claim is what the resolvers found in a request.
type claim struct {
	tenant string        // the id, case folded if FoldCase
	sent   string        // the id as the request spelled it
	source string        // the resolver that found it first
	req    *http.Request // the request the handler sees
}

func (m *middleware) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	c, err := m.resolve(r)
	if err != nil {
		m.refuse(w, r, c, err)
		return
	}
	if c.source == "" {
		if m.cfg.allowMissing {
			next.ServeHTTP(w, r)
			return
		}
		m.refuse(w, r, c, ErrMissingTenant)
		return
	}
	schema, err := m.cfg.naming.Schema(c.tenant)
	if err != nil {
		m.refuse(w, r, c, err)
		return
	}
	if m.cfg.checker != nil {
		ok, err := m.cfg.checker.Exists(r.Context(), c.tenant)
		if err == nil && !ok {
			err = &tenantpath.UnknownTenantError{Tenant: c.tenant, Schema: schema}
		}
		if err != nil {
			m.refuse(w, r, c, err)
			return
		}
	}
	next.ServeHTTP(w, c.req.WithContext(tenantpath.WithTenant(c.req.Context(), c.tenant)))
}

// resolve asks the resolvers what r names. Every id any of them finds must
// be the same (after FoldCase), unless FirstMatchWins stops at the first
// resolver that finds one. The handler sees the request as rewritten by the
// first resolver that found the tenant and rewrote it (PathPrefix with
// StripPrefix); every resolver is shown the request as it came. A zero
// claim.source means nothing was found.
func (m *middleware) resolve(r *http.Request) (claim, error) {
	c := claim{req: r}
	for _, rv := range m.resolvers {
		ids, next, err := rv.resolve(r)
		if err != nil {
			// The failing resolver is the cause, whatever others found.
			return claim{source: rv.source, req: r}, err
		}
		for _, sent := range ids {
			id := sent
			if m.cfg.foldCase {
				id = asciiLower(id)
			}
			switch {
			case c.source == "":
				c.tenant, c.sent, c.source = id, sent, rv.source
			case id != c.tenant:
				return c, &ConflictError{Tenant: c.sent, Source: c.source, OtherTenant: sent, OtherSource: rv.source}
			}
		}
		if len(ids) > 0 && c.req == r {
			c.req = next
		}
		if len(ids) > 0 && m.cfg.firstMatch {
			break
		}
	}
	return c, nil
}

// refuse answers a request the middleware will not pass on, and logs it.
func (m *middleware) refuse(w http.ResponseWriter, r *http.Request, c claim, err error) {
	e := &Error{Status: StatusOf(err), Tenant: c.sent, Source: c.source, Err: err}
	e.Message = clientMessage(m.cfg.naming, e)
	m.log(r, e)
	m.cfg.onError(w, r, e)
}

// log records a refusal: a server error at Error level, since nothing else
// would tell the operator why requests fail; a client error at Debug.
func (m *middleware) log(r *http.Request, e *Error) {
	level := slog.LevelDebug
	if e.Status >= 500 {
		level = slog.LevelError
	}
	ctx := r.Context()
	if !m.cfg.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.Int("status", e.Status),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
	}
	if e.Tenant != "" {
		attrs = append(attrs, slog.String("tenant", e.Tenant))
	}
	if e.Source != "" {
		attrs = append(attrs, slog.String("resolver", e.Source))
	}
	attrs = append(attrs, slog.Any("error", e.Err))
	m.cfg.logger.LogAttrs(ctx, level, "tenanthttp: request refused", attrs...)
}
