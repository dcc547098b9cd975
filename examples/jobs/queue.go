package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tenantpath/tenantpath"
)

// Queue is a job queue in a table of the shared schema. Every job row
// stores the tenant it was enqueued for: the worker has no request and no
// request context, so the tenant must travel with the job.
//
// Enqueueing inside the tenant's own transaction (EnqueueTx) makes the job
// exist exactly when the change it is about was committed.
type Queue struct {
	db    *sql.DB // the tenantpath-wrapped pool
	table string  // quoted and schema-qualified, e.g. "public"."jobs"
}

// Job is one claimed job.
type Job struct {
	ID      int64
	Tenant  string
	Kind    string
	Payload string
}

// NewQueue returns a queue whose table lives in the first shared schema of
// naming. CreateTable creates it.
func NewQueue(db *sql.DB, naming tenantpath.Naming) *Queue {
	return &Queue{db: db, table: tenantpath.QuoteIdentifier(naming.SharedSchemas()[0]) + ".jobs"}
}

// CreateTable creates the jobs table if it does not exist.
func (q *Queue) CreateTable(ctx context.Context) error {
	_, err := q.db.ExecContext(tenantpath.WithShared(ctx), `CREATE TABLE IF NOT EXISTS `+q.table+` (
	id       bigserial PRIMARY KEY,
	tenant   text NOT NULL,
	kind     text NOT NULL,
	payload  text NOT NULL,
	claimed  boolean NOT NULL DEFAULT false,
	done_at  timestamptz,
	error    text
)`)
	return err
}

// EnqueueTx adds a job for the tenant of ctx inside tx, a transaction begun
// with that tenant's context. The table name is schema-qualified, so it is
// found whatever the tenant's search_path.
func (q *Queue) EnqueueTx(ctx context.Context, tx *sql.Tx, kind, payload string) error {
	tenant, ok := tenantpath.TenantFrom(ctx)
	if !ok {
		return errors.New("jobs: enqueue without a tenant in the context")
	}
	_, err := tx.ExecContext(ctx,
		"INSERT INTO "+q.table+" (tenant, kind, payload) VALUES ($1, $2, $3)", tenant, kind, payload)
	return err
}

// Handler runs one job. Its ctx carries the job's tenant, so every
// statement it runs through the pool reads and writes that tenant's schema.
type Handler func(ctx context.Context, j Job) error

// WorkOne claims the oldest unclaimed job, runs h with the job's tenant
// put back into the context, and records the outcome. It reports false when
// the queue is empty. Claims use FOR UPDATE SKIP LOCKED, so several workers
// can share the queue.
func (q *Queue) WorkOne(ctx context.Context, h Handler) (bool, error) {
	shared := tenantpath.WithShared(ctx)
	var j Job
	err := q.db.QueryRowContext(shared, `UPDATE `+q.table+` SET claimed = true
		WHERE id = (SELECT id FROM `+q.table+` WHERE NOT claimed ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
		RETURNING id, tenant, kind, payload`).Scan(&j.ID, &j.Tenant, &j.Kind, &j.Payload)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}

	// The tenant comes back from the job row, not from whatever context
	// the worker happens to have.
	runErr := h(tenantpath.WithTenant(ctx, j.Tenant), j)

	var msg sql.NullString
	if runErr != nil {
		msg = sql.NullString{String: runErr.Error(), Valid: true}
	}
	if _, err := q.db.ExecContext(shared,
		"UPDATE "+q.table+" SET done_at = now(), error = $2 WHERE id = $1", j.ID, msg); err != nil {
		return true, fmt.Errorf("jobs: recording job %d: %w", j.ID, err)
	}
	return true, nil
}

// Drain works until the queue is empty.
func (q *Queue) Drain(ctx context.Context, h Handler) (int, error) {
	n := 0
	for {
		ok, err := q.WorkOne(ctx, h)
		if err != nil || !ok {
			return n, err
		}
		n++
	}
}
