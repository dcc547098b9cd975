package migrator

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath"
)

// Export writes one tenant to w as a portable archive: its migration
// history and the data of every table of its schema through COPY, in the
// format docs/fleet.md describes (gzip-compressed text). [Migrator.Import]
// loads it into a database whose migration files reproduce that history.
//
// The data is read in one REPEATABLE READ, READ ONLY transaction, so the
// tables are exported as of one moment, under the tenant's lock in shared
// mode: a migration, rename or drop of the tenant waits for the export,
// writes by the application do not (they are simply not in the archive).
// Sequences are read after the data, so their values cover every exported
// row. Exported are the ordinary tables of the schema (partitions
// included) other than the version table, without their generated
// columns; views are recreated by the migrations; large objects, and data
// kept outside the tenant's schema, are not exported.
//
// The pool's driver must be pgx (github.com/jackc/pgx/v5/stdlib), directly
// or under tenantpath: with any other driver Export returns
// [ErrCopyUnsupported] before anything is sent. A tenant whose schema does
// not exist is an error matching [tenantpath.ErrUnknownTenant]. On error,
// what was written to w is not a whole archive (Import refuses it).
func (m *Migrator) Export(ctx context.Context, tenant string, w io.Writer) (ArchiveInfo, error) {
	ctx = onBasePath(ctx)
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return ArchiveInfo{}, err
	}
	s, err := m.newSharedSession(ctx)
	if err != nil {
		return ArchiveInfo{}, err
	}
	defer s.release(ctx)
	if err := requirePgx(s.conn); err != nil {
		return ArchiveInfo{}, err
	}
	if err := s.take(ctx, lockKey(t.schema)); err != nil {
		s.broken()
		return ArchiveInfo{}, fmt.Errorf("migrator: exporting tenant %q: locking: %w", tenant, err)
	}
	var info ArchiveInfo
	err = withPgx(s.conn, func(pc *pgx.Conn) error {
		info, err = m.exportTx(ctx, pc, t, newArchiveWriter(w))
		return err
	})
	if err != nil {
		// A COPY cut short closes its connection; give none back in doubt.
		s.broken()
		return info, fmt.Errorf("migrator: exporting tenant %q: %w", tenant, err)
	}
	return info, nil
}

// exportTx writes the archive from one read-only snapshot.
func (m *Migrator) exportTx(ctx context.Context, pc *pgx.Conn, t target, w *archiveWriter) (ArchiveInfo, error) {
	tx, err := pc.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return ArchiveInfo{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	h, err := m.readHeader(ctx, tx, t)
	if err != nil {
		return ArchiveInfo{}, err
	}
	if err := w.header(h); err != nil {
		return ArchiveInfo{}, err
	}
	tr := &archiveTrailer{Rows: make([]int64, len(h.Tables))}
	for i, tb := range h.Tables {
		tag, err := pc.PgConn().CopyTo(ctx, w.data(), copySQL(t.schema, tb, "TO STDOUT"))
		if err != nil {
			return ArchiveInfo{}, fmt.Errorf("table %s: %w", tb.Name, err)
		}
		tr.Rows[i] = tag.RowsAffected()
		if err := w.endData(); err != nil {
			return ArchiveInfo{}, err
		}
	}
	if tr.Sequences, err = readSequences(ctx, tx, t.schema); err != nil {
		return ArchiveInfo{}, err
	}
	if err := w.trailer(tr); err != nil {
		return ArchiveInfo{}, err
	}
	return h.info(tr), tx.Commit(ctx)
}

// readHeader puts the transaction on the archive's settings and the
// tenant's path, checks the schema exists, and reads its history and
// tables.
func (m *Migrator) readHeader(ctx context.Context, tx pgx.Tx, t target) (*archiveHeader, error) {
	var path string
	var exists, hasTable bool
	err := tx.QueryRow(ctx, enterTenantSQL+", to_regclass($3) IS NOT NULL", t.path, t.schema, m.table(t.schema)).
		Scan(&path, &exists, &hasTable)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, &tenantpath.UnknownTenantError{Tenant: t.tenant, Schema: t.schema}
	}
	h := &archiveHeader{Format: archiveMagic, FormatVersion: archiveVersion, Tenant: t.tenant, Schema: t.schema,
		Settings: map[string]string{}, ExportedAt: time.Now().UTC(), Migrations: []archiveMigration{}}
	if err := applySettings(ctx, tx, h.Settings); err != nil {
		return nil, err
	}
	if err := tx.QueryRow(ctx, "SELECT current_setting('server_version')").Scan(&h.ServerVersion); err != nil {
		return nil, err
	}
	if hasTable {
		rows, _ := tx.Query(ctx, m.historySQL(t.schema))
		h.Migrations, err = pgx.CollectRows(rows, pgx.RowToStructByPos[archiveMigration])
		if err != nil {
			return nil, err
		}
	}
	if n := len(h.Migrations); n > 0 {
		h.Version = h.Migrations[n-1].Version
	}
	h.Tables, err = readTables(ctx, tx, t.schema, m.cfg.versionTable)
	return h, err
}

// applySettings sets archiveSettings for the transaction and records them.
func applySettings(ctx context.Context, tx pgx.Tx, record map[string]string) error {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, s := range archiveSettings {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "set_config(%s, %s, true)", tenantpath.QuoteLiteral(s[0]), tenantpath.QuoteLiteral(s[1]))
		if record != nil {
			record[s[0]] = s[1]
		}
	}
	_, err := tx.Exec(ctx, b.String())
	return err
}

// tablesSQL lists a schema's ordinary tables (partitions included) other
// than $2, with the columns COPY moves: not dropped, not generated.
const tablesSQL = `
SELECT c.relname::text,
       coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}'),
       coalesce(array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}')
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
 WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname <> $2
 GROUP BY c.relname
 ORDER BY c.relname`

func readTables(ctx context.Context, tx pgx.Tx, schema, versionTable string) ([]archiveTable, error) {
	rows, _ := tx.Query(ctx, tablesSQL, schema, versionTable)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[archiveTable])
}

// readSequences reads the state of every sequence of the schema in one
// statement.
func readSequences(ctx context.Context, tx pgx.Tx, schema string) ([]archiveSequence, error) {
	rows, _ := tx.Query(ctx, `SELECT c.relname::text FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY c.relname`, schema)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) == 0 {
		return []archiveSequence{}, err
	}
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("SELECT %s, last_value, is_called FROM %s.%s", tenantpath.QuoteLiteral(name),
			tenantpath.QuoteIdentifier(schema), tenantpath.QuoteIdentifier(name))
	}
	rows, _ = tx.Query(ctx, strings.Join(parts, "\nUNION ALL\n"))
	return pgx.CollectRows(rows, pgx.RowToStructByPos[archiveSequence])
}

// copySQL is the COPY statement of one table of schema, in the given
// direction ("TO STDOUT" or "FROM STDIN"), naming its columns.
func copySQL(schema string, t archiveTable, direction string) string {
	var b strings.Builder
	b.WriteString("COPY " + tenantpath.QuoteIdentifier(schema) + "." + tenantpath.QuoteIdentifier(t.Name))
	if len(t.Columns) > 0 {
		cols := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = tenantpath.QuoteIdentifier(c)
		}
		b.WriteString(" (" + strings.Join(cols, ", ") + ")")
	}
	return b.String() + " " + direction
}
