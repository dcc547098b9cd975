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

	// ErrAmbiguousTenant: the request names more than one tenant, such as
	// two different X-Tenant-ID headers, or a subdomain and a header that
	// disagree (without [FirstMatchWins]). The request is refused rather
	// than routed to either. The error is a [*ConflictError].
	ErrAmbiguousTenant = errors.New("tenanthttp: the request names more than one tenant")
)

// ConflictError reports a request that names two different tenants. It
// matches [ErrAmbiguousTenant]. The ids are as the request spelled them.
type ConflictError struct {
	Tenant      string // the first tenant found
	Source      string // the resolver that found it, e.g. `subdomain of "example.com"`
	OtherTenant string // the first different tenant found
	OtherSource string // the resolver that found that one (the same one for a repeated header)
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("tenanthttp: the request names more than one tenant: %q (%s) and %q (%s)",
		e.Tenant, e.Source, e.OtherTenant, e.OtherSource)
}

// Is makes errors.Is(err, ErrAmbiguousTenant) true.
func (e *ConflictError) Is(target error) bool { return target == ErrAmbiguousTenant }

// Error is what the middleware hands to its error handler when it refuses a
// request. Err says why; match it with [errors.Is]:
//
//   - [ErrMissingTenant], or [ErrAmbiguousTenant] (a [*ConflictError]):
//     status 400;
//   - [tenantpath.ErrInvalidTenant] (an [*tenantpath.InvalidTenantError]):
//     the tenant's name breaks the naming rules, status 400;
//   - [tenantpath.ErrUnknownTenant] (an [*tenantpath.UnknownTenantError]):
//     the existence check does not know the tenant, status 404;
//   - anything else is the error of a [Func] resolver or of the existence
//     check (its lister failed, or the request was cancelled): status 500.
//
// Error() is for logs: it includes Err's text, which may name the schema
// behind the tenant or a database error. Message is for the client.
type Error struct {
	Status int    // the HTTP status the default handler writes: StatusOf(Err)
	Tenant string // the tenant the request named, as spelled; "" if none was found
	Source string // the resolver that found it, e.g. `header "X-Tenant-Id"`; "" if none

	// Message says what was wrong in terms of the request alone: the
	// tenant id it sent, never the schema name made from it nor the text of
	// a server-side error (a 5xx's Message is its status text).
	Message string

	Err error
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

// StatusOf returns the HTTP status for an error of tenantpath or of this
// package, whether the middleware refused the request with it or it reached
// a handler from a database call:
//
//   - nil: 200 OK;
//   - [tenantpath.ErrUnknownTenant], or PostgreSQL's invalid_schema_name
//     (SQLSTATE 3F000, read through a SQLState method as pgx's and lib/pq's
//     errors have it): 404 Not Found (the tenant has no schema; a
//     pgxpool configured by tenantpgx reports it with PostgreSQL's error);
//   - [tenantpath.ErrInvalidTenant], [tenantpath.ErrNoTenant],
//     [ErrMissingTenant], [ErrAmbiguousTenant]: 400 Bad Request (the
//     request named a bad tenant, or none);
//   - anything else: 500 Internal Server Error.
//
// It matches with [errors.Is], so wrapped errors map the same way.
// [tenantpath.ErrNoTenant] reaching a handler usually means the request
// named no tenant and [AllowMissing] let it through; a handler that forgot
// to pass r.Context() gets it too, so log it (see the example).
func StatusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, tenantpath.ErrUnknownTenant), sqlState(err) == "3F000":
		return http.StatusNotFound
	case errors.Is(err, tenantpath.ErrInvalidTenant), errors.Is(err, tenantpath.ErrNoTenant),
		errors.Is(err, ErrMissingTenant), errors.Is(err, ErrAmbiguousTenant):
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

// sqlState returns the SQLSTATE of a database error in err's chain, or "".
func sqlState(err error) string {
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return coded.SQLState()
	}
	return ""
}

// DefaultErrorHandler writes e.Status with e.Message as a plain-text body
// (the status text if Message is empty). A client error's body names the
// tenant id the request sent, never the schema behind it; a server error's
// body is only "Internal Server Error", so the lister's or resolver's error
// text never reaches the client.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, e *Error) {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	http.Error(w, msg, e.Status)
}
