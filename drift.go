package tenantpath

import (
	"errors"
	"strings"
)

// SchemaDriftError reports a statement PostgreSQL refused because its cached
// plan was made for a table of another shape: with tenants at different
// migration versions, `SELECT *` from a prepared statement (pgx prepares and
// caches statements by default) returns other columns in another tenant's
// schema, and the server answers "cached plan must not change result type"
// (SQLSTATE 0A000). The statement did not run.
//
// Outside a transaction the driver retries such a statement once (pgx drops
// the failed cached statement, so the retry is prepared afresh on the new
// path), and only returns this error if the retry fails the same way.
// Inside a transaction the error has aborted the transaction, so it is
// returned: retry the whole transaction. Err is the driver's error.
type SchemaDriftError struct {
	Scope string // e.g. `tenant "10"`
	InTx  bool
	Err   error
}

func (e *SchemaDriftError) Error() string {
	what := "it was retried once and failed again; re-prepare the statement"
	if e.InTx {
		what = "inside a transaction it cannot be retried; the transaction is aborted, retry it"
	}
	return "tenantpath: statement for " + e.Scope + " was planned for tables of another shape " +
		"(tenants at different migration versions?): " + what + ": " + e.Err.Error()
}

func (e *SchemaDriftError) Unwrap() error { return e.Err }

// isPlanChanged recognises the server's refusal to reuse a plan whose result
// type changed. SQLSTATE 0A000 alone is too broad (it means "feature not
// supported"), so the message is checked too; with a server that reports
// messages in another language the error is simply not recognised, and
// passes through unchanged.
func isPlanChanged(err error) bool {
	return sqlState(err) == "0A000" && strings.Contains(err.Error(), "cached plan must not change result type")
}

// mayRetry reports whether a failed statement may run once more: only
// outside a transaction, where a failed statement has changed nothing, and
// only for the two ways a statement cached under another tenant's path
// fails: a changed result type, and an operator or function that does not
// exist for this tenant's types (a parameter typed as another tenant's enum,
// "operator does not exist: mood = org_10.mood", SQLSTATE 42883). pgx drops
// a cached statement that failed, so the retry is prepared afresh on the
// current path. A genuinely wrong statement fails twice; the second error is
// returned unchanged.
func (c *conn) mayRetry(err error) bool {
	return c.tx == nil && (isPlanChanged(err) || sqlState(err) == "42883")
}

func sqlState(err error) string {
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return coded.SQLState()
	}
	return ""
}

// explain wraps a plan-change error in a SchemaDriftError.
func (c *conn) explain(err error) error {
	if err == nil || !isPlanChanged(err) {
		return err
	}
	e := &SchemaDriftError{Err: err, InTx: c.tx != nil}
	switch {
	case c.tx != nil:
		e.Scope = c.tx.scope.String()
	case c.state == pathTenant:
		e.Scope = scope{kind: scopeTenant, tenant: c.tenant}.String()
	default:
		e.Scope = "this connection's path"
	}
	return e
}
