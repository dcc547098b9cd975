package migrator

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of the work across tenants, spares and archives.
var (
	// ErrCopyUnsupported is returned by Export, Import and Move when the
	// pool's driver is not pgx (github.com/jackc/pgx/v5/stdlib, directly or
	// under tenantpath): archives move data with COPY, which database/sql
	// cannot stream, and lib/pq does not support COPY TO STDOUT. Nothing
	// was sent.
	ErrCopyUnsupported = errors.New("migrator: export and import need a pool whose driver is pgx (COPY through pgconn)")

	// ErrInvalidArchive is matched by every [ArchiveError]: the archive
	// cannot be read (not an archive, an unknown format version, truncated,
	// or its data does not fit its own description). Nothing was created.
	ErrInvalidArchive = errors.New("migrator: invalid tenant archive")

	// ErrArchiveVersion is matched by every [ArchiveVersionError]: the
	// archive was exported at a migration history the local migrations do
	// not reproduce. Nothing was created.
	ErrArchiveVersion = errors.New("migrator: the archive's migration version is not known here")

	// ErrMoveMismatch is matched by every [MoveMismatchError]: after a
	// move, the destination's row counts differ from the archive's or the
	// source's. The source was not dropped.
	ErrMoveMismatch = errors.New("migrator: row counts differ after the move")
)

// errNoRow is returned by the TenantRows accessors without a current row.
var errNoRow = errors.New("migrator: no current row (call Next first)")

// noSpareState is the SQLSTATE the claim statement of Create raises when no
// spare is free ("TP" for tenantpath, outside PostgreSQL's own classes), so
// Create falls back to building the tenant.
const noSpareState = "TPNS1"

// ArchiveError reports an archive that cannot be read. It matches
// [ErrInvalidArchive].
type ArchiveError struct {
	Reason string
	// Err is the server's refusal of the archive's data, when that is
	// how it was found out (a value that does not fit its column).
	Err error
}

func (e *ArchiveError) Error() string { return "migrator: tenant archive: " + e.Reason }

// Is makes errors.Is(err, ErrInvalidArchive) true.
func (e *ArchiveError) Is(target error) bool { return target == ErrInvalidArchive }

// Unwrap returns the server's error, if any.
func (e *ArchiveError) Unwrap() error { return e.Err }

// ArchiveVersionError reports an archive whose migration history the local
// tenant migrations do not reproduce, so importing it would build tables
// that do not fit its data. It matches [ErrArchiveVersion].
type ArchiveVersionError struct {
	// Version is the archive's version (its newest applied migration).
	Version int64
	// Unknown are versions applied at the source that no local migration
	// defines (a newer deploy exported it: deploy the migrations first).
	Unknown []int64
	// Changed are versions whose local file differs from the one applied
	// at the source (checksums).
	Changed []int64
	// Missing are local versions older than Version that the source had
	// not applied (a gap).
	Missing []int64
}

func (e *ArchiveVersionError) Error() string {
	var parts []string
	if len(e.Unknown) > 0 {
		parts = append(parts, fmt.Sprintf("versions %v are defined by no local migration", e.Unknown))
	}
	if len(e.Changed) > 0 {
		parts = append(parts, fmt.Sprintf("versions %v differ from the local files (checksums)", e.Changed))
	}
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("local versions %v were not applied at the source", e.Missing))
	}
	return fmt.Sprintf("migrator: the archive is at version %d, which the local migrations do not reproduce: %s",
		e.Version, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrArchiveVersion) true.
func (e *ArchiveVersionError) Is(target error) bool { return target == ErrArchiveVersion }

// TableCount is one table's row counts in a move.
type TableCount struct {
	Table       string
	Archive     int64 // rows exported
	Destination int64 // rows in the destination after the import
	Source      int64 // rows in the source when checked again
}

// MoveMismatchError reports a move whose row counts do not agree: rows were
// written to the source during the move, or lost on the way. The source is
// kept; the destination tenant stays as imported. It matches
// [ErrMoveMismatch].
type MoveMismatchError struct {
	Tenant string
	Tables []TableCount // the tables whose counts differ
}

func (e *MoveMismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "migrator: moving tenant %q: row counts differ, the source was kept:", e.Tenant)
	for _, c := range e.Tables {
		fmt.Fprintf(&b, " %s (exported %d, destination %d, source now %d)", c.Table, c.Archive, c.Destination, c.Source)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrMoveMismatch) true.
func (e *MoveMismatchError) Is(target error) bool { return target == ErrMoveMismatch }
