package migrator

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Sentinel errors. Match them with [errors.Is]; the concrete errors carry the
// details (which file, which schema, which version).
var (
	// ErrInvalidMigration is matched by every [ParseError] and
	// [DuplicateError]: the migration files could not be read as a
	// consistent set. [New] returns it; nothing has run.
	ErrInvalidMigration = errors.New("migrator: invalid migration set")

	// ErrChecksum is matched by every [ChecksumError]: a migration applied
	// in a schema has been edited since. Nothing runs in that schema.
	ErrChecksum = errors.New("migrator: applied migration has changed")

	// ErrHistory is matched by every [HistoryError]: a schema's version
	// table does not fit the migration files (a gap, or a version with no
	// file). Nothing runs in that schema.
	ErrHistory = errors.New("migrator: version table does not match the migrations")

	// ErrPartial is matched by every [PartialError]: some tenants failed
	// or were not run, the others succeeded.
	ErrPartial = errors.New("migrator: some tenants failed")

	// ErrTenantExists is returned by Create, CreateTx and Rename when the
	// schema to be made already exists.
	ErrTenantExists = errors.New("migrator: tenant schema already exists")

	// ErrDropDisabled is returned by Drop unless the Migrator was built
	// with [WithDrop].
	ErrDropDisabled = errors.New("migrator: dropping tenants is not enabled (see WithDrop)")

	// ErrNoDown is matched by every [NoDownError]: a rollback needs a
	// migration that has no down part. Nothing was rolled back in that
	// schema.
	ErrNoDown = errors.New("migrator: migration has no down part")

	// ErrNonTransactional is returned by CreateTx when a tenant migration
	// is marked as non-transactional: it cannot run inside the caller's
	// transaction. Create handles such migrations itself.
	ErrNonTransactional = errors.New("migrator: a non-transactional migration cannot join a transaction")

	// ErrMissingDir is matched by every [MissingDirError]: [New] did not
	// find a migration folder it was told to read.
	ErrMissingDir = errors.New("migrator: migration folder not found")

	// ErrNamingMismatch is matched by every [NamingMismatchError]: the
	// tenant registry holds schema names the naming in use does not
	// produce, as when a prefix was forgotten. Nothing has run.
	ErrNamingMismatch = errors.New("migrator: the tenant registry does not match the naming")

	// ErrUnknownTenants is matched by every [UnknownTenantsError]: [Only]
	// or [Except] named ids that are not tenants. Nothing has run.
	ErrUnknownTenants = errors.New("migrator: not tenants")

	// ErrNoTenantsFound is matched by every [NoTenantsFoundError]: the
	// tenant list is empty while schemas the naming maps to tenants exist.
	// Nothing has run.
	ErrNoTenantsFound = errors.New("migrator: no tenants found")
)

