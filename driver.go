package tenantpath

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/tenantpath/tenantpath/internal/wire"
)

// Option configures the driver. Options are checked when the connector or
// driver is built; a bad combination is an error there, not a surprise later.
type Option func(*config) error

// config is shared, read-only, by every connection of a connector.
type config struct {
	naming        Naming
	allowNoTenant bool
	txPooling     bool
	roleFor       func(schema string) string
	maxTenants    int
	recheck       time.Duration
	logger        *slog.Logger
	settingsFor   func(tenant string) map[string]string
	counts        counters
	pool          poolConfig // Pool and its companions (pool_options.go)

	// Precomputed: they do not depend on the tenant.
	sharedQuery, sharedLocalQuery, baseQuery, baseCarried string
}

// WithNaming sets how tenant ids map to schema names and which shared schemas
// follow them on the search_path. Without it, a tenant's schema has the
// tenant's own name and "public" is the only shared schema. Use the same
// Naming for the migrator and the HTTP middleware.
func WithNaming(n Naming) Option {
	return func(c *config) error {
		if err := n.Check(); err != nil {
			return err
		}
		c.naming = n
		return nil
	}
}

// AllowNoTenant lets calls whose context names no scope run on the
// connection's base search_path (the one it was opened with), as they
// would without tenantpath, instead of failing with [ErrNoTenant]. It is
// for adopting tenantpath step by step in an existing application: a
// handler that forgets to pass its request's context then silently reads
// the shared schemas, so turn it off once every call carries a context.
// Code that means the base path can say so per call with [WithBasePath].
func AllowNoTenant() Option {
	return func(c *config) error {
		c.allowNoTenant = true
		return nil
	}
}

// RequireTenant makes calls whose context names no scope fail with
// [ErrNoTenant]. That is the default; it undoes [AllowNoTenant].
//
// Deprecated: requiring a tenant is the default; this option only remains
// so that code written when it was not keeps compiling.
func RequireTenant() Option {
	return func(c *config) error {
		c.allowNoTenant = false
		return nil
	}
}

// TransactionPooling is for poolers in transaction mode (PgBouncer
// pool_mode=transaction and the like), which hand each transaction to
// whichever server connection is free, so nothing set on a session survives.
// In this mode the driver never relies on session state: every transaction
// sets the path with set_config(…, true), which ends with the transaction,
// and a statement run outside a transaction with a tenant (or the shared
// scope) in its context is wrapped in a transaction of its own. It costs a
// round trip per transaction, and BEGIN and COMMIT for such statements.
//
// Without it, a transaction-mode pooler will run statements under another
// tenant's path: the default mode is unsafe there. Prepared statements
// outlive transactions, so in this mode prefer drivers or settings that do
// not prepare (pgx's QueryExecModeExec or QueryExecModeSimpleProtocol).
func TransactionPooling() Option {
	return func(c *config) error {
		c.txPooling = true
		return nil
	}
}

// WithTenantRoles makes every tenant switch also SET ROLE to role(schema),
// in the same round trip, and the shared scope and calls without a tenant go
// back to the login role. Schemas separate names, not privileges; with a
// role per tenant that can use only its own schema (see the migrator's
// ProvisionTenantRole), SQL that names another tenant's schema explicitly is
// refused by PostgreSQL itself. The login role must be a member of every
// tenant role. A tenant whose role does not exist is an unknown tenant.
func WithTenantRoles(role func(schema string) string) Option {
	return func(c *config) error {
		if role == nil {
			return errors.New("tenantpath: WithTenantRoles: nil role function")
		}
		c.roleFor = role
		return nil
	}
}

// MaxTenantsPerConn retires a connection once it has served n distinct
// tenants: the pool closes it when it is returned and opens a fresh one when
// needed. A PostgreSQL backend caches catalog entries for every table it has
// touched, so a connection that visits thousands of tenant schemas grows;
// retiring it bounds that memory at the cost of reconnecting (see
// docs/BENCHMARKS.md for both sides). Zero, the default, never retires.
// Under TransactionPooling it has no effect: there a client connection does
// not map to one backend, and the pooler's own settings (server_lifetime)
// bound backend memory.
func MaxTenantsPerConn(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return errors.New("tenantpath: MaxTenantsPerConn: negative limit")
		}
		c.maxTenants = n
		return nil
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{recheck: DefaultRecheck}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if err := c.naming.Check(); err != nil {
		return nil, err
	}
	if err := c.pool.check(c); err != nil {
		return nil, err
	}
	c.sharedQuery = c.sharedSwitch(false, "")
	c.sharedLocalQuery = c.sharedSwitch(true, "")
	c.baseQuery = c.baseSwitch(alone, "")
	c.baseCarried = c.baseSwitch(carried, "")
	return c, nil
}

