package tenantpath

import (
	"context"
	"database/sql/driver"
)

// tx is an open transaction. Its scope was applied before BEGIN and holds
// until it ends: calls for another scope are refused, never switched.
type tx struct {
	conn  *conn
	inner driver.Tx
	scope Scope

	// pathInDoubt is set when the caller's SQL inside the transaction may
	// have changed the path (the migrator's CreateTx does, to build a new
	// tenant's schema, and puts it back), or when a savepoint rollback may
	// have undone a path the driver set again. The next call for the
	// transaction's scope sets the path again for the rest of the
	// transaction (set_config(…, true)) before it runs.
	pathInDoubt bool
	// ended is set when the caller's SQL may have ended the transaction
	// by hand (COMMIT, ROLLBACK, …): the server then runs the next
	// statements outside it, where a transaction-scoped path would not
	// hold, so calls for a tenant or the shared scope are refused.
	ended bool
	// doubt, when set, says why the path can no longer be vouched for (the
	// server reported another one): tenant calls are refused.
	doubt string
	// touched remembers that the path was ever in doubt, for savepoint
	// rollbacks and for the connection's state afterwards.
	touched bool
}

var _ driver.Tx = (*tx)(nil)

// admit checks a call made inside the transaction. A call for the base path
// runs in the transaction's scope. It reports whether it armed a switch to
// travel with the call (see reassert).
func (t *tx) admit(ctx context.Context, want Scope) (bool, error) {
	if err := t.refusal(want); err != nil {
		return false, err
	}
	switch {
	case want.Kind != ScopeBase && t.pathInDoubt:
		return t.reassert(ctx)
	case want.Kind == ScopeBase && t.ended && !t.pathInDoubt && t.scope.Kind != ScopeBase && t.conn.wire != nil:
		// The caller's SQL may have ended the transaction (ROLLBACK AND
		// CHAIN keeps a block open). A switch carried with BEGIN ends
		// with it, and the path is then the one from before: another
		// tenant's, perhaps. The call runs in the transaction's scope, so
		// that scope's path goes with it, for its transaction only. (A
		// caller who set the path itself, as the migrator does, keeps
		// its own: pathInDoubt.)
		return t.reassert(ctx)
	}
	return false, nil
}

// refusal returns why a call for want may not run in the transaction, or
// nil.
func (t *tx) refusal(want Scope) error {
	switch {
	case want.Kind == ScopeBase:
		return nil
	case want != t.scope:
		return &TenantMismatchError{Tx: t.scope, Call: want}
	case t.ended:
		return &TenantMismatchError{Tx: t.scope, Call: want, Doubt: "its own SQL may have ended"}
	case t.doubt != "":
		return &TenantMismatchError{Tx: t.scope, Call: want, Doubt: t.doubt}
	}
	return nil
}

// reassert sets the transaction's path again, for the rest of the
// transaction only: carried with the call when the connection can, alone
// otherwise. Whatever happens, the connection's path counts as unknown once
// the transaction ends (touched is set).
func (t *tx) reassert(ctx context.Context) (bool, error) {
	c := t.conn
	t.pathInDoubt = false
	if c.wire != nil {
		armed, err := c.carry(ctx, t.scope, true)
		if err != nil {
			t.pathInDoubt = true // and landed puts it back if nothing is sent
		}
		return armed, err
	}
	query, schema, _, err := c.switchStatement(t.scope, true, alone)
	if err == nil {
		err = c.sendSwitch(ctx, query, t.scope, schema)
	}
	if err != nil {
		t.pathInDoubt = true
	}
	return false, err
}

// observe records what the caller's SQL inside the transaction may have
// done. The path was set before BEGIN (or, when pooling, right after it,
// before any savepoint), so savepoint rollbacks change nothing, unless the
// path was set again inside the transaction: a rollback to a savepoint
// taken before that undoes it.
func (t *tx) observe(effect sqlEffect) {
	if effect&effectPath != 0 {
		t.pathInDoubt, t.touched = true, true
	}
	if effect&effectSavepointRollback != 0 && t.touched {
		t.pathInDoubt = true
	}
	if effect&effectEndTx != 0 {
		t.ended, t.touched = true, true
	}
}

func (t *tx) Commit() error {
	defer t.end()
	return t.inner.Commit()
}

func (t *tx) Rollback() error {
	defer t.end()
	return t.inner.Rollback()
}

func (t *tx) end() {
	c := t.conn
	c.tx = nil
	if c.wire != nil {
		c.settle(context.Background()) // a switch carried with BEGIN is undone by ROLLBACK
	}
	if t.touched {
		c.userChangedPath(t.scope.Kind)
	}
}
