package tenantpath

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with [errors.Is]; the concrete errors returned
// carry more detail (see [InvalidTenantError], [UnknownTenantError],
// [TenantMismatchError] and [SwitchError]).
var (
	// ErrNoTenant is returned in require-tenant mode (see [RequireTenant])
	// when a call's context carries neither a tenant nor the shared scope.
	// Nothing has been sent to the server.
	ErrNoTenant = errors.New("tenantpath: no tenant in context")

	// ErrInvalidTenant is matched by every [InvalidTenantError]: the tenant
	// id, or the schema name the naming template made from it, was refused
	// before anything reached the server.
	ErrInvalidTenant = errors.New("tenantpath: invalid tenant")

	// ErrUnknownTenant is matched by every [UnknownTenantError]: the tenant's
	// schema does not exist on the server. The connection's search_path was
	// left as it was, so the statement never ran against shared tables of
	// the same name.
	ErrUnknownTenant = errors.New("tenantpath: unknown tenant")

	// ErrTenantMismatch is matched by every [TenantMismatchError]: inside a
	// transaction, a call named another tenant (or scope) than the one the
	// transaction was begun for. The path is never switched inside a
	// transaction, so the call was refused.
	ErrTenantMismatch = errors.New("tenantpath: tenant does not match the transaction's tenant")
)

// InvalidTenantError reports a tenant id, or the schema name made from it,
// that failed validation. It matches [ErrInvalidTenant].
type InvalidTenantError struct {
	Tenant string // the id as given
	Schema string // the schema name the template produced ("" if none)
	Reason string // why it was refused, e.g. "longer than 63 bytes"
}

func (e *InvalidTenantError) Error() string {
	if e.Schema != "" && e.Schema != e.Tenant {
		return fmt.Sprintf("tenantpath: invalid tenant %q (schema %q): %s", e.Tenant, e.Schema, e.Reason)
	}
	return fmt.Sprintf("tenantpath: invalid tenant %q: %s", e.Tenant, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidTenant) true.
func (e *InvalidTenantError) Is(target error) bool { return target == ErrInvalidTenant }

// UnknownTenantError reports a tenant whose schema does not exist. It matches
// [ErrUnknownTenant].
type UnknownTenantError struct {
	Tenant string
	Schema string
}

func (e *UnknownTenantError) Error() string {
	return fmt.Sprintf("tenantpath: unknown tenant %q: schema %q does not exist", e.Tenant, e.Schema)
}

// Is makes errors.Is(err, ErrUnknownTenant) true.
func (e *UnknownTenantError) Is(target error) bool { return target == ErrUnknownTenant }

// TenantMismatchError reports a call made inside a transaction with a context
// that names another scope than the transaction's. It matches
// [ErrTenantMismatch].
type TenantMismatchError struct {
	Tx   string // the transaction's scope, e.g. `tenant "10"`
	Call string // the call's scope
}

func (e *TenantMismatchError) Error() string {
	return fmt.Sprintf("tenantpath: call for %s inside a transaction begun for %s; "+
		"the search_path is never switched inside a transaction", e.Call, e.Tx)
}

// Is makes errors.Is(err, ErrTenantMismatch) true.
func (e *TenantMismatchError) Is(target error) bool { return target == ErrTenantMismatch }

// SwitchError reports a failed attempt to set a connection's search_path:
// a network error, a cancelled context or a server error. The connection
// it happened on is discarded (it reports itself invalid to the pool), so
// no later statement can run on a path nobody is sure of. Err is the
// driver's error, unchanged, so errors.As on the driver's error type works.
type SwitchError struct {
	Scope string // what the switch was for, e.g. `tenant "10"`
	Err   error
}

func (e *SwitchError) Error() string {
	return fmt.Sprintf("tenantpath: setting search_path for %s: %v", e.Scope, e.Err)
}

func (e *SwitchError) Unwrap() error { return e.Err }
