package migrator

import (
	"context"
	"database/sql"
	"time"
)

// action runs inside one locked schema on a pinned connection. It receives
// the applied rows (already checked against the set) and returns the
// migrations it applied or rolled back.
type action func(ctx context.Context, conn *sql.Conn, t target, applied []appliedRow) ([]MigrationResult, error)

// upAction applies every pending migration, each in its own transaction
// with its version row, stopping at the first failure.
func (m *Migrator) upAction(ctx context.Context, conn *sql.Conn, t target, applied []appliedRow) ([]MigrationResult, error) {
	var newest int64
	if len(applied) > 0 {
		newest = applied[len(applied)-1].version
	}
	var done []MigrationResult
	for _, mig := range t.set.list {
		if mig.Version <= newest {
			continue
		}
		if t.limit != 0 && mig.Version > t.limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
		r, err := m.apply(ctx, conn, t.schema, mig, false)
		if err != nil {
			return done, err
		}
		done = append(done, r)
	}
	return done, nil
}

// Target says how far a rollback goes: [Steps] or [ToVersion].
type Target struct {
	steps int
	to    int64
	isTo  bool
}

// Steps rolls back the n newest applied migrations (fewer if fewer are
// applied).
func Steps(n int) Target { return Target{steps: n} }

// ToVersion rolls back every applied migration newer than v; v = 0 rolls
// back everything.
func ToVersion(v int64) Target { return Target{to: v, isTo: true} }

// downAction rolls back to tg, newest first. Every migration to roll back
// must have a down part, or nothing is rolled back.
func (m *Migrator) downAction(tg Target) action {
	return func(ctx context.Context, conn *sql.Conn, t target, applied []appliedRow) ([]MigrationResult, error) {
		var todo []*migration
		for i := len(applied) - 1; i >= 0; i-- {
			if tg.isTo && applied[i].version <= tg.to {
				break
			}
			if !tg.isTo && len(todo) >= tg.steps {
				break
			}
			todo = append(todo, t.set.byVersion[applied[i].version])
		}
		for _, mig := range todo {
			if !mig.HasDown {
				return nil, &NoDownError{Schema: t.schema, Version: mig.Version, Name: mig.Name}
			}
		}
		var done []MigrationResult
		for _, mig := range todo {
			r, err := m.apply(ctx, conn, t.schema, mig, true)
			if err != nil {
				return done, err
			}
			done = append(done, r)
		}
		return done, nil
	}
}

// apply runs one migration up or down on conn. A transactional SQL
// migration travels in one Exec together with its version row change, so it
// costs one round trip whatever its size; a Go migration runs in an explicit
// transaction; a non-transactional one statement by statement.
func (m *Migrator) apply(ctx context.Context, conn *sql.Conn, schema string, mig *migration, down bool) (MigrationResult, error) {
	start := time.Now()
	var err error
	switch {
	case mig.NoTx:
		err = m.applyEach(ctx, conn, schema, mig, down, start)
	case mig.isGo():
		err = m.applyGo(ctx, conn, schema, mig, down, start)
	default:
		err = m.applyScript(ctx, conn, schema, mig, down)
	}
	if err != nil {
		return MigrationResult{}, &MigrationError{Schema: schema, Version: mig.Version, Name: mig.Name, Down: down, Err: err}
	}
	return MigrationResult{Version: mig.Version, Name: mig.Name, Down: down, Duration: time.Since(start)}, nil
}

func body(mig *migration, down bool) string {
	if down {
		return mig.downSQL
	}
	return mig.upSQL
}

// applyScript sends the migration and its version row change in one Exec
// without arguments, which travels as one simple-protocol Query message:
// the server runs it as one implicit transaction, so the migration and its
// row commit together or not at all, in a single round trip. (A driver that
// used the extended protocol would have the server refuse the
// multi-statement text as a whole: an error, never half a migration.) The
// body may end in a comment or without a semicolon: the newline and the
// lone semicolon close it.
func (m *Migrator) applyScript(ctx context.Context, conn *sql.Conn, schema string, mig *migration, down bool) error {
	script := body(mig, down) + "\n;\n" + m.versionChange(schema, mig, down, -1)
	_, err := conn.ExecContext(ctx, script)
	return err
}

// applyEach sends a non-transactional migration one statement at a time,
// then its version row change.
func (m *Migrator) applyEach(ctx context.Context, conn *sql.Conn, schema string, mig *migration, down bool, start time.Time) error {
	for _, stmt := range statements(body(mig, down)) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	_, err := conn.ExecContext(ctx, m.versionChange(schema, mig, down, time.Since(start)))
	return err
}

// applyGo runs a Go migration and its version row change in a transaction.
// The migration's statements run with ctx, so a cancellation stops them;
// the transaction itself is not bound to ctx, so a cancellation that lands
// while COMMIT is on its way cannot report a migration as failed that the
// server committed (database/sql and pgx would abort the COMMIT's wait
// and return the context's error either way).
func (m *Migrator) applyGo(ctx context.Context, conn *sql.Conn, schema string, mig *migration, down bool, start time.Time) error {
	fn := mig.up
	if down {
		fn = mig.down
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.versionChange(schema, mig, down, time.Since(start))); err != nil {
		return err
	}
	return tx.Commit()
}
