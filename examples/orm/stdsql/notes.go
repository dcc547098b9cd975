// Package stdsql uses tenantpath with plain database/sql over pgx: the
// driver wraps pgx's connector, and every call passes the request's ctx.
package stdsql

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
)

// Open returns a pool over pgx that routes each statement to the tenant in
// its context.
func Open(dsn string, naming tenantpath.Naming) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return tenantpath.OpenDB(stdlib.GetConnector(*cfg), tenantpath.WithNaming(naming))
}

// Notes reads and writes the notes table of the tenant in ctx.
type Notes struct{ DB *sql.DB }

// Add inserts a note.
func (n Notes) Add(ctx context.Context, title string) error {
	_, err := n.DB.ExecContext(ctx, "INSERT INTO notes (title) VALUES ($1)", title)
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

// Rename renames every note in one transaction. The transaction is begun
// with the tenant's ctx: the path is set before BEGIN and holds until the
// end.
func (n Notes) Rename(ctx context.Context, suffix string) error {
	tx, err := n.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE notes SET title = title || $1", suffix); err != nil {
		return err
	}
	return tx.Commit()
}
