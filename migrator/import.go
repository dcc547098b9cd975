package migrator

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath"
)

// Import creates tenant from an archive written by [Migrator.Export] (of
// this tenant or another; the id in the archive is only informative) and
// loads its data. The local tenant migrations must reproduce the archive's
// history, version by version with the same checksums: otherwise nothing is
// created and the error is an [ArchiveVersionError] (deploy the migrations
// the source had first). An archive that cannot be read is an
// [ArchiveError]; an existing tenant, [ErrTenantExists].
//
// The tenant is built under a reserved name (tenantpath_import_…, never
// routable) at the archive's version, as Create builds one, then loaded in
// one transaction: foreign keys are set aside and added back (so every row
// is checked once all are in, in whatever order the tables come), the
// application's triggers are disabled during the load and enabled again as
// they were, each table's row count is checked against the archive's,
// sequences (identity columns' included) are set to their exported state and
// populated materialized views are refreshed. Only then is the schema
// renamed to the tenant's and registered, in one statement under the
// tenant's lock: until that moment no one can route to it, and on any
// failure the reserved schema is dropped and nothing remains. Without
// [WithTenantSource] the tenant is registered; with it, add it to the
// application's list yourself. Functions registered with [Migrator.Watch]
// are told of the tenant.
//
// The pool's driver must be pgx, as for Export ([ErrCopyUnsupported]).
func (m *Migrator) Import(ctx context.Context, tenant string, r io.Reader) (ArchiveInfo, error) {
	ctx = onBasePath(ctx)
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return ArchiveInfo{}, err
	}
	ar, err := openArchive(r)
	if err != nil {
		return ArchiveInfo{}, err
	}
	info := ar.header.info(nil)
	if err := m.checkHistory(&ar.header); err != nil {
		return info, err
	}
	if err := m.ensureRegistry(ctx); err != nil {
		return info, err
	}
	if exists, err := m.Exists(ctx, tenant); err != nil || exists {
		if err == nil {
			err = fmt.Errorf("%w: tenant %q (schema %q)", ErrTenantExists, tenant, t.schema)
		}
		return info, err
	}
	if err := m.requirePgx(ctx); err != nil {
		return info, err
	}
	limit := ar.header.Version
	if limit == 0 {
		limit = -1 // build no migration
	}
	staging, err := m.buildReserved(ctx, tenantpath.ReservedPrefix+"import_"+m.fleetID()+"_", limit)
	if err != nil {
		return info, fmt.Errorf("migrator: importing tenant %q: %w", tenant, err)
	}
	info, err = m.loadAndClaim(ctx, t, m.reservedTarget(staging, limit), ar)
	if err != nil {
		if derr := m.dropReserved(ctx, staging); derr != nil {
			err = fmt.Errorf("%w (and dropping %q failed: %v)", err, staging, derr)
		}
		return info, err
	}
	m.logChange(ctx, "migrator: tenant imported", t.tenant, t.schema)
	m.watch.notify(tenant, true)
	return info, nil
}

// loadAndClaim loads the archive into the reserved schema st, then makes
// it tenant t. It holds one connection at a time, so a pool of one serves.
func (m *Migrator) loadAndClaim(ctx context.Context, t, st target, ar *archiveReader) (ArchiveInfo, error) {
	info, err := m.load(ctx, st, ar)
	if err != nil {
		return info, fmt.Errorf("migrator: importing tenant %q: %w", t.tenant, err)
	}
	claimed, err := m.claimOne(ctx, t, likeEscape(st.schema), m.historyFingerprint(st.limit))
	if err == nil && !claimed {
		err = fmt.Errorf("migrator: importing tenant %q: the loaded schema %q was not found at its version", t.tenant, st.schema)
	}
	return info, err
}

// load loads the archive on a pinned connection of its own.
func (m *Migrator) load(ctx context.Context, st target, ar *archiveReader) (ArchiveInfo, error) {
	var info ArchiveInfo
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return info, err
	}
	defer conn.Close()
	err = withPgx(conn, func(pc *pgx.Conn) error {
		info, err = loadArchive(ctx, pc, st, ar)
		return err
	})
	if err != nil {
		// A COPY cut short closes its connection; give none back in doubt.
		discard(conn)
	}
	return info, err
}

