// Package bun uses tenantpath with uptrace/bun: bun.NewDB over the
// tenantpath pool with the pgdialect, and the tenant's ctx in every query's
// Exec or Scan.
package bun

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Note is a row of the tenant's notes table.
type Note struct {
	bun.BaseModel `bun:"table:notes"`

	ID    int64  `bun:"id,pk,autoincrement"`
	Title string `bun:"title,notnull"`
}

// Open wraps db, a tenantpath pool.
func Open(db *sql.DB) *bun.DB { return bun.NewDB(db, pgdialect.New()) }

// Notes reads and writes the notes table of the tenant in ctx.
type Notes struct{ DB *bun.DB }

// Add inserts a note.
func (n Notes) Add(ctx context.Context, title string) error {
	_, err := n.DB.NewInsert().Model(&Note{Title: title}).Exec(ctx)
	return err
}

// List returns the notes.
func (n Notes) List(ctx context.Context) ([]Note, error) {
	var notes []Note
	err := n.DB.NewSelect().Model(&notes).Order("id").Scan(ctx)
	return notes, err
}

// Titles lists the notes' titles.
func (n Notes) Titles(ctx context.Context) ([]string, error) {
	var titles []string
	err := n.DB.NewSelect().Model((*Note)(nil)).Column("title").Order("id").Scan(ctx, &titles)
	return titles, err
}

// DeleteAll deletes every note of the tenant in a transaction (RunInTx with
// the tenant's ctx) and reports how many there were.
func (n Notes) DeleteAll(ctx context.Context) (int64, error) {
	var count int64
	err := n.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if count, err = tx.NewSelect().Model((*Note)(nil)).Count(ctx); err != nil {
			return err
		}
		_, err = tx.NewDelete().Model((*Note)(nil)).Where("TRUE").Exec(ctx)
		return err
	})
	return count, err
}
