package tenanthttp

import (
	"errors"
	"log/slog"
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
	firstMatch   bool
	foldCase     bool
	logger       *slog.Logger
	onError      func(http.ResponseWriter, *http.Request, *Error)
	// undo releases what options acquired (a Cache's watch), should a
	// later option make New fail.
	undo []func()
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
// It conflicts with [WithLister] and [WithTenants]: give one existence
// check.
func WithChecker(ch Checker) Option {
	return func(c *config) error {
		if ch == nil {
			return errors.New("tenanthttp: WithChecker: nil Checker")
		}
		if c.checker != nil {
			return errors.New("tenanthttp: more than one existence check (WithChecker, WithLister, WithTenants)")
		}
		c.checker = ch
		return nil
	}
}

// WithLister is [WithChecker] with a [Cache] over list holding for ttl (a
// few seconds to a minute suits most applications) and the default
// [MissRefresh]: a tenant created since the last load is found by the
// first request for it once [DefaultMissRefresh] has passed since that
// load. Pass the migrator's List, or a function that reads the
// application's tenant table. [WithTenants] also learns of tenants the
// moment they are created, when its source can tell.
func WithLister(list Lister, ttl time.Duration) Option {
	return func(c *config) error {
		cache, err := NewCache(list, ttl)
		if err != nil {
			return err
		}
		return WithChecker(cache)(c)
	}
}

// WithTenants is [WithChecker] with a [Cache] over src holding for ttl, as
// [NewCacheFrom] builds it. Pass the migrator: it lists the tenants, and
// when src also has a Watch method ([TenantWatcher]), the cache learns of
// every tenant created, renamed or dropped through it at once, with no
// [Cache.Invalidate]. Without Watch it behaves as [WithLister].
//
// The cache watches src for as long as the process runs. To stop watching
// (a server shut down in a long-lived process, a test), build the Cache with
// NewCacheFrom, pass it to WithChecker and call [Cache.Close].
func WithTenants(src TenantSource, ttl time.Duration) Option {
	return func(c *config) error {
		cache, err := NewCacheFrom(src, ttl)
		if err != nil {
			return err
		}
		if err := WithChecker(cache)(c); err != nil {
			cache.Close()
			return err
		}
		c.undo = append(c.undo, cache.Close)
		return nil
	}
}

// AllowMissing lets requests that name no tenant through unchanged, with no
// tenant in their context: their statements then fail with
// [tenantpath.ErrNoTenant], or run on the connection's base search_path if
// the driver was opened to allow that. Use it when one server also serves pages
// outside any tenant (sign-up, health checks). Without it such requests get
// 400. A request whose tenant is invalid, ambiguous or unknown is refused
// either way.
func AllowMissing() Option {
	return func(c *config) error {
		c.allowMissing = true
		return nil
	}
}

// FirstMatchWins makes the order of the resolvers their precedence: the
// first to find a tenant wins, and the rest are not asked. Without it every
// resolver is asked, and a request in which two of them find different
// tenants (acme.example.com with X-Tenant-ID: globex) is refused with 400
// ([ErrAmbiguousTenant]) rather than routed to either.
//
// Use it when one source must override another, such as a header set by a
// trusted proxy over a subdomain the client chose; put that resolver first.
func FirstMatchWins() Option {
	return func(c *config) error {
		c.firstMatch = true
		return nil
	}
}

// FoldCase lowercases the ASCII letters of the tenant id every resolver
// finds, before anything else looks at it: "ACME.example.com", "X-Tenant-ID:
// Acme" and "/t/ACME/" all name tenant "acme". Nothing outside ASCII is
// changed. Without it no resolver changes case: the id is the one the
// request spelled, and the default naming refuses upper case with 400
// (browsers lowercase host names themselves; other clients may not).
//
// Use it only with a naming that refuses upper case, as the default
// [tenantpath.ValidateStrict] does: where ids that differ only in case can
// both exist, folding would send one tenant's requests to the other.
func FoldCase() Option {
	return func(c *config) error {
		c.foldCase = true
		return nil
	}
}

// WithLogger sets where the middleware logs. Every refusal with a 5xx
// status (the existence check or a [Func] resolver failed) is logged at
// Error level with its cause, whatever the error handler then writes;
// other refusals are logged at Debug level. Records carry the status, the
// method and path, the tenant and resolver if known, and the error.
//
// Without it the middleware logs to [slog.Default]. To log nothing, pass a
// logger whose handler discards, e.g. slog.New(slog.DiscardHandler).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("tenanthttp: WithLogger: nil *slog.Logger")
		}
		c.logger = l
		return nil
	}
}

// WithErrorHandler sets what answers a refused request. Without it,
// [DefaultErrorHandler] writes e.Status with e.Message as plain text.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, e *Error)) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("tenanthttp: WithErrorHandler: nil handler")
		}
		c.onError = h
		return nil
	}
}
