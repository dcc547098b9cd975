package main

import "slices"

// Contender names, as BenchmarkRoute and BenchmarkPool spell them.
const (
	rawPgx    = "raw-pgx"
	setConn   = "set-conn"
	setLocal  = "set-local-tx"
	tpPgx     = "tenantpath-pgx"
	tpPgxConn = "tenantpath-pgx-conn"
	rawPq     = "raw-pq"
	tpPq      = "tenantpath-pq"
	tpgxPgx   = "tenantpgx-pgx"
	tpgxPool  = "tenantpgx-pgx-pool"

	// BenchmarkPool's own.
	setConnReq = "set-conn-req"
	tpPgxPool  = "tenantpath-pgx-pool"
	tpPqPool   = "tenantpath-pq-pool"
)

// contenderInfo is what the report says about a contender: its line in
// "## Contenders", its short name in table headings, the contenders its
// throughput and CPU are divided by, whether it is a routed *sql.DB
// over pgx with every statement on the shared *sql.DB, to which the
// targets for tenantpath apply, and whether only BenchmarkPool runs it
// (it is then described in the pool's section, not in "## Contenders").
type contenderInfo struct {
	name, short, doc string
	vs               []string
	sharedPgx        bool
	poolOnly         bool
}

// contenderInfos lists every contender the report knows, in the order of
// "## Contenders". A contender that did not run is left out everywhere; one
// that ran without an entry here is listed by name in the absolute tables
// only. A new contender needs one entry.
var contenderInfos = []contenderInfo{
	{name: rawPgx, short: "raw pgx (1)",
		doc: "raw pgx stdlib, statements naming the schema (`\"tpb_7\".items`); no routing at all."},
	{name: setConn, short: "SET (2)",
		doc: "hand-rolled: `db.Conn`, `SET search_path TO …`, the statements, `Conn.Close`."},
	{name: setLocal, short: "SET LOCAL tx (3)",
		doc: "hand-rolled \"safe\": `BEGIN`, `SET LOCAL search_path TO …`, the statements, `COMMIT`."},
	{name: tpPgx, short: "pgx", vs: []string{rawPgx, setConn, setLocal}, sharedPgx: true,
		doc: "`tenantpath.OpenDB` over `stdlib.GetConnector`, tenant in the context, every statement on the shared `*sql.DB` as the README shows."},
	{name: tpPgxConn, short: "pgx-conn", vs: []string{rawPgx, setConn, setLocal},
		doc: "the same, with the request's statements on one `db.Conn(ctx)` checked out per request (as contender 2 does), so a request switches at most once."},
	{name: tpgxPgx, short: "tenantpgx", vs: []string{rawPgx, setConn, setLocal}, sharedPgx: true,
		doc: "pgx through `tenantpgx.OpenDB(cfg, opts...)`, which sends the switch in the same write as the statement it precedes; tenant in the context, every statement on the shared `*sql.DB`."},
	{name: tpgxPool, short: "tenantpgx Pool", vs: []string{rawPgx, setConn, setLocal}, sharedPgx: true,
		doc: "the same with `tenantpath.Pool(n)` (n = the scenario's pool size): a call gets a connection already on its tenant's path, its request's last one first; a cancellable context per request."},
	{name: tpPq, short: "pq", vs: []string{rawPq, rawPgx},
		doc: "`tenantpath.OpenDB` over `pq.NewConnector`, tenant in the context, every statement on the shared `*sql.DB`."},
	{name: rawPq, short: "raw pq",
		doc: "lib/pq on schema-qualified statements, the floor for `tenantpath-pq` (lib/pq sends Parse and Bind in two round trips, so pgx's floor is not its floor)."},
	{name: setConnReq, short: "SET per request", poolOnly: true,
		doc: "`set-conn` with a cancellable context per request, cancelled when the request ends, as a handler gets (pgx watches a cancellable context during every query, which costs CPU of its own)."},
	{name: tpPgxPool, short: "pgx Pool", vs: []string{setConn, setConnReq, tpPgx}, poolOnly: true,
		doc: "`tenantpath.OpenDB` over `stdlib.GetConnector` with `tenantpath.Pool(n)`, every statement on the shared `*sql.DB`, a cancellable context per request."},
	{name: tpPqPool, short: "pq Pool", vs: []string{setConn, setConnReq}, poolOnly: true,
		doc: "the same over `pq.NewConnector`."},
}

func infoOf(name string) (contenderInfo, bool) {
	i := slices.IndexFunc(contenderInfos, func(c contenderInfo) bool { return c.name == name })
	if i < 0 {
		return contenderInfo{}, false
	}
	return contenderInfos[i], true
}

func shortName(name string) string {
	if c, ok := infoOf(name); ok {
		return c.short
	}
	return name
}

// comparison is one column of the ratio tables: a divided by base (for
// throughput), base divided by a (for CPU per op).
type comparison struct{ a, base string }

// comparisons returns every comparison both of whose contenders ran.
func (d routeData) comparisons() []comparison {
	var out []comparison
	for _, c := range contenderInfos {
		for _, base := range c.vs {
			if d.has(c.name) && d.has(base) {
				out = append(out, comparison{c.name, base})
			}
		}
	}
	return out
}

// sharedPgx returns the routed contenders over pgx with every statement on
// the shared *sql.DB that ran, tenantpath-pgx first.
func (d routeData) sharedPgx() []string {
	var out []string
	for _, c := range contenderInfos {
		if c.sharedPgx && d.has(c.name) {
			out = append(out, c.name)
		}
	}
	return out
}
