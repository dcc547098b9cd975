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
//		tenanthttp.WithNaming(naming),             // the driver's Naming
//		tenanthttp.WithTenants(m, 30*time.Second), // m is the migrator: 404 for unknown tenants
//		tenanthttp.WithLogger(logger),             // where 5xx refusals are logged
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
// middleware asks every one of them, and all that find a tenant must find
// the same one: a request on acme.example.com with X-Tenant-ID: globex is
// refused with 400 ([ErrAmbiguousTenant], a [*ConflictError]) rather than
// routed to either. [FirstMatchWins] makes the resolvers' order their
// precedence instead.
//
// Resolvers change nothing but what their documentation names, and only in
// ASCII: [Header] trims spaces and tabs, nothing else, so "acme" followed by
// U+00A0 is not "acme"; no resolver changes case, so the id is the one the
// request spelled, and the naming decides (the default refuses upper case).
// [FoldCase] lowercases the ASCII letters of every resolver's id, for
// clients that send "ACME"; "\u212Ailo" (KELVIN SIGN) never becomes "kilo".
//
// # Which tenants exist
//
// The tenant's name is validated with the same [tenantpath.Naming] the
// driver uses, before anything else happens. An existence check is
// optional: without one, a request for a tenant with no schema reaches the
// handler, and its first statement fails with [tenantpath.ErrUnknownTenant]
// (nothing is read from another schema). With one, such a request gets 404:
//
//   - [WithTenants] takes a [TenantSource], such as the migrator, and keeps
//     its list in a [Cache]. When the source also has a Watch method
//     ([TenantWatcher]), a tenant created, renamed or dropped in this
//     process is routed, or refused, on the very next request.
//   - [WithLister] takes a function that lists the tenants.
//   - [WithChecker] takes any [Checker], such as a [Cache] built with
//     [NewCache] or [NewCacheFrom] and options like [MissRefresh].
//
// A Cache also reloads its list when a request names a tenant it does not
// know, at most once per [MissRefresh] interval (one second by default), so
// a tenant created by another process is found within that interval, and
// requests for made-up ids cannot hammer the database.
//
// # Refusals, statuses and logs
//
// An invalid name is 400, an unknown tenant 404, a request naming no tenant
// 400 (or passed through untouched with [AllowMissing]), a failing
// existence check or [Func] resolver 500. [StatusOf] is that mapping, and
// also serves handlers: the errors the driver returns
// ([tenantpath.ErrUnknownTenant], [tenantpath.ErrInvalidTenant],
// [tenantpath.ErrNoTenant]) map to 404, 400 and 400.
//
// The client is told what was wrong in terms of the id it sent
// ([Error].Message): never the schema name behind it, nor anything that
// would reveal the naming, nor the text of a server-side error. The server
// side gets the whole story: every 5xx refusal is logged with its cause
// ([WithLogger]; [slog.Default] without it). [WithErrorHandler] replaces
// the plain-text answers; the handler receives an [*Error] whose Err
// matches [ErrMissingTenant], [ErrAmbiguousTenant],
// [tenantpath.ErrInvalidTenant] or [tenantpath.ErrUnknownTenant].
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
