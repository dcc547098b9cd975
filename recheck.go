package tenantpath

import (
	"errors"
	"sync/atomic"
	"time"
)

// A tenant's schema can be dropped or renamed while connections still have
// its path set. Unqualified names would then resolve in the shared schemas,
// without an error, so a connection does not trust a tenant path forever:
// it sends the switch again, which checks the schema, when its path is
// older than the recheck interval, and at once after SchemasChanged in
// this process.

// DefaultRecheck is how long a connection trusts the tenant path it set
// before it checks the schema again (see [RecheckAfter]).
const DefaultRecheck = time.Second

// schemaEpoch counts SchemasChanged calls in this process. A connection
// remembers the epoch its tenant path was set in.
var schemaEpoch atomic.Uint64

// SchemasChanged tells every tenantpath connection in this process that
// tenant schemas may have been dropped or renamed: before its next call for
// a tenant, each one checks that tenant's schema again, so a call for a
// dropped tenant fails with [ErrUnknownTenant] rather than reading the
// shared schemas. The migrator calls it after Drop and Rename; call it
// after dropping or renaming a tenant's schema with your own SQL.
// Connections in other processes notice within their recheck interval.
func SchemasChanged() { schemaEpoch.Add(1) }

// RecheckAfter sets how long a connection trusts the tenant path it set
// before it checks the tenant's schema again, for schemas dropped or
// renamed by another process (see [SchemasChanged] for this one). The
// check is the switch itself: with pgx through tenantpgx it rides on the
// statement's round trip, otherwise it costs one round trip per connection
// per interval. The default is [DefaultRecheck]; a negative d never
// rechecks, which leaves other processes' drops unnoticed until the
// connection switches for another reason.
func RecheckAfter(d time.Duration) Option {
	return func(c *config) error {
		if d == 0 {
			return errors.New("tenantpath: RecheckAfter: zero interval; use a negative one to never recheck")
		}
		c.recheck = d
		return nil
	}
}

// trusted reports whether the tenant path the connection set may still be
// relied on without checking its schema again.
func (c *conn) trusted() bool {
	if c.epoch != schemaEpoch.Load() {
		return false
	}
	return c.cfg.recheck < 0 || time.Since(c.setAt) < c.cfg.recheck
}

// pathSet records when, and in which epoch, a tenant path was set.
func (c *conn) pathSet() {
	c.epoch = schemaEpoch.Load()
	c.setAt = time.Now()
}
