package tenantpath

import (
	"context"
	"database/sql/driver"
	"reflect"
	"time"
)

// A connection that tenantpath closes may not end: a connector over a pool
// (pgx's stdlib.GetPoolConnector over a pgxpool.Pool) hands it back to that
// pool, whose other users would then run on the tenant's path. So before
// such a connection is closed, its path (and role) go back to the session's
// own, unless the connector is known to end its connections, where that
// round trip would be wasted.

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

// resetForHandBack puts the session's own path back on a connection about
// to be handed to another user, if tenantpath moved it. A connection whose
// reset fails is in doubt; the caller still closes it.
func (c *conn) resetForHandBack() {
	if !c.handBack || c.bad || c.on.Kind == ScopeBase || !c.moved {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), handBackTimeout)
	defer cancel()
	if _, err := c.execDirect(ctx, c.cfg.baseQuery); err != nil {
		c.discard(ctx, "resetting the path before handing it back failed", err)
		return
	}
	c.on = Scope{Kind: ScopeBase}
}
