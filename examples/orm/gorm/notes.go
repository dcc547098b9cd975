// Package gorm uses tenantpath with GORM: gorm.io/driver/postgres over the
// existing tenantpath *sql.DB, and db.WithContext(ctx) on every call.
package gorm

import (
	"context"
	"database/sql"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Note is a row of the tenant's notes table.
type Note struct {
	ID    int64
	Title string
}

// Open hands GORM the tenantpath pool, so GORM's statements go through the
// driver. GORM opens no connections of its own.
func Open(db *sql.DB) (*gorm.DB, error) {
	return gorm.Open(postgres.New(postgres.Config{Conn: db}), &gorm.Config{
		Logger: logger.Discard,
	})
}

// Notes reads and writes the notes table of the tenant in ctx.
type Notes struct{ DB *gorm.DB }

// Add inserts a note. WithContext(ctx) is what carries the tenant: a GORM
// call without it has no tenant and is refused with ErrNoTenant.
func (n Notes) Add(ctx context.Context, title string) error {
	return n.DB.WithContext(ctx).Create(&Note{Title: title}).Error
}

// List returns the notes.
func (n Notes) List(ctx context.Context) ([]Note, error) {
	var notes []Note
	err := n.DB.WithContext(ctx).Order("id").Find(&notes).Error
	return notes, err
}

// Titles lists the notes' titles.
func (n Notes) Titles(ctx context.Context) ([]string, error) {
	var titles []string
	err := n.DB.WithContext(ctx).Model(&Note{}).Order("id").Pluck("title", &titles).Error
	return titles, err
}

// Retitle changes a note's title in a GORM transaction, begun with the
// tenant's ctx.
func (n Notes) Retitle(ctx context.Context, id int64, title string) error {
	return n.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var note Note
		if err := tx.First(&note, id).Error; err != nil {
			return err
		}
		return tx.Model(&note).Update("title", title).Error
	})
}
