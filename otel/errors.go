package tenantotel

import "errors"

// ErrNotTenantpath is returned by [RegisterMetrics] for a *sql.DB that
// tenantpath did not open (a plain driver's, or one wrapped by another
// package such as otelsql): it has no tenantpath counts to report. The
// error returned wraps it and names the *sql.DB's driver. For a tenantpath
// [github.com/tenantpath/tenantpath.Connector] that another package wraps,
// use [RegisterConnectorMetrics] on the Connector.
var ErrNotTenantpath = errors.New("tenantotel: not a *sql.DB opened by tenantpath")

// ErrInvalidArgument is returned by [RegisterMetrics] and
// [RegisterConnectorMetrics] for a nil *sql.DB, Connector or
// MeterProvider, or an empty [WithDBName]. The error returned wraps it and
// says which. Nothing is registered.
var ErrInvalidArgument = errors.New("tenantotel: invalid argument")
