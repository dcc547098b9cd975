package tenantpath

import "database/sql/driver"

// tx is an open transaction. Its scope was applied before BEGIN and holds
// until it ends: calls for another scope are refused, never switched.
type tx struct {
	conn  *conn
	inner driver.Tx
	scope scope

	// changedPath is set when the caller's SQL inside the transaction may
	// have changed the path. Whether that survives depends on COMMIT or
	// ROLLBACK, so afterwards the path counts as set by the caller.
	changedPath bool
}

var _ driver.Tx = (*tx)(nil)

// admit checks a call made inside the transaction. A call without a tenant
// runs in the transaction's scope (RequireTenant has refused it already).
func (t *tx) admit(want scope) error {
	if want.kind == scopeNone || want == t.scope {
		return nil
	}
	return &TenantMismatchError{Tx: t.scope.String(), Call: want.String()}
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
	if t.changedPath {
		c.state = pathUser
	}
}
