// Package tenantotel reports what tenantpath does to OpenTelemetry: the
// driver's counters ([tenantpath.StatsOf], [tenantpath.PoolStatsOf]) as
// metrics, and the tenant of each call on the spans that otelsql, otelhttp
// or the application's own tracers start.
//
// It is a module of its own (github.com/tenantpath/tenantpath/otel), so that
// tenantpath itself depends on no OpenTelemetry package. It is built
// against go.opentelemetry.io/otel v1.47, which needs Go 1.26.
//
// # Metrics
//
// [RegisterMetrics] creates asynchronous instruments on a MeterProvider
// for a *sql.DB that tenantpath opened; [RegisterConnectorMetrics] does the
// same for a [tenantpath.Connector], such as one that otelsql wraps. The
// counts are read when the provider's readers collect, all of them at once
// so that the values of one collection were read together; the statements
// themselves pay nothing for the metrics. Unregister the returned
// Registration when the *sql.DB is closed.
//
//	reg, err := tenantotel.RegisterMetrics(db, otel.GetMeterProvider(), tenantotel.WithDBName("main"))
//	...
//	defer reg.Unregister()
//
// Every data point carries the attributes of [WithDBName]
// (db.client.connection.pool.name) and [WithAttributes]. The instruments,
// all under the instrumentation scope [ScopeName]:
//
//	instrument                                kind           unit          from
//	tenantpath.reuses                         counter        {call}        Stats.Reuses
//	tenantpath.switches                       counter        {switch}      Stats.Switches
//	tenantpath.carried_switches               counter        {switch}      Stats.Carried
//	tenantpath.refusals                       counter        {call}        by tenantpath.refusal.reason:
//	                                                                       unknown_tenant  Stats.UnknownTenants
//	                                                                       invalid_tenant  Stats.InvalidTenants
//	                                                                       no_tenant       Stats.NoTenant
//	                                                                       tenant_mismatch Stats.Mismatches
//	tenantpath.discarded_connections          counter        {connection}  Stats.Discarded
//	tenantpath.drift_retries                  counter        {statement}   Stats.DriftRetries
//	tenantpath.paths_in_doubt                 counter        {path}        Stats.PathsInDoubt
//
// and, for a *sql.DB or Connector opened with [tenantpath.Pool]:
//
//	tenantpath.pool.connection.count          up-down        {connection}  by tenantpath.connection.state:
//	                                                                       used    PoolStats.InUse
//	                                                                       idle    PoolStats.Idle
//	                                                                       held    PoolStats.Held
//	                                                                       opening the rest of PoolStats.Open
//	tenantpath.pool.connection.max            up-down        {connection}  PoolStats.Size
//	tenantpath.pool.pending_requests          up-down        {request}     PoolStats.Waiting
//	tenantpath.pool.checkouts                 counter        {checkout}    PoolStats.Checkouts
//	tenantpath.pool.same_request_checkouts    counter        {checkout}    PoolStats.SameRequest
//	tenantpath.pool.on_path_checkouts         counter        {checkout}    PoolStats.OnPath
//	tenantpath.pool.waits                     counter        {wait}        PoolStats.Waits
//	tenantpath.pool.wait_time                 counter        s             PoolStats.WaitTime
//	tenantpath.pool.canceled_waits            counter        {wait}        PoolStats.Canceled
//	tenantpath.pool.holds                     counter        {hold}        PoolStats.Holds
//	tenantpath.pool.switches                  counter        {switch}      PoolStats.Switches
//	tenantpath.pool.connection.opened         counter        {connection}  PoolStats.Opened
//	tenantpath.pool.connection.closed         counter        {connection}  PoolStats.Closed
//	tenantpath.pool.statement_cache.hits      counter        {statement}   PoolStats.StmtHits
//	tenantpath.pool.statement_cache.misses    counter        {statement}   PoolStats.StmtPrepare
//
// Counters are cumulative sums that only grow; up-down counters are levels
// read at collection. Carried switches are counted in tenantpath.switches
// too; the four refusal reasons add up to the calls refused.
//
// No instrument carries the tenant: the number of tenants has no bound,
// and a time series per tenant would make every metrics backend pay for
// each sign-up. What happened to one tenant is on its spans and in the
// records of [tenantpath.WithLogger].
//
// # Spans
//
// [SpanProcessor] sets [TenantKey] (tenantpath.tenant) on every span started
// with a context that carries a tenant, and [ScopeKey] (tenantpath.scope)
// to "shared" or "base" for the other scopes a context can name. It reads
// the context the span is started with, so spans of any instrumentation
// get the attribute, as long as the context they are started with is the
// one the call carries (otelsql's are):
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(tenantotel.NewSpanProcessor()),
//		sdktrace.WithBatcher(exporter))
//
// Where instrumentation takes attributes from a function rather than from
// the provider, [Attributes] gives the same ones for a context.
//
// # With otelsql
//
// otelsql (github.com/XSAM/otelsql) wraps a driver.Connector, so open it
// over a tenantpath Connector and register that Connector's metrics, since
// otelsql's *sql.DB hides tenantpath's from [RegisterMetrics]:
//
//	conn, err := tenantpath.NewConnector(stdlib.GetConnector(*cfg), tenantpath.WithNaming(naming))
//	...
//	db := otelsql.OpenDB(conn, otelsql.WithTracerProvider(tp))
//	reg, err := tenantotel.RegisterConnectorMetrics(conn, mp, tenantotel.WithDBName("main"))
//
// With [tenantpath.Pool], sql.OpenDB (which otelsql calls) keeps
// database/sql's own idle pool; call db.SetMaxIdleConns(0) and
// db.SetMaxOpenConns(0) as [tenantpath.OpenDB] would (docs/pool.md).
//
// The functions of this package and a [SpanProcessor] are safe for
// concurrent use.
package tenantotel
