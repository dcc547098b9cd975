package tenantpath

import (
	"database/sql"
	"sync/atomic"
)

// Stats counts what tenantpath did on the connections of one [Connector]
// (or of every connection a registered [Driver] opened) since it was made.
// Counters only grow; compare two readings to see a period.
type Stats struct {
	Reuses   uint64 // calls that found their connection on their path: nothing was sent for it
	Switches uint64 // switches sent
	// Carried counts the switches that travelled in the same network write
	// as their statement (pgx through tenantpgx); the rest cost a round
	// trip of their own.
	Carried uint64

	UnknownTenants uint64 // calls refused because the tenant's schema (or role) does not exist
	InvalidTenants uint64 // calls refused because the tenant id or its schema name breaks the naming rules
	NoTenant       uint64 // calls refused because their context named no scope
	Mismatches     uint64 // calls refused inside a transaction begun for another scope

	Discarded    uint64 // connections found in doubt and discarded
	DriftRetries uint64 // statements retried after the server refused a plan made for another tenant's tables
	PathsInDoubt uint64 // times a connection's path became unknown: the caller's SQL, or the server's report
}

// counters are the running counts, shared by a connector's connections.
// The two bumped on every call sit on cache lines of their own, so that
// connections in different goroutines do not slow each other down.
type counters struct {
	reuses   atomic.Uint64
	_        [56]byte
	switches atomic.Uint64
	_        [56]byte

	carried, unknown, invalid, noTenant, mismatches atomic.Uint64
	discarded, driftRetries, inDoubt                atomic.Uint64
}

func (c *counters) read() Stats {
	return Stats{
		Reuses: c.reuses.Load(), Switches: c.switches.Load(), Carried: c.carried.Load(),
		UnknownTenants: c.unknown.Load(), InvalidTenants: c.invalid.Load(),
		NoTenant: c.noTenant.Load(), Mismatches: c.mismatches.Load(),
		Discarded: c.discarded.Load(), DriftRetries: c.driftRetries.Load(), PathsInDoubt: c.inDoubt.Load(),
	}
}

// Stats reports the connector's counts.
func (c *Connector) Stats() Stats { return c.cfg.counts.read() }

// Stats reports the counts of every connection the driver opened.
func (d *Driver) Stats() Stats { return d.cfg.counts.read() }

// StatsOf reports the [Stats] of a *sql.DB opened with [OpenDB] (or with
// sql.OpenDB over a [Connector]), or with sql.Open over a driver from
// [Wrap] (the counts are then the driver's: every *sql.DB it opened). ok
// is false for any other *sql.DB.
func StatsOf(db *sql.DB) (st Stats, ok bool) {
	d, isOurs := db.Driver().(*Driver)
	if !isOurs {
		return Stats{}, false
	}
	return d.Stats(), true
}
