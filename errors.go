package tenantpath

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with [errors.Is]; the concrete errors returned
// carry more detail (see [InvalidTenantError], [UnknownTenantError],
// [TenantMismatchError], [SwitchError], [SchemaDriftError] and
// [PooledTxControlError]).
var (
	// ErrNoTenant is returned when a call's context names no scope: no
	// tenant ([WithTenant]), no shared scope ([WithShared]) and no base
	// path ([WithBasePath]), unless the driver was opened with
	// [AllowNoTenant]. Nothing has been sent to the server.
	ErrNoTenant = errors.New("tenantpath: no tenant in the call's context: " +
		"pass the request's context (db.QueryContext(r.Context(), …)), or use tenantpath.WithShared for the shared schemas")

	// ErrInvalidTenant is matched by every [InvalidTenantError]: the tenant
	// id, or the schema name the naming template made from it, was refused
	// before anything reached the server.
	ErrInvalidTenant = errors.New("tenantpath: invalid tenant")

	// ErrUnknownTenant is matched by every [UnknownTenantError]: the tenant's
	// schema does not exist on the server. The connection's search_path was
	// left as it was, so the statement never ran against shared tables of
	// the same name.
	ErrUnknownTenant = errors.New("tenantpath: unknown tenant")

	// ErrConnBusy is returned when the base driver refused a call without
	// sending anything because the connection is still busy with an
	// earlier query whose rows are open (a pinned *sql.Conn). The
	// connection keeps its path and works again once those rows are
	// closed.
	ErrConnBusy = errors.New("tenantpath: connection busy with an earlier query: close its rows first")

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
// that names another scope than the transaction's, or a tenant call in a
// transaction whose path can no longer be vouched for. It matches
// [ErrTenantMismatch].
type TenantMismatchError struct {
	Tx   Scope // the scope the transaction was begun for
	Call Scope // the scope the call asked for
	// Doubt, when set, says why the transaction's own path is in doubt
	// (the call's scope may then be the transaction's own): its SQL may
	// have ended it by hand, or the server reported another path.
	Doubt string
}

func (e *TenantMismatchError) Error() string {
	if e.Doubt != "" {
		return fmt.Sprintf("tenantpath: call for %s inside a transaction begun for %s, which %s; "+
			"end the transaction and begin a new one", e.Call, e.Tx, e.Doubt)
	}
	return fmt.Sprintf("tenantpath: call for %s inside a transaction begun for %s; "+
		"the search_path is never switched inside a transaction", e.Call, e.Tx)
}

// Is makes errors.Is(err, ErrTenantMismatch) true.
func (e *TenantMismatchError) Is(target error) bool { return target == ErrTenantMismatch }

// PooledTxControlError reports SQL refused under [TransactionPooling]
// because it may end a transaction (COMMIT, ROLLBACK, END, …) and was sent
// outside one with a tenant or the shared scope: the driver wraps such a
// statement in a transaction of its own that carries the path, and the
// SQL after its COMMIT would run outside it, on no tenant's path, on
// whichever server connection the pooler picks. Nothing was sent. Run
// such SQL inside a transaction begun with BeginTx, or split it.
type PooledTxControlError struct {
	Scope Scope
	Query string
}

func (e *PooledTxControlError) Error() string {
	return fmt.Sprintf("tenantpath: refused a statement for %s that may end its transaction (COMMIT, ROLLBACK, END, …): "+
		"under TransactionPooling its tail would run on no tenant's path; use BeginTx, or split it", e.Scope)
}

// SwitchError reports a failed attempt to set a connection's search_path:
// a network error, a cancelled context or a server error. The connection
// it happened on is discarded (it reports itself invalid to the pool), so
// no later statement can run on a path nobody is sure of. Err is the
// driver's error, unchanged, so errors.As on the driver's error type works.
type SwitchError struct {
	Scope Scope // what the switch was for
	Err   error
}

func (e *SwitchError) Error() string {
	return fmt.Sprintf("tenantpath: setting search_path for %s: %v", e.Scope, e.Err)
}

func (e *SwitchError) Unwrap() error { return e.Err }
