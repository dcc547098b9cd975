package pgtest

import (
	"context"
	"crypto/rand"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dropBatch is how many schemas one transaction drops. Each dropped object
// holds a lock until commit; small batches keep thousands of schemas within
// the lock table.
const dropBatch = 50

var (
	prefixSeq atomic.Uint64
	// binaryTag tells apart test binaries sharing a server through
	// TENANTPATH_TEST_DSN.
	binaryTag = rand.Text()[:3]
)

// UniquePrefix returns a short prefix, unique to this test in this test
// binary, such as "tq7x3_", for the names of the test's schemas. It holds
// only lowercase ASCII letters, digits and underscores, and ends with an
// underscore. A t.Cleanup drops every schema whose name starts with it
// (DROP SCHEMA ... CASCADE, at most 50 schemas per transaction).
func UniquePrefix(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	prefix := "t" + toLowerASCII(binaryTag) + strconv.FormatUint(prefixSeq.Add(1), 36) + "_"
	t.Cleanup(func() {
		if err := DropSchemas(context.Background(), dsn, prefix); err != nil {
			t.Errorf("pgtest: dropping schemas %s*: %v", prefix, err)
		}
	})
	return prefix
}

// DropSchemas drops every schema whose name starts with prefix, in
// transactions of at most 50 schemas.
func DropSchemas(ctx context.Context, dsn, prefix string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx,
		`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname`, prefix)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for len(names) > 0 {
		n := min(dropBatch, len(names))
		batch := names[:n]
		names = names[n:]
		sql := "DROP SCHEMA IF EXISTS "
		for i, name := range batch {
			if i > 0 {
				sql += ", "
			}
			sql += pgx.Identifier{name}.Sanitize()
		}
		sql += " CASCADE"
		// A single statement outside a transaction block is its own
		// transaction.
		if _, err := conn.Exec(ctx, sql); err != nil {
			return err
		}
	}
	return nil
}

func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