// Connector is a [driver.Connector] whose connections route every statement
// to the search_path of the tenant in its context. It is safe for concurrent
// use, as database/sql requires.
type Connector struct {
	base driver.Connector
	cfg  *config
	drv  *Driver
	pool *pool // with Pool(n): the connections tenantpath owns
}

var (
	_ driver.Connector = (*Connector)(nil)
	_ io.Closer        = (*Connector)(nil)
)

// NewConnector wraps base, a connector of any PostgreSQL driver, e.g.
// pgx's stdlib.GetConnector(config) or lib/pq's pq.NewConnector(dsn). The
// base connector keeps all its own options.
func NewConnector(base driver.Connector, opts ...Option) (*Connector, error) {
	if base == nil {
		return nil, errors.New("tenantpath: NewConnector: nil base connector")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	c := &Connector{base: base, cfg: cfg}
	c.drv = &Driver{base: base.Driver(), cfg: cfg, conn: c}
	c.startPool()
	return c, nil
}

// OpenDB wraps base as [NewConnector] does and returns a [*sql.DB] over it.
// With [Pool], it also turns the *sql.DB's own idle pool off and lifts its
// limit on open connections, so that every checkout reaches tenantpath's
// pool (see [Pool]).
func OpenDB(base driver.Connector, opts ...Option) (*sql.DB, error) {
	c, err := NewConnector(base, opts...)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	if c.pool != nil {
		usePool(db)
	}
	return db, nil
}

// Connect opens a connection through the base connector and wraps it, or,
// with [Pool], hands out one of the pool's.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.pool != nil {
		return c.pool.get(ctx)
	}
	inner, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return connOver(c.base, inner, c.cfg), nil
}

// connOver wraps inner, a connection of base, with the carrier beneath it
// when base has one.
func connOver(base driver.Connector, inner driver.Conn, cfg *config) *conn {
	var w *wire.Conn
	if src, ok := base.(carrierSource); ok {
		w = src.CarrierFor(inner)
	}
	c := newConn(inner, cfg, w)
	c.handBack = handsBack(base)
	return c
}

// Driver returns the wrapping driver.
func (c *Connector) Driver() driver.Driver { return c.drv }

// Close closes the pool of [Pool], if any, then the base connector if it
// has a Close method (database/sql calls it from DB.Close).
func (c *Connector) Close() error {
	if c.pool != nil {
		if err := c.pool.close(); err != nil {
			return err
		}
	}
	if cl, ok := c.base.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// Unwrap returns the base connector.
func (c *Connector) Unwrap() driver.Connector { return c.base }

// Driver wraps a [driver.Driver] for [sql.Register]:
//
//	d, err := tenantpath.Wrap(stdlib.GetDefaultDriver(), tenantpath.WithNaming(n))
//	sql.Register("tenantpath", d)
//	db, err := sql.Open("tenantpath", dsn)
//
// It is safe for concurrent use.
type Driver struct {
	base driver.Driver
	cfg  *config
	conn *Connector // the one connector it was made for by NewConnector, if any
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.DriverContext = (*Driver)(nil)
)

// Wrap returns a driver that opens base's connections and wraps them.
func Wrap(base driver.Driver, opts ...Option) (*Driver, error) {
	if base == nil {
		return nil, errors.New("tenantpath: Wrap: nil base driver")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Driver{base: base, cfg: cfg}, nil
}

// Open opens a connection with base's Open and wraps it. database/sql uses
// OpenConnector instead, which parses name only once.
func (d *Driver) Open(name string) (driver.Conn, error) {
	inner, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	return newConn(inner, d.cfg, nil), nil
}

// OpenConnector returns a [Connector] over base's connector for name, or, if
// base has no OpenConnector, over one that calls base.Open(name) as
// database/sql itself would.
func (d *Driver) OpenConnector(name string) (driver.Connector, error) {
	var base driver.Connector
	if dc, ok := d.base.(driver.DriverContext); ok {
		var err error
		if base, err = dc.OpenConnector(name); err != nil {
			return nil, err
		}
	} else {
		base = dsnConnector{name: name, drv: d.base}
	}
	c := &Connector{base: base, cfg: d.cfg, drv: d}
	c.startPool()
	return c, nil
}

// Unwrap returns the base driver.
func (d *Driver) Unwrap() driver.Driver { return d.base }

// dsnConnector is database/sql's fallback for drivers without
// DriverContext.
type dsnConnector struct {
	name string
	drv  driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.name) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }
