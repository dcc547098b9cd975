// Package sqlc shows tenantpath with code in the shape sqlc generates from
// query.sql (db.go, models.go, query.sql.go): a DBTX interface that
// *sql.DB, *sql.Tx and *sql.Conn all satisfy, and methods that take ctx
// first. Handing New the tenantpath pool is all it takes; the ctx passed to
// each method carries the tenant.
package sqlc

import (
	"context"
	"database/sql"
)

// DBTX is what the queries need: a *sql.DB, *sql.Tx or *sql.Conn.
type DBTX interface {
	ExecContext(context.Context, string, ...interface{}) (sql.Result, error)
	PrepareContext(context.Context, string) (*sql.Stmt, error)
	QueryContext(context.Context, string, ...interface{}) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...interface{}) *sql.Row
}

// New returns the queries over db.
func New(db DBTX) *Queries {
	return &Queries{db: db}
}

// Queries runs the queries of query.sql.
type Queries struct {
	db DBTX
}

// WithTx returns the queries inside tx.
func (q *Queries) WithTx(tx *sql.Tx) *Queries {
	return &Queries{
		db: tx,
	}
}
