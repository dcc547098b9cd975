package tenanthttp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tenantpath/tenantpath"
)

// clientMessage says what was wrong with the request in the request's own
// terms: the tenant id it sent. It never names the schema made from the id,
// nor anything from which its prefix could be worked out (a byte offset or
// a length in the schema name), nor the text of a server-side error. Ids
// are quoted with everything outside ASCII escaped (%+q), so a look-alike
// such as "\u212Ailo" (KELVIN SIGN) is visibly not "kilo".
func clientMessage(naming tenantpath.Naming, e *Error) string {
	var (
		conflict *ConflictError
		invalid  *tenantpath.InvalidTenantError
	)
	switch {
	case e.Status >= 500:
		return http.StatusText(e.Status)
	case errors.As(e.Err, &conflict):
		return fmt.Sprintf("the request names more than one tenant: %+q (%s) and %+q (%s)",
			conflict.Tenant, conflict.Source, conflict.OtherTenant, conflict.OtherSource)
	case errors.Is(e.Err, ErrAmbiguousTenant):
		return "the request names more than one tenant"
	case errors.Is(e.Err, ErrMissingTenant), errors.Is(e.Err, tenantpath.ErrNoTenant):
		return "no tenant in the request"
	case errors.As(e.Err, &invalid):
		id := e.Tenant
		if id == "" {
			id = invalid.Tenant
		}
		return fmt.Sprintf("invalid tenant %+q: %s", id, invalidReason(naming, invalid))
	case errors.Is(e.Err, tenantpath.ErrInvalidTenant):
		return "invalid tenant"
	case errors.Is(e.Err, tenantpath.ErrUnknownTenant) && e.Tenant != "":
		return fmt.Sprintf("unknown tenant %+q", e.Tenant)
	case errors.Is(e.Err, tenantpath.ErrUnknownTenant):
		return "unknown tenant"
	default:
		return http.StatusText(e.Status)
	}
}

// invalidReason says why the tenant id of inv is refused. When the schema
// name is the id itself, the naming's reason already speaks of the id.
// Otherwise the reason speaks of the schema name (its byte offsets count
// the prefix, its lengths include it), so it is said again from the id.
func invalidReason(naming tenantpath.Naming, inv *tenantpath.InvalidTenantError) string {
	if inv.Schema == "" || inv.Schema == inv.Tenant {
		return inv.Reason
	}
	switch {
	case len(inv.Schema) > tenantpath.MaxIdentifierBytes:
		return "too long"
	case strings.IndexByte(inv.Tenant, 0) >= 0:
		return "contains NUL"
	case !utf8.ValidString(inv.Tenant):
		return "not valid UTF-8"
	case naming.Validate == nil:
		// The default policy judges each byte alone, so the byte it
		// refuses in the schema name is in the id too, at its own offset.
		if err := tenantpath.ValidateStrict(inv.Tenant); err != nil {
			return err.Error()
		}
	}
	return "not a tenant id this service accepts"
}
