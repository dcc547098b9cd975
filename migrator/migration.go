package migrator

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"sort"
)

// Set names one of the two migration sets.
type Set uint8

const (
	// SharedSet is run once, in the first shared schema of the naming
	// (by default "public").
	SharedSet Set = iota
	// TenantSet is run in every tenant schema.
	TenantSet
)

func (s Set) String() string {
	if s == SharedSet {
		return "shared"
	}
	return "tenant"
}

// TxFunc is the body of a Go migration. It runs inside the migration's
// transaction, on a connection whose search_path is the schema being
// migrated followed by the shared schemas; the version row is written in the
// same transaction after it returns nil. ctx carries
// [tenantpath.WithBasePath]: use it (or a context derived from it without
// another scope) for calls on tx, which a pool opened through tenantpath
// then runs in the transaction as they are.
type TxFunc func(ctx context.Context, tx *sql.Tx) error

// GoMigration is a migration written in Go, registered with
// [WithGoMigration]. Go migrations are always transactional. Their checksum
// is empty: an edit to the function is not detected.
type GoMigration struct {
	Version int64
	Name    string
	Up      TxFunc // required
	Down    TxFunc // nil: the migration cannot be rolled back
}

// Migration describes one migration of a set, as [Migrator.Migrations]
// reports it.
type Migration struct {
	Version  int64
	Name     string
	Source   string // file path inside the fs.FS, or "go:<name>"
	NoTx     bool   // runs outside a transaction
	HasDown  bool
	Checksum string // hex SHA-256 of the up SQL; "" for Go migrations
}

// migration is the internal, runnable form.
type migration struct {
	Migration
	upSQL, downSQL string
	up, down       TxFunc
}

func (m *migration) isGo() bool { return m.up != nil }

// set is one sorted, validated migration set.
type set struct {
	list      []*migration
	byVersion map[int64]*migration
	hasNoTx   bool
}

func newSet(kind Set, ms []*migration) (*set, error) {
	s := &set{byVersion: make(map[int64]*migration)}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for _, m := range ms {
		if prev, dup := s.byVersion[m.Version]; dup {
			return nil, &DuplicateError{Set: kind, Version: m.Version, Sources: []string{prev.Source, m.Source}}
		}
		s.byVersion[m.Version] = m
		s.list = append(s.list, m)
		if m.NoTx {
			s.hasNoTx = true
		}
	}
	return s, nil
}

func checksum(sql string) string {
	sum := sha256.Sum256([]byte(sql))
	return hex.EncodeToString(sum[:])
}

// check compares a schema's applied versions with the set: every applied
// version must have a migration with the same checksum, and no migration
// older than the newest applied one may be missing.
func (s *set) check(schema string, applied []appliedRow) error {
	if len(applied) == 0 {
		return nil
	}
	newest := applied[len(applied)-1].version
	done := make(map[int64]bool, len(applied))
	for _, a := range applied {
		done[a.version] = true
		mig := s.byVersion[a.version]
		if mig == nil {
			return &HistoryError{Schema: schema, Version: a.version, Reason: HistoryUnknown, Newest: newest}
		}
		if mig.Checksum != "" && a.checksum != mig.Checksum {
			return &ChecksumError{Schema: schema, Version: a.version, Name: mig.Name, Applied: a.checksum, Current: mig.Checksum}
		}
	}
	for _, mig := range s.list {
		if mig.Version > newest {
			break
		}
		if !done[mig.Version] {
			return &HistoryError{Schema: schema, Version: mig.Version, Reason: HistoryGap, Newest: newest}
		}
	}
	return nil
}
