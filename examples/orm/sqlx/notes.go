// Package sqlx uses tenantpath with jmoiron/sqlx: sqlx.NewDb wraps the
// tenantpath pool, and every call uses sqlx's ...Context methods.
package sqlx

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
)

// Note is a row of the tenant's notes table.
type Note struct {
	ID    int64  `db:"id"`
	Title string `db:"title"`
}

// Notes reads and writes the notes table of the tenant in ctx.
type Notes struct{ DB *sqlx.DB }

// New wraps db, a tenantpath pool. "pgx" tells sqlx which bind style to use
// ($1); it is the same for lib/pq ("postgres").
func New(db *sql.DB) Notes { return Notes{DB: sqlx.NewDb(db, "pgx")} }

// Add inserts a note with a named query.
func (n Notes) Add(ctx context.Context, title string) error {
	_, err := n.DB.NamedExecContext(ctx, "INSERT INTO notes (title) VALUES (:title)", Note{Title: title})
	return err
}

// List returns the notes.
func (n Notes) List(ctx context.Context) ([]Note, error) {
	var notes []Note
	err := n.DB.SelectContext(ctx, &notes, "SELECT id, title FROM notes ORDER BY id")
	return notes, err
}

// Titles lists the notes' titles.
func (n Notes) Titles(ctx context.Context) ([]string, error) {
	notes, err := n.List(ctx)
	titles := make([]string, len(notes))
	for i, note := range notes {
		titles[i] = note.Title
	}
	return titles, err
}

// Move copies a note to a second title and deletes the first in one
// transaction (BeginTxx with the tenant's ctx).
func (n Notes) Move(ctx context.Context, from, to string) error {
	tx, err := n.DB.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var id int64
	if err := tx.GetContext(ctx, &id, "SELECT id FROM notes WHERE title = $1", from); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE notes SET title = $1 WHERE id = $2", to, id); err != nil {
		return err
	}
	return tx.Commit()
}
