package tenantpath

import (
	"context"
	"strconv"
)

// scopeKind says which search_path a call wants.
type scopeKind uint8

const (
	scopeNone   scopeKind = iota // no tenant in context: the connection's base path
	scopeShared                  // explicit shared scope: the shared schemas only
	scopeTenant                  // a tenant: its schema, then the shared schemas
)

// scope is what a context asks for. It is stored by value in the context, so
// reading it back allocates nothing.
type scope struct {
	kind   scopeKind
	tenant string
}

func (s scope) String() string {
	switch s.kind {
	case scopeShared:
		return "the shared scope"
	case scopeTenant:
		return "tenant " + strconv.Quote(s.tenant)
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
	return context.WithValue(ctx, scopeKey{}, scope{kind: scopeTenant, tenant: id})
}

// WithShared returns a copy of ctx that explicitly asks for the shared scope:
// statements run with the shared schemas alone on the search_path (by default
// "public"). Use it for admin code and anything that reads the shared tables;
// it is never refused by [RequireTenant]. It replaces any tenant in ctx.
func WithShared(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, scope{kind: scopeShared})
}

// TenantFrom reports the tenant id carried by ctx. It returns false when ctx
// carries no tenant or the shared scope.
func TenantFrom(ctx context.Context) (string, bool) {
	s := scopeFrom(ctx)
	return s.tenant, s.kind == scopeTenant
}

// IsShared reports whether ctx carries the explicit shared scope set by
// [WithShared].
func IsShared(ctx context.Context) bool {
	return scopeFrom(ctx).kind == scopeShared
}

func scopeFrom(ctx context.Context) scope {
	if ctx == nil {
		return scope{}
	}
	s, _ := ctx.Value(scopeKey{}).(scope)
	return s
}
