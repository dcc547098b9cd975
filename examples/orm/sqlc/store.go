package sqlc

import (
	"context"
	"database/sql"
)

// Store is the application's side: it uses the queries, and a transaction
// begun with the tenant's ctx through WithTx.
type Store struct {
	DB *sql.DB // the tenantpath pool
}

// Add inserts a note.
func (s Store) Add(ctx context.Context, title string) error {
	_, err := New(s.DB).CreateNote(ctx, title)
	return err
}

// Titles lists the notes' titles.
func (s Store) Titles(ctx context.Context) ([]string, error) {
	notes, err := New(s.DB).ListNotes(ctx)
	titles := make([]string, len(notes))
	for i, n := range notes {
		titles[i] = n.Title
	}
	return titles, err
}

// Replace deletes note id and creates one titled title in its place, in one
// transaction.
func (s Store) Replace(ctx context.Context, id int64, title string) (Note, error) {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return Note{}, err
	}
	defer tx.Rollback()
	q := New(s.DB).WithTx(tx)
	if n, err := q.DeleteNote(ctx, id); err != nil || n == 0 {
		if err == nil {
			err = sql.ErrNoRows
		}
		return Note{}, err
	}
	note, err := q.CreateNote(ctx, title)
	if err != nil {
		return Note{}, err
	}
	return note, tx.Commit()
}
