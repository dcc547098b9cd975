package tenantpgx

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/wire"
)

// GetConnector is stdlib.GetConnector with the connection's network stream
// routed through tenantpath's carrier: wrapped by [tenantpath.OpenDB] or
// [tenantpath.NewConnector], every switch travels in the same network write
// as the statement it precedes, so a call that changes tenant costs one
// round trip instead of two, and on PostgreSQL 18 the driver checks the
// search_path the server reports after every statement. Results, column
// types and errors are pgx's own: the statements go through pgx's
// database/sql adapter unchanged. Used without tenantpath it behaves as
// stdlib.GetConnector.
//
// config's AfterNetConnect, if set, still runs, before the carrier is
// installed.
func GetConnector(config pgx.ConnConfig, opts ...stdlib.OptionOpenDB) driver.Connector {
	Install(&config.Config)
	return &connector{base: stdlib.GetConnector(config, opts...)}
}

// OpenDB opens a *sql.DB over pgx with the carrier (see [GetConnector]),
// routed by tenantpath with opts.
func OpenDB(config pgx.ConnConfig, opts ...tenantpath.Option) (*sql.DB, error) {
	return tenantpath.OpenDB(GetConnector(config), opts...)
}

// Install makes every connection made with config run over tenantpath's
// carrier. GetConnector and Configure call it; call it yourself only for a
// config you hand to them later.
func Install(config *pgconn.Config) {
	prev := config.AfterNetConnect
	config.AfterNetConnect = func(ctx context.Context, cfg *pgconn.Config, conn net.Conn) (net.Conn, error) {
		if prev != nil {
			var err error
			if conn, err = prev(ctx, cfg, conn); err != nil {
				return nil, err
			}
		}
		if _, ok := conn.(*wire.Conn); ok {
			return conn, nil // installed twice
		}
		return wire.New(conn), nil
	}
}

// connector is pgx's stdlib connector, telling tenantpath where the
// carrier of each connection is.
type connector struct {
	base driver.Connector
}

var (
	_ driver.Connector = (*connector)(nil)
	_ io.Closer        = (*connector)(nil)
)

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) { return c.base.Connect(ctx) }
func (c *connector) Driver() driver.Driver                            { return c.base.Driver() }

// Close closes the base connector if it can be closed.
func (c *connector) Close() error {
	if cl, ok := c.base.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// CarrierFor returns the carrier beneath a connection of this connector.
func (c *connector) CarrierFor(conn driver.Conn) *wire.Conn {
	return carrierOf(conn)
}

func carrierOf(conn driver.Conn) *wire.Conn {
	sc, ok := conn.(*stdlib.Conn)
	if !ok {
		return nil
	}
	w, _ := sc.Conn().PgConn().Conn().(*wire.Conn)
	return w
}

// ClosesConnections tells tenantpath that closing a connection of this
// connector ends it, so no path needs resetting first.
func (c *connector) ClosesConnections() bool { return true }
