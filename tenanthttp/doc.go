// Package tenanthttp is net/http middleware that reads the tenant a request
// names and puts it in the request's context with [tenantpath.WithTenant],
// so every statement the handler runs through the tenantpath driver reads
// and writes that tenant's schema.
//
//	mw, err := tenanthttp.New(
//		[]tenanthttp.Resolver{
//			tenanthttp.Subdomain("example.com", "www", "api"),
//			tenanthttp.Header(""), // X-Tenant-ID
//		},
//		tenanthttp.WithNaming(naming),                 // the driver's Naming
//		tenanthttp.WithLister(m.List, 30*time.Second), // 404 for unknown tenants
//	)
//	if err != nil {
//		return err // configuration errors are reported here, once
//	}
//	http.ListenAndServe(addr, mw(mux))
//
// The middleware has the usual shape, func(http.Handler) http.Handler, so
// it works with chi's r.Use, gorilla/mux's Use and anything else that takes
// an [http.Handler].
//
// # Resolvers
//
// A [Resolver] finds the tenant in one part of the request: [Header]
// (X-Tenant-ID by default), [Subdomain] of a base domain, [PathPrefix]
// (/t/{tenant}/..., stripped or kept) and [Func] for anything else. The
// middleware asks them in order and the first to find a tenant wins.
//
// # Refusals
//
// The tenant's name is validated with the same [tenantpath.Naming] the
// driver uses, before anything else happens: an invalid name is 400. With an
// existence check ([WithLister], [WithChecker]) an unknown tenant is 404. A
// request naming no tenant is 400, or passes through untouched with
// [AllowMissing]. [WithErrorHandler] replaces the plain-text answers; the
// handler receives an [*Error] whose Err matches [ErrMissingTenant],
// [ErrAmbiguousTenant], [tenantpath.ErrInvalidTenant] or
// [tenantpath.ErrUnknownTenant].
//
// # Authorisation
//
// The middleware decides which schema a request's statements use, not
// whether the caller may use it: a header or a path is whatever the client
// sends. Check that the signed-in user belongs to the tenant
// ([tenantpath.TenantFrom] reads it back) in your authentication
// middleware, after this one, or resolve the tenant from something the
// client cannot choose, such as a verified token's claim, with [Func].
//
// # After the middleware
//
// Handlers pass r.Context() to every database call: db.QueryContext(ctx,
// ...), gorm's db.WithContext(ctx), sqlx's ...Context methods, bun's ctx
// arguments. [tenantpath.TenantFrom] reads the tenant back, e.g. to check
// that the signed-in user belongs to it. Work handed to another goroutine
// keeps the tenant if it gets the context (or context.WithoutCancel of it),
// or the tenant id to put back with [tenantpath.WithTenant].
package tenanthttp
