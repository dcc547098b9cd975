package tenantpath

import (
	"context"
	"database/sql/driver"
	"reflect"
	"strings"
	"time"
)

// A connection that tenantpath closes may not end: a connector over a pool
// (pgx's stdlib.GetPoolConnector over a pgxpool.Pool) hands it back to that
// pool, whose other users would then run on the tenant's path. So before
// such a connection is closed, its path, role and settings go back to the
// session's own, unless the connector is known to end its connections,
// where that round trip would be wasted.

// closesConnections is implemented by base connectors of this module that
// say whether closing one of their connections ends it.
type closesConnections interface {
	ClosesConnections() bool
}

// handsBack reports whether closing a connection of base may hand it to
// another user rather than end it.
func handsBack(base driver.Connector) bool {
	if cc, ok := base.(closesConnections); ok {
		return !cc.ClosesConnections()
	}
	t := reflect.TypeOf(base)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	// lib/pq's connector opens a connection of its own each time.
	return t.PkgPath() != "github.com/lib/pq"
}

// handBackTimeout bounds the reset before a connection is handed back.
const handBackTimeout = 5 * time.Second

// resetForHandBack puts the session's own path, role and settings back on
// a connection about to be handed to another user, if tenantpath moved
// them. A connection whose state nobody can vouch for (in doubt, or its
// reset failed) and one retired by MaxTenantsPerConn must not be handed
// on at all: its session is ended, so that the pool below sees it closed
// and drops it.
func (c *conn) resetForHandBack() {
	if !c.handBack || !c.moved {
		return
	}
	if v, ok := c.inner.(driver.Validator); ok && !v.IsValid() {
		return // closed already: the pool below drops it
	}
	ctx, cancel := context.WithTimeout(context.Background(), handBackTimeout)
	defer cancel()
	switch {
	case c.retired:
		c.endSession(ctx)
		return
	case !c.bad && c.on.Kind == ScopeBase:
		return
	}
	if _, err := c.execDirect(ctx, c.handBackQuery()); err != nil {
		c.discard(ctx, "resetting the path before handing it back failed", err)
		c.endSession(ctx)
		return
	}
	c.on = Scope{Kind: ScopeBase}
}

// handBackQuery resets the path and role, and the settings the connection
// ever set for a tenant.
func (c *conn) handBackQuery() string {
	if len(c.settingsSet) == 0 {
		return c.cfg.baseQuery
	}
	var extra strings.Builder
	for _, name := range c.settingsSet {
		extra.WriteString(", " + resetTo(name))
	}
	return c.cfg.baseSwitch(alone, extra.String())
}

// endSession ends the server session of a connection the pool below must
// not keep: its backend terminates itself, the base driver sees the
// connection closed, and the pool drops it. If even that fails (in a failed
// transaction block, say), the pool below drops it for not being idle.
func (c *conn) endSession(ctx context.Context) {
	c.execDirect(ctx, "SELECT pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid())")
}
