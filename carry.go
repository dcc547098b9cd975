package tenantpath

import (
	"context"
	"database/sql/driver"

	"github.com/tenantpath/tenantpath/internal/wire"
)

// Carrying the switch in the same write as the statement it precedes
// (package internal/wire), for base connections that allow it: pgx through
// tenantpgx.GetConnector. A call that needs a switch then costs one round
// trip instead of two.

// carrierSource is implemented by base connectors of this module whose
// connections run over a wire.Conn. Only code of this module can name
// wire.Conn, so nothing else implements it.
type carrierSource interface {
	CarrierFor(driver.Conn) *wire.Conn
}

// armed is the switch a connection has armed for its next request.
type armed struct {
	want     Scope
	schema   string
	local    bool
	settings []string // per-tenant settings it sets
}

// pathFor makes sure a statement (text) runs on want's path: inside a
// transaction it admits the call; otherwise it arms a switch to travel
// with the statement, or sends one alone, or does nothing when the
// connection is there already. It reports whether it armed one: the
// caller must then call landed once the statement has been sent.
func (c *conn) pathFor(ctx context.Context, want Scope, text string) (bool, error) {
	switch {
	case c.tx != nil:
		armed, err := c.tx.admit(ctx, want)
		if !armed && err == nil {
			c.cfg.counts.reuses.Add(1)
		}
		return armed, err
	case c.cfg.txPooling:
		if want.Kind == ScopeBase || c.wire == nil {
			return false, nil // run as it is, or wrapped by the caller
		}
		return c.carry(ctx, want, true)
	case c.on == want && (want.Kind != ScopeTenant || c.trusted()),
		want.Kind == ScopeBase && c.on.Kind == pathUser:
		c.cfg.counts.reuses.Add(1)
		return false, nil
	case c.wire != nil && c.wire.InFailedBlock():
		// A transaction begun by hand failed: the server refuses all but
		// the statement that ends it, whatever the path, and would refuse
		// a switch too, which would take that statement down with it.
		// The path stays unknown; the call after it switches.
		return false, nil
	case c.native || c.wire != nil && wire.Carriable(text):
		// A native connection sends nothing alone: its wire sends the
		// switch ahead of a request that cannot share its transaction.
		return c.carry(ctx, want, false)
	}
	return false, c.switchTo(ctx, want)
}

// carry arms the switch to want's path (for the transaction only, with
// local) on the wire, or sends it alone when it cannot be carried.
func (c *conn) carry(ctx context.Context, want Scope, local bool) (bool, error) {
	query, schema, settings, err := c.switchStatement(want, local, carried)
	if err != nil {
		return false, err
	}
	if query == "" {
		if local {
			return false, nil
		}
		return false, c.switchTo(ctx, want)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c.wire.Arm(query, local)
	c.armed = armed{want: want, schema: schema, local: local, settings: settings}
	return true, nil
}

// landed records what became of an armed switch once the statement it went
// with has been sent (err is the statement's error), and returns the
// call's error: the switch's own failure replaces the statement's.
func (c *conn) landed(ctx context.Context, err error) error {
	a := c.armed
	c.armed = armed{}
	if !c.wire.Disarm() {
		// The base driver sent nothing: nothing changed. A switch for
		// a transaction that did not go leaves its path in doubt.
		if a.local && c.tx != nil {
			c.tx.pathInDoubt = true
		}
		return err
	}
	switch c.wire.Fate() {
	case wire.FateRefused:
		return c.refusedSwitch(ctx, a, err)
	case wire.FateLost:
		c.discard(ctx, "the protocol went out of step", err)
		return err
	}
	c.countSwitch(ctx, a.want, true)
	if !a.local {
		// The switch ran. Whether it holds depends on how the
		// transaction it ran in ends; settle finds out.
		c.on, c.carried, c.moved = a.want, true, true
		c.settingsApplied(a.settings)
		if a.want.Kind == ScopeTenant {
			c.served(a.want.Tenant)
			c.pathSet()
		}
	}
	return err
}

// refusedSwitch handles a switch the server refused: the statement never
// ran and its error is the switch's.
func (c *conn) refusedSwitch(ctx context.Context, a armed, err error) error {
	switch sqlState(err) {
	case "3F000", "42704": // no such schema, no such role
		if c.on == a.want {
			// The schema went away under a path the connection still
			// has: calls for it must not run there.
			c.on = Scope{Kind: pathUnknown}
		}
		return &UnknownTenantError{Tenant: a.want.Tenant, Schema: a.schema}
	}
	c.discard(ctx, "the switch failed", err)
	return &SwitchError{Scope: a.want, Err: err}
}

// settle applies what became of the last carried switch, once the
// transaction it ran in has ended: a rollback undid it.
func (c *conn) settle(ctx context.Context) {
	if !c.carried {
		return
	}
	switch c.wire.Fate() {
	case wire.FatePending:
		return // its transaction is still open: the path is in place
	case wire.FateUndone:
		c.on = Scope{Kind: pathUnknown}
	case wire.FateLost:
		c.discard(ctx, "the protocol went out of step", nil)
	}
	c.carried = false
}
