package tenantpath

import (
	"errors"
	"strings"

	"github.com/tenantpath/tenantpath/internal/sqlscan"
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
	Scope Scope // the scope the statement ran for
	InTx  bool
	Err   error
}

func (e *SchemaDriftError) Error() string {
	what := "it was retried once and failed again; re-prepare the statement"
	if e.InTx {
		what = "inside a transaction it cannot be retried; the transaction is aborted, retry it"
	}
	return "tenantpath: statement for " + e.Scope.String() + " was planned for tables of another shape " +
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
// outside a transaction, and only when the server provably refused it
// before executing any of it, so nothing it does can happen twice. pgx
// drops a cached statement that failed, so the retry is prepared afresh on
// the current path.
//
// Over a wire (tenantpgx) the proof is in the protocol: the error came
// before the server bound the statement (it refuses a cached plan that no
// longer fits then, with 0A000 for a changed result type or 42883 for a
// parameter typed with another tenant's enum). Without it, only a cached
// plan whose result type changed is retried, when the text is one
// statement: PostgreSQL raises that error only when it revalidates a plan
// before running it, and nothing before it in the same string ran. An
// operator that does not exist (42883) can also be raised half-way through
// a run (inside a function, after a nextval or an INSERT), so it is then
// never retried.
func (c *conn) mayRetry(err error, st *statement) bool {
	if c.tx != nil {
		return false
	}
	if c.wire != nil && c.wire.RefusedBeforeBind() {
		return isPlanChanged(err) || sqlState(err) == "42883"
	}
	return isPlanChanged(err) && singleStatement(st.text)
}

// singleStatement reports whether query holds at most one statement.
func singleStatement(query string) bool {
	sp := sqlscan.NewSplitter(query)
	n := 0
	for {
		s, ok := sp.Next()
		if !ok {
			return n <= 1
		}
		if !s.Empty {
			n++
		}
	}
}

func sqlState(err error) string {
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return coded.SQLState()
	}
	return ""
}

// explain wraps a plan-change error in a SchemaDriftError.
func (c *conn) explain(err error, want Scope) error {
	if err == nil || !isPlanChanged(err) {
		return err
	}
	e := &SchemaDriftError{Err: err, Scope: want, InTx: c.tx != nil}
	if c.tx != nil {
		e.Scope = c.tx.scope
	}
	return e
}