// checkHistory compares the archive's history with the tenant migrations.
func (m *Migrator) checkHistory(h *archiveHeader) error {
	e := &ArchiveVersionError{Version: h.Version}
	applied := make(map[int64]bool, len(h.Migrations))
	for i, am := range h.Migrations {
		if i > 0 && am.Version <= h.Migrations[i-1].Version {
			return &ArchiveError{Reason: "the header's migrations are not in version order"}
		}
		applied[am.Version] = true
		local := m.tenant.byVersion[am.Version]
		switch {
		case local == nil:
			e.Unknown = append(e.Unknown, am.Version)
		case local.Checksum != am.Checksum:
			e.Changed = append(e.Changed, am.Version)
		}
	}
	if n := len(h.Migrations); (n == 0 && h.Version != 0) || (n > 0 && h.Migrations[n-1].Version != h.Version) {
		return &ArchiveError{Reason: "the header's version is not its newest migration"}
	}
	for _, mig := range m.tenant.list {
		if mig.Version <= h.Version && !applied[mig.Version] {
			e.Missing = append(e.Missing, mig.Version)
		}
	}
	if len(e.Unknown) > 0 || len(e.Changed) > 0 || len(e.Missing) > 0 {
		return e
	}
	return nil
}

// loadArchive loads every table of the archive into st's schema in one
// transaction.
func loadArchive(ctx context.Context, pc *pgx.Conn, st target, ar *archiveReader) (ArchiveInfo, error) {
	tx, err := pc.Begin(ctx)
	if err != nil {
		return ArchiveInfo{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", st.path); err != nil {
		return ArchiveInfo{}, err
	}
	if err := applySettings(ctx, tx, nil); err != nil {
		return ArchiveInfo{}, err
	}
	local, err := readTables(ctx, tx, st.schema, "")
	if err != nil {
		return ArchiveInfo{}, err
	}
	if err := fitTables(ar.header.Tables, local); err != nil {
		return ArchiveInfo{}, err
	}
	held, err := holdBack(ctx, tx, st.schema)
	if err != nil {
		return ArchiveInfo{}, err
	}
	// The migrations that built the schema may have seeded rows: the
	// archive holds the tenant's rows, those included.
	if err := emptyTables(ctx, tx, st.schema, ar.header.Tables); err != nil {
		return ArchiveInfo{}, err
	}
	loaded := make([]int64, len(ar.header.Tables))
	for i := range ar.header.Tables {
		tb, data := ar.table()
		tag, err := pc.PgConn().CopyFrom(ctx, data, copySQL(st.schema, tb, "FROM STDIN"))
		if data.err != nil {
			return ArchiveInfo{}, data.err
		}
		if err != nil {
			if badData(err) {
				return ArchiveInfo{}, &ArchiveError{Reason: fmt.Sprintf("table %s: %v", tb.Name, err), Err: err}
			}
			return ArchiveInfo{}, fmt.Errorf("loading table %s: %w", tb.Name, err)
		}
		loaded[i] = tag.RowsAffected()
	}
	tr, err := ar.trailer()
	if err != nil {
		return ArchiveInfo{}, err
	}
	for i, n := range loaded {
		if n != tr.Rows[i] {
			return ArchiveInfo{}, &ArchiveError{Reason: fmt.Sprintf("table %s: %d rows loaded, the archive counts %d", ar.header.Tables[i].Name, n, tr.Rows[i])}
		}
	}
	if err := held.restore(ctx, tx, st.schema, tr.Sequences); err != nil {
		return ArchiveInfo{}, err
	}
	return ar.header.info(tr), tx.Commit(ctx)
}

// fitTables checks that every table of the archive exists here with every
// column it carries.
func fitTables(archived, local []archiveTable) error {
	for _, at := range archived {
		i := slices.IndexFunc(local, func(t archiveTable) bool { return t.Name == at.Name })
		if i < 0 {
			return &ArchiveError{Reason: fmt.Sprintf("table %s is not made by the local migrations at this version", at.Name)}
		}
		for _, c := range at.Columns {
			if !slices.Contains(local[i].Columns, c) {
				return &ArchiveError{Reason: fmt.Sprintf("column %s.%s is not made by the local migrations at this version", at.Name, c)}
			}
		}
	}
	return nil
}
