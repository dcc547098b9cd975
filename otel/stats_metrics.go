package tenantotel

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/tenantpath/tenantpath"
)

// RefusalReasonKey splits tenantpath.refusals by why the call was refused:
// "unknown_tenant", "invalid_tenant", "no_tenant" or "tenant_mismatch".
const RefusalReasonKey = attribute.Key("tenantpath.refusal.reason")

// statsInstruments are the counters of [tenantpath.Stats], one instrument
// per field except the four refusals, which are one instrument split by
// reason (their sum, all refused calls, means something; a switch and a
// reuse do not add up that way).
var statsInstruments = []instrument[tenantpath.Stats]{
	{name: "tenantpath.reuses", unit: "{call}", kind: counter,
		description: "Calls that found their connection already on their search_path: nothing was sent for the path.",
		series:      one(func(s *tenantpath.Stats) int64 { return clamp(s.Reuses) })},
	{name: "tenantpath.switches", unit: "{switch}", kind: counter,
		description: "search_path switches sent.",
		series:      one(func(s *tenantpath.Stats) int64 { return clamp(s.Switches) })},
	{name: "tenantpath.carried_switches", unit: "{switch}", kind: counter,
		description: "Switches that travelled in the same network write as their statement (pgx through tenantpgx); they are counted in tenantpath.switches too.",
		series:      one(func(s *tenantpath.Stats) int64 { return clamp(s.Carried) })},
	{name: "tenantpath.refusals", unit: "{call}", kind: counter,
		description: "Calls refused before anything of theirs ran, by reason.",
		series: []series[tenantpath.Stats]{
			{attr: RefusalReasonKey.String("unknown_tenant"), value: func(s *tenantpath.Stats) int64 { return clamp(s.UnknownTenants) }},
			{attr: RefusalReasonKey.String("invalid_tenant"), value: func(s *tenantpath.Stats) int64 { return clamp(s.InvalidTenants) }},
			{attr: RefusalReasonKey.String("no_tenant"), value: func(s *tenantpath.Stats) int64 { return clamp(s.NoTenant) }},
			{attr: RefusalReasonKey.String("tenant_mismatch"), value: func(s *tenantpath.Stats) int64 { return clamp(s.Mismatches) }},
		}},
	{name: "tenantpath.discarded_connections", unit: "{connection}", kind: counter,
		description: "Connections found in doubt and discarded.",
		series:      one(func(s *tenantpath.Stats) int64 { return clamp(s.Discarded) })},
	{name: "tenantpath.drift_retries", unit: "{statement}", kind: counter,
		description: "Statements retried after the server refused a plan made for another tenant's tables.",
		series:      one(func(s *tenantpath.Stats) int64 { return clamp(s.DriftRetries) })},
	{name: "tenantpath.paths_in_doubt", unit: "{path}", kind: counter,
		description: "Times a connection's search_path became unknown, through the caller's SQL or the server's report.",
		series:      one(func(s *tenantpath.Stats) int64 { return clamp(s.PathsInDoubt) })},
}
