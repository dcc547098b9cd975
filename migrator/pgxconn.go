package migrator

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/jackc/pgx/v5"
)

// Archives move data with COPY, which database/sql cannot stream, so
// Export and Import reach the pgx connection under a pinned *sql.Conn:
// pgx's stdlib connection (*stdlib.Conn has Conn() *pgx.Conn), found
// directly or through wrappers that offer Unwrap() driver.Conn, as
// tenantpath's does. Any other driver gets ErrCopyUnsupported; lib/pq in
// particular cannot run COPY … TO STDOUT at all.

// withPgx runs fn with the pgx connection under conn, or returns
// ErrCopyUnsupported without calling it. Finding the connection sends
// nothing.
func withPgx(conn *sql.Conn, fn func(*pgx.Conn) error) error {
	return conn.Raw(func(dc any) error {
		for {
			if pc, ok := dc.(interface{ Conn() *pgx.Conn }); ok {
				return fn(pc.Conn())
			}
			u, ok := dc.(interface{ Unwrap() driver.Conn })
			if !ok {
				return ErrCopyUnsupported
			}
			dc = u.Unwrap()
		}
	})
}

// requirePgx checks that conn's driver is pgx, sending nothing.
func requirePgx(conn *sql.Conn) error {
	return withPgx(conn, func(*pgx.Conn) error { return nil })
}

// requirePgx checks that the pool's driver is pgx on a connection it gives
// back at once (opening one if the pool has none idle).
func (m *Migrator) requirePgx(ctx context.Context) error {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return requirePgx(conn)
}
