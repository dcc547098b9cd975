package tenantpath

import "database/sql/driver"

// tx is an open transaction. Its scope was applied before BEGIN and holds
// until it ends: calls for another scope are refused, never switched.
type tx struct {
	conn  *conn
	inner driver.Tx
	scope scope

	// pathInDoubt is set when the caller's SQL inside the transaction may
	// have changed the path or ended the transaction by hand (after which
	// the server runs the next statements outside it). From then on calls
	// that ask for a tenant or the shared scope are refused, and when the
	// transaction ends the connection's path counts as unknown.
	pathInDoubt bool
}

var _ driver.Tx = (*tx)(nil)

// admit checks a call made inside the transaction. A call without a tenant
// runs in the transaction's scope (RequireTenant has refused it already).
func (t *tx) admit(want scope) error {
	if want.kind == scopeNone {
		return nil
	}
	if t.pathInDoubt {
		return &TenantMismatchError{Tx: t.scope.String() + " whose own SQL changed its path or ended it", Call: want.String()}
	}
	if want != t.scope {
		return &TenantMismatchError{Tx: t.scope.String(), Call: want.String()}
	}
	return nil
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
	if t.pathInDoubt {
		c.userChangedPath(t.scope.kind)
	}
}
