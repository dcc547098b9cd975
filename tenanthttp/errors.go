package tenanthttp

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tenantpath/tenantpath"
)

// Sentinel errors of this package. The middleware also reports the errors
// of package tenantpath: [tenantpath.ErrInvalidTenant] for a name the
// naming refuses and [tenantpath.ErrUnknownTenant] for a tenant the
// existence check does not know.
var (
	// ErrMissingTenant: no resolver found a tenant in the request, and
	// [AllowMissing] is not set.
	ErrMissingTenant = errors.New("tenanthttp: the request names no tenant")

	// ErrAmbiguousTenant: one resolver found more than one tenant in the
	// request, such as two different X-Tenant-ID headers. The request is
	// refused rather than routed to either.
	ErrAmbiguousTenant = errors.New("tenanthttp: the request names more than one tenant")
)

// Error is what the middleware hands to its error handler when it refuses a
// request. Err says why; match it with [errors.Is]:
//
//   - [ErrMissingTenant] or [ErrAmbiguousTenant]: status 400;
//   - [tenantpath.ErrInvalidTenant] (an [*tenantpath.InvalidTenantError]):
//     the tenant's name breaks the naming rules, status 400;
//   - [tenantpath.ErrUnknownTenant] (an [*tenantpath.UnknownTenantError]):
//     the existence check does not know the tenant, status 404;
//   - anything else is the error of a [Func] resolver or of the existence
//     check (its lister failed, or the request was cancelled): status 500.
type Error struct {
	Status int    // the HTTP status the default handler writes
	Tenant string // the tenant the request named, "" if none was found
	Source string // the resolver that found it, e.g. `header "X-Tenant-Id"`; "" if none
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.Source != "" && e.Tenant != "":
		return fmt.Sprintf("tenanthttp: tenant %q from %s: %v", e.Tenant, e.Source, e.Err)
	case e.Source != "":
		return fmt.Sprintf("tenanthttp: %s: %v", e.Source, e.Err)
	default:
		return e.Err.Error()
	}
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// statusOf maps the cause of a refusal to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrMissingTenant), errors.Is(err, ErrAmbiguousTenant),
		errors.Is(err, tenantpath.ErrInvalidTenant):
		return http.StatusBadRequest
	case errors.Is(err, tenantpath.ErrUnknownTenant):
		return http.StatusNotFound
	default:
		return http.StatusInternalServerError
	}
}

// DefaultErrorHandler writes e.Status with a plain-text body. For a client
// error (4xx) the body says what was wrong with the request in terms of the
// tenant id it sent (never the schema name behind it); for a server error
// it says only "Internal Server Error", so the lister's or resolver's error
// text never reaches the client.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, e *Error) {
	http.Error(w, clientMessage(e), e.Status)
}

// clientMessage says what was wrong with the request, in the client's terms.
func clientMessage(e *Error) string {
	var invalid *tenantpath.InvalidTenantError
	switch {
	case e.Status >= 500:
		return http.StatusText(e.Status)
	case errors.Is(e.Err, ErrMissingTenant):
		return "no tenant in the request"
	case errors.Is(e.Err, ErrAmbiguousTenant):
		return "more than one tenant in the request"
	case errors.As(e.Err, &invalid) && (invalid.Schema == "" || invalid.Schema == invalid.Tenant):
		return fmt.Sprintf("invalid tenant %q: %s", invalid.Tenant, invalid.Reason)
	case errors.As(e.Err, &invalid):
		// The reason is about the schema name made from the id (byte
		// offsets count its prefix), so say so without naming it.
		return fmt.Sprintf("invalid tenant %q (in the schema name made from it: %s)", invalid.Tenant, invalid.Reason)
	case errors.Is(e.Err, tenantpath.ErrUnknownTenant):
		return fmt.Sprintf("unknown tenant %q", e.Tenant)
	default:
		return http.StatusText(e.Status)
	}
}
