package tenantotel

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/tenantpath/tenantpath"
)

// ConnectionStateKey splits tenantpath.pool.connection.count by what the
// pool's connections are doing: "used" (handed to a caller), "idle",
// "held" (kept for the next statement of the request that gave it back)
// or "opening" (being dialled). The four add up to the connections open.
const ConnectionStateKey = attribute.Key("tenantpath.connection.state")

// poolInstruments are the counters and levels of [tenantpath.PoolStats],
// for a *sql.DB opened with [tenantpath.Pool].
var poolInstruments = []instrument[tenantpath.PoolStats]{
	{name: "tenantpath.pool.connection.count", unit: "{connection}", kind: upDown,
		description: "Server connections the pool has open, by state.",
		series: []series[tenantpath.PoolStats]{
			{attr: ConnectionStateKey.String("used"), value: func(s *tenantpath.PoolStats) int64 { return int64(s.InUse) }},
			{attr: ConnectionStateKey.String("idle"), value: func(s *tenantpath.PoolStats) int64 { return int64(s.Idle) }},
			{attr: ConnectionStateKey.String("held"), value: func(s *tenantpath.PoolStats) int64 { return int64(s.Held) }},
			{attr: ConnectionStateKey.String("opening"), value: opening},
		}},
	{name: "tenantpath.pool.connection.max", unit: "{connection}", kind: upDown,
		description: "The most server connections the pool may open: n of Pool(n).",
		series:      one(func(s *tenantpath.PoolStats) int64 { return int64(s.Size) })},
	{name: "tenantpath.pool.pending_requests", unit: "{request}", kind: upDown,
		description: "Callers waiting for a connection.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return int64(s.Waiting) })},
	{name: "tenantpath.pool.checkouts", unit: "{checkout}", kind: counter,
		description: "Connections handed to callers.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.Checkouts) })},
	{name: "tenantpath.pool.same_request_checkouts", unit: "{checkout}", kind: counter,
		description: "Checkouts that handed the caller the connection its request used last.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.SameRequest) })},
	{name: "tenantpath.pool.on_path_checkouts", unit: "{checkout}", kind: counter,
		description: "Checkouts that handed the caller a connection already on its search_path, so that no switch was needed.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.OnPath) })},
	{name: "tenantpath.pool.waits", unit: "{wait}", kind: counter,
		description: "Checkouts that had to wait for a connection.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.Waits) })},
	{name: "tenantpath.pool.wait_time", unit: "s", kind: seconds,
		description: "Time callers spent waiting for a connection, in total.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return int64(s.WaitTime) })},
	{name: "tenantpath.pool.canceled_waits", unit: "{wait}", kind: counter,
		description: "Waits for a connection that ended with the caller's context.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.Canceled) })},
	{name: "tenantpath.pool.holds", unit: "{hold}", kind: counter,
		description: "Connections kept for the next statement of the request that gave them back.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.Holds) })},
	{name: "tenantpath.pool.switches", unit: "{switch}", kind: counter,
		description: "search_path switches sent on the pool's connections.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.Switches) })},
	{name: "tenantpath.pool.connection.opened", unit: "{connection}", kind: counter,
		description: "Server connections opened.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.Opened) })},
	{name: "tenantpath.pool.connection.closed", unit: "{connection}", kind: counter,
		description: "Server connections closed: dead, in doubt, retired, expired, or the pool closed.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.Closed) })},
	{name: "tenantpath.pool.statement_cache.hits", unit: "{statement}", kind: counter,
		description: "Prepares answered from a connection's statement cache.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.StmtHits) })},
	{name: "tenantpath.pool.statement_cache.misses", unit: "{statement}", kind: counter,
		description: "Prepares sent to the server.",
		series:      one(func(s *tenantpath.PoolStats) int64 { return clamp(s.StmtPrepare) })},
}

// opening is the pool's connections being dialled: Open counts them, the
// three states do not. The snapshot is read under the pool's lock, so the
// difference is never negative; the guard is for a reading that is not.
func opening(s *tenantpath.PoolStats) int64 {
	return int64(max(0, s.Open-s.InUse-s.Idle-s.Held))
}
