package tenantpath

import (
	"context"
	"strconv"
)

// ScopeKind says which search_path a call asks for.
type ScopeKind uint8

const (
	// ScopeNone: the context names nothing. Such calls fail with
	// [ErrNoTenant] unless the driver was opened with [AllowNoTenant].
	ScopeNone ScopeKind = iota
	// ScopeShared: the shared schemas alone ([WithShared]).
	ScopeShared
	// ScopeTenant: a tenant's schema, then the shared schemas ([WithTenant]).
	ScopeTenant
	// ScopeBase: the connection's base path, asked for explicitly
	// ([WithBasePath]).
	ScopeBase

	// What a connection can know of its own path besides the scopes above;
	// never carried by a context.
	pathUnknown // nobody can say (a fresh connection, too)
	pathUser    // the caller's own SQL set it during this checkout
)

// Scope is the search_path a call asks for, as its context carries it. It
// is a comparable value.
type Scope struct {
	Kind   ScopeKind
	Tenant string // the tenant id, for ScopeTenant
}

// String describes the scope for messages: `tenant "10"`, "the shared
// scope", "the base path" or "no tenant".
func (s Scope) String() string {
	switch s.Kind {
	case ScopeShared:
		return "the shared scope"
	case ScopeTenant:
		return "tenant " + strconv.Quote(s.Tenant)
	case ScopeBase:
		return "the base path"
	default:
		return "no tenant"
	}
}

type scopeKey struct{}

// WithTenant returns a copy of ctx that carries tenant id. Every statement
// run with the returned context (or one derived from it) runs under the
// tenant's search_path. The id is validated when it is used, not here: an
// invalid id makes the call fail with an [InvalidTenantError].
func WithTenant(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, scopeKey{}, Scope{Kind: ScopeTenant, Tenant: id})
}

// WithShared returns a copy of ctx that explicitly asks for the shared scope:
// statements run with the shared schemas alone on the search_path (by default
// "public"). Use it for admin code and anything that reads the shared tables.
// It replaces any tenant in ctx.
func WithShared(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, Scope{Kind: ScopeShared})
}

// WithBasePath returns a copy of ctx that explicitly asks for the
// connection's base search_path: the one it was opened with (the server's or
// the login role's default), or the path the caller's own SQL set on this
// connection since it was checked out. Statements run as they would without
// tenantpath; a connection left on a tenant's path is reset first, so they
// never inherit one. It is never refused for want of a tenant and replaces
// any tenant in ctx.
//
// It is for code that manages search_path itself, such as the migrator,
// which pins a connection, sets a tenant's path with its own SET and runs
// that tenant's migrations.
func WithBasePath(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, Scope{Kind: ScopeBase})
}

// ScopeOf returns the scope ctx carries.
func ScopeOf(ctx context.Context) Scope {
	if ctx == nil {
		return Scope{}
	}
	s, _ := ctx.Value(scopeKey{}).(Scope)
	return s
}

// TenantFrom reports the tenant id carried by ctx. It returns false when ctx
// carries no tenant, or another scope.
func TenantFrom(ctx context.Context) (string, bool) {
	s := ScopeOf(ctx)
	return s.Tenant, s.Kind == ScopeTenant
}

// IsShared reports whether ctx carries the explicit shared scope set by
// [WithShared].
func IsShared(ctx context.Context) bool {
	return ScopeOf(ctx).Kind == ScopeShared
}