// ParseError reports a migration file that cannot be read: a name that does
// not follow either format, a goose file without "-- +goose Up", an unknown
// annotation. It matches [ErrInvalidMigration].
type ParseError struct {
	File   string // path inside the fs.FS
	Line   int    // 1-based line of the problem, 0 if not tied to a line
	Reason string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("migrator: %s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("migrator: %s: %s", e.File, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidMigration) true.
func (e *ParseError) Is(target error) bool { return target == ErrInvalidMigration }

// DuplicateError reports two migrations of one set with the same version.
// It matches [ErrInvalidMigration].
type DuplicateError struct {
	Set     Set
	Version int64
	Sources []string // the files (or "go:" names) that claim it
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("migrator: %s migration version %d is defined more than once: %s",
		e.Set, e.Version, strings.Join(e.Sources, ", "))
}

// Is makes errors.Is(err, ErrInvalidMigration) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrInvalidMigration }

// MissingDirError reports migration folders that do not exist in the
// [io/fs.FS] given to [New]: a folder named with [WithSharedDir] or
// [WithTenantDir], or both default folders at once (a wrong root, most
// likely). It matches [ErrMissingDir] and [io/fs.ErrNotExist].
type MissingDirError struct {
	Dirs []string // the folders looked for, as paths inside the fs.FS
}

func (e *MissingDirError) Error() string {
	if len(e.Dirs) == 1 {
		return fmt.Sprintf("migrator: migration folder %q does not exist", e.Dirs[0])
	}
	return fmt.Sprintf("migrator: none of the migration folders %s exists: is the fs.FS rooted at the folder that holds them?",
		quoteAll(e.Dirs))
}

// Is makes errors.Is(err, ErrMissingDir) and errors.Is(err, fs.ErrNotExist)
// true.
func (e *MissingDirError) Is(target error) bool {
	return target == ErrMissingDir || target == fs.ErrNotExist
}

// ChecksumError reports an applied migration whose file has changed since.
// It matches [ErrChecksum].
type ChecksumError struct {
	Schema  string
	Version int64
	Name    string
	Applied string // checksum recorded in the version table
	Current string // checksum of the file now
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("migrator: schema %q: migration %d (%s) was changed after it was applied (checksum %.12s, file now %.12s)",
		e.Schema, e.Version, e.Name, e.Applied, e.Current)
}

// Is makes errors.Is(err, ErrChecksum) true.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// HistoryReason says why a version table does not fit the migrations.
type HistoryReason string

const (
	// HistoryGap: a migration is pending but older than the newest
	// applied version; applying it would run migrations out of order.
	HistoryGap HistoryReason = "gap"
	// HistoryUnknown: a version is applied but no migration defines it
	// (a newer deploy ran here, or a file was deleted).
	HistoryUnknown HistoryReason = "unknown"
)

// HistoryError reports a version table that does not fit the migrations. It
// matches [ErrHistory].
type HistoryError struct {
	Schema  string
	Version int64
	Reason  HistoryReason
	Newest  int64 // newest applied version
}

func (e *HistoryError) Error() string {
	if e.Reason == HistoryUnknown {
		return fmt.Sprintf("migrator: schema %q: version %d is applied but no migration defines it", e.Schema, e.Version)
	}
	return fmt.Sprintf("migrator: schema %q: migration %d is not applied but %d is (gap: refusing to run out of order)",
		e.Schema, e.Version, e.Newest)
}

// Is makes errors.Is(err, ErrHistory) true.
func (e *HistoryError) Is(target error) bool { return target == ErrHistory }

// NoDownError reports a rollback that needs a migration without a down part.
// It matches [ErrNoDown].
type NoDownError struct {
	Schema  string
	Version int64
	Name    string
}

func (e *NoDownError) Error() string {
	return fmt.Sprintf("migrator: schema %q: migration %d (%s) has no down part", e.Schema, e.Version, e.Name)
}

// Is makes errors.Is(err, ErrNoDown) true.
func (e *NoDownError) Is(target error) bool { return target == ErrNoDown }

// MigrationError reports a migration that failed while running. The schema
// stays at the version before it: its transaction, version row included,
// was rolled back (for a non-transactional migration, whatever statements
// completed stay, and no version row was written). Err is the driver's
// error, unchanged, so errors.As on the driver's error type works.
type MigrationError struct {
	Schema  string
	Version int64
	Name    string
	Down    bool
	Err     error
}

func (e *MigrationError) Error() string {
	dir := "up"
	if e.Down {
		dir = "down"
	}
	return fmt.Sprintf("migrator: schema %q: migration %d (%s) %s: %v", e.Schema, e.Version, e.Name, dir, e.Err)
}

func (e *MigrationError) Unwrap() error { return e.Err }

// quoteAll renders names quoted and comma-separated, for messages.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// sqlState returns the SQLSTATE of a driver error that exposes one (pgx's
// *pgconn.PgError and lib/pq's *pq.Error both do), or "".
func sqlState(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}
