// Source: query.sql

package sqlc

import (
	"context"
)

const createNote = `-- name: CreateNote :one
INSERT INTO notes (title) VALUES ($1) RETURNING id, title
`

// CreateNote inserts a note.
func (q *Queries) CreateNote(ctx context.Context, title string) (Note, error) {
	row := q.db.QueryRowContext(ctx, createNote, title)
	var i Note
	err := row.Scan(&i.ID, &i.Title)
	return i, err
}

const deleteNote = `-- name: DeleteNote :execrows
DELETE FROM notes WHERE id = $1
`

// DeleteNote deletes a note and reports how many rows went.
func (q *Queries) DeleteNote(ctx context.Context, id int64) (int64, error) {
	result, err := q.db.ExecContext(ctx, deleteNote, id)
	if err != nil {
		return 0, err
	}
	return result.RowsAffected()
}

const listNotes = `-- name: ListNotes :many
SELECT id, title FROM notes ORDER BY id
`

// ListNotes lists the notes.
func (q *Queries) ListNotes(ctx context.Context) ([]Note, error) {
	rows, err := q.db.QueryContext(ctx, listNotes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []Note
	for rows.Next() {
		var i Note
		if err := rows.Scan(&i.ID, &i.Title); err != nil {
			return nil, err
		}
		items = append(items, i)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return items, nil
}
