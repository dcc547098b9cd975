package migrator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tenantpath/tenantpath"
)

// MoveOption adjusts [Migrator.Move].
type MoveOption func(*moveConfig)

type moveConfig struct {
	dropSource bool
}

// DropSource makes Move drop the source tenant once the destination is
// verified: in the drop's transaction, after the source's tables are locked
// against every other session and counted once more, so no row written
// meanwhile is lost. It needs [WithDrop] on the source Migrator (whose
// before-drop hook runs too); without it Move fails with [ErrDropDisabled]
// before anything is sent.
func DropSource() MoveOption { return func(c *moveConfig) { c.dropSource = true } }

// MoveReport is the outcome of [Migrator.Move].
type MoveReport struct {
	Archive ArchiveInfo  // what was exported and imported
	Counts  []TableCount // each table's rows: exported, in the destination, in the source
	Dropped bool         // the source was dropped (DropSource)
}

// Move copies tenant from m's database to dst's: it streams an
// [Migrator.Export] into a [Migrator.Import] (no file in between), then
// verifies that every table holds as many rows in the destination as were
// exported and as the source holds now. Only then, and only with
// [DropSource], is the source dropped. Both Migrators need pgx pools
// ([ErrCopyUnsupported]); dst may use another naming (a prefix of its
// own). The destination must already hold what the tenant's tables refer to
// in the shared schemas (run its shared migrations first).
//
// Stop the application's writes to the tenant for the move: rows written to
// the source after the export began are not copied. The counts catch rows
// added or deleted meanwhile (the error is a [MoveMismatchError], the
// source is kept, and the destination keeps the copy for you to inspect or
// drop), but not rows updated in place.
func (m *Migrator) Move(ctx context.Context, tenant string, dst *Migrator, opts ...MoveOption) (MoveReport, error) {
	var cfg moveConfig
	for _, o := range opts {
		o(&cfg)
	}
	var rep MoveReport
	if dst == nil {
		return rep, errors.New("migrator: move: nil destination Migrator")
	}
	if cfg.dropSource && !m.cfg.allowDrop {
		return rep, ErrDropDisabled
	}
	src, err := m.tenantTarget(tenant)
	if err != nil {
		return rep, err
	}
	to, err := dst.tenantTarget(tenant)
	if err != nil {
		return rep, err
	}
	if rep.Archive, err = m.pipe(ctx, tenant, dst); err != nil {
		return rep, err
	}
	if rep.Counts, err = m.verifyMove(ctx, dst, src, to, rep.Archive); err != nil {
		return rep, err
	}
	if cfg.dropSource {
		if err := m.dropMoved(ctx, src, rep.Counts); err != nil {
			return rep, err
		}
		rep.Dropped = true
	}
	return rep, nil
}

// errImportStopped is what the export of a move sees when the import
// stopped reading (it failed, or it was done).
var errImportStopped = errors.New("migrator: move: the import stopped reading")

// pipe streams the export of tenant into dst's import. When both fail, the
// one that failed first is reported: an export that failed makes the import
// fail, and an import that failed stops the export.
func (m *Migrator) pipe(ctx context.Context, tenant string, dst *Migrator) (ArchiveInfo, error) {
	pr, pw := io.Pipe()
	exported := make(chan error, 1)
	go func() {
		_, err := m.Export(ctx, tenant, pw)
		pw.CloseWithError(err)
		exported <- err
	}()
	info, ierr := dst.Import(ctx, tenant, pr)
	pr.CloseWithError(errImportStopped)
	eerr := <-exported
	if eerr != nil && !errors.Is(eerr, errImportStopped) {
		return info, fmt.Errorf("migrator: moving tenant %q: %w", tenant, eerr)
	}
	if ierr != nil {
		return info, fmt.Errorf("migrator: moving tenant %q: %w", tenant, ierr)
	}
	return info, eerr
}

// verifyMove counts every table's rows in the destination and the source.
func (m *Migrator) verifyMove(ctx context.Context, dst *Migrator, src, to target, info ArchiveInfo) ([]TableCount, error) {
	ctx = onBasePath(ctx)
	tables := make([]string, len(info.Tables))
	for i, t := range info.Tables {
		tables[i] = t.Table
	}
	there, err := countRows(ctx, dst.db, to.schema, tables)
	if err != nil {
		return nil, fmt.Errorf("migrator: moving tenant %q: counting the destination's rows: %w", to.tenant, err)
	}
	here, err := countRows(ctx, m.db, src.schema, tables)
	if err != nil {
		return nil, fmt.Errorf("migrator: moving tenant %q: counting the source's rows: %w", src.tenant, err)
	}
	counts := make([]TableCount, len(tables))
	var differ []TableCount
	for i, t := range info.Tables {
		counts[i] = TableCount{Table: t.Table, Archive: t.Rows, Destination: there[i], Source: here[i]}
		if there[i] != t.Rows || here[i] != t.Rows {
			differ = append(differ, counts[i])
		}
	}
	if len(differ) > 0 {
		return counts, &MoveMismatchError{Tenant: src.tenant, Tables: differ}
	}
	return counts, nil
}

// dropMoved drops the source once its tables, locked against every other
// session inside the drop's transaction, still hold the rows counted.
func (m *Migrator) dropMoved(ctx context.Context, src target, counts []TableCount) error {
	verify := func(ctx context.Context, tx *sql.Tx, tenant string) error {
		tables := make([]string, len(counts))
		quoted := make([]string, len(counts))
		for i, c := range counts {
			tables[i] = c.Table
			quoted[i] = tenantpath.QuoteIdentifier(src.schema) + "." + tenantpath.QuoteIdentifier(c.Table)
		}
		if len(tables) > 0 {
			if _, err := tx.ExecContext(ctx, "LOCK TABLE "+strings.Join(quoted, ", ")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
				return err
			}
		}
		now, err := countRows(ctx, tx, src.schema, tables)
		if err != nil {
			return err
		}
		var differ []TableCount
		for i, c := range counts {
			if now[i] != c.Destination {
				c.Source = now[i]
				differ = append(differ, c)
			}
		}
		if len(differ) > 0 {
			return &MoveMismatchError{Tenant: tenant, Tables: differ}
		}
		if m.cfg.beforeDrop != nil {
			return m.cfg.beforeDrop(ctx, tx, tenant)
		}
		return nil
	}
	return m.drop(onBasePath(ctx), src, verify)
}

// queryer is what countRows needs: a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// countRows counts the rows of each table of schema in one statement.
func countRows(ctx context.Context, q queryer, schema string, tables []string) ([]int64, error) {
	out := make([]int64, len(tables))
	if len(tables) == 0 {
		return out, nil
	}
	parts := make([]string, len(tables))
	for i, t := range tables {
		// ONLY: COPY moves a table's own rows, not those of the tables
		// that inherit from it.
		parts[i] = fmt.Sprintf("SELECT %d, count(*) FROM ONLY %s.%s", i, tenantpath.QuoteIdentifier(schema), tenantpath.QuoteIdentifier(t))
	}
	rows, err := q.QueryContext(ctx, strings.Join(parts, "\nUNION ALL\n"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var n int64
		if err := rows.Scan(&i, &n); err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, rows.Err()
}
