// Package bridge lets package tenantpgx route connections that
// database/sql does not manage (pgxpool's) with tenantpath's own rules and
// state, from the same code. Package tenantpath sets NewRouter when it is
// initialised; tenantpgx imports tenantpath, so it is always set by the
// time tenantpgx calls it.
package bridge

import (
	"context"

	"github.com/tenantpath/tenantpath/internal/wire"
)

// Router holds the rules built from tenantpath's options. It is safe for
// concurrent use.
type Router interface {
	// Conn returns the routing state of one connection, whose network
	// stream is w.
	Conn(w *wire.Conn) Conn
}

// Conn is the routing state of one connection. Its methods are called by
// whoever uses the connection, one call at a time.
type Conn interface {
	// Check refuses, before anything is sent, a call for ctx that cannot
	// run: no tenant, an invalid tenant, another tenant inside a
	// transaction.
	Check(ctx context.Context) error
	// Route arms the switch the next request needs for ctx; sql is that
	// request's text. An error means the request must not run. The
	// context returned must be the one the call goes on with: the calls
	// pgx makes inside it are known by it.
	Route(ctx context.Context, sql string) (context.Context, error)
	// Prepared records a statement prepared by name; Text returns the
	// SQL a call runs, given its SQL or the name of such a statement.
	Prepared(name, sql string)
	Text(sqlOrName string) string
	// Done records what became of the request routed last (err is its
	// error) and returns the error tenantpath gives for it.
	Done(err error) error
	// Usable reports false for a connection whose path is in doubt, or
	// that MaxTenantsPerConn retired: it must be closed, not used again.
	Usable() bool
}

// NewRouter builds a Router from options, which must be a
// []tenantpath.Option.
var NewRouter func(options any) (Router, error)
