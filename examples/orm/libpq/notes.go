// Package libpq uses tenantpath over lib/pq: the same application code as
// with pgx, only the base connector differs.
package libpq

import (
	"context"
	"database/sql"

	"github.com/lib/pq"

	"github.com/tenantpath/tenantpath"
)

// Open returns a pool over lib/pq that routes each statement to the tenant
// in its context.
func Open(dsn string, naming tenantpath.Naming) (*sql.DB, error) {
	base, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return tenantpath.OpenDB(base, tenantpath.WithNaming(naming))
}

// Notes reads and writes the notes table of the tenant in ctx.
type Notes struct{ DB *sql.DB }

// Add inserts a note with a prepared statement: each execution follows the
// tenant of its own ctx.
func (n Notes) Add(ctx context.Context, title string) error {
	st, err := n.DB.PrepareContext(ctx, "INSERT INTO notes (title) VALUES ($1)")
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.ExecContext(ctx, title)
	return err
}

// Titles lists the notes' titles.
func (n Notes) Titles(ctx context.Context) ([]string, error) {
	rows, err := n.DB.QueryContext(ctx, "SELECT title FROM notes ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var titles []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		titles = append(titles, s)
	}
	return titles, rows.Err()
}
