package migrator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/tenantpath/tenantpath"
)

// Spare tenants are schemas built and migrated ahead of sign-up, named
// tenantpath_spare_<fleet>_<random>. The driver's Naming refuses every
// name starting with tenantpath.ReservedPrefix, so no tenant id can ever
// route to one, and no tenant list holds them. Create and CreateTx claim
// one by renaming it to the new tenant's schema (see claim.go).

// SparesReport says what [Migrator.EnsureSpares], or the spare part of
// [Migrator.Migrate], did.
type SparesReport struct {
	Ready    int      // spares up to date and free when the call returned
	Created  int      // spares built
	Migrated int      // spares brought up to date
	Dropped  int      // spares dropped: more than asked for, or beyond repair
	Failed   []Result // spares whose migration failed (each was dropped)
}

// EnsureSpares keeps n spare tenants: schemas built with every tenant
// migration, never listed as tenants and never routable, that
// [Migrator.Create] and [Migrator.CreateTx] claim by renaming one to the
// new tenant's schema, in one statement (two inside the caller's
// transaction) instead of running every migration at sign-up.
//
// It brings the existing spares up to date (a spare whose history no longer
// fits the migration files, or whose migration fails, is dropped: it holds
// no data), drops those beyond n and builds the missing ones, each as
// [Migrator.Create] builds a tenant. n = 0 drops them all. Call it after a
// deploy's migrations and after sign-ups (in the background: it takes as
// long as building the spares) to refill the pool. Two calls at once, from
// any process, take turns under the fleet's advisory lock. It needs two
// connections of the pool: one holds that lock.
//
// A fleet is the first shared schema with the version and registry tables
// and the naming's prefix: Migrators that agree on them share spares. A
// spare is only claimed when its whole migration history matches the local
// files (versions and checksums), so a Migrator with other migrations never
// claims it.
func (m *Migrator) EnsureSpares(ctx context.Context, n int) (SparesReport, error) {
	var rep SparesReport
	if n < 0 {
		return rep, fmt.Errorf("migrator: spares: count must not be negative, got %d", n)
	}
	ctx = onBasePath(ctx)
	err := m.withSparesLock(ctx, func() error {
		ready, err := m.refreshSpares(ctx, &rep)
		if err != nil {
			return err
		}
		for ; len(ready) > n; ready = ready[:len(ready)-1] {
			if err := m.dropReserved(ctx, ready[len(ready)-1]); err != nil {
				return err
			}
			rep.Dropped++
		}
		for len(ready) < n {
			name, err := m.buildReserved(ctx, m.sparePrefix(), 0)
			if err != nil {
				return err
			}
			ready = append(ready, name)
			rep.Created++
			m.logChange(ctx, "migrator: spare created", "", name)
		}
		rep.Ready = len(ready)
		return nil
	})
	return rep, err
}

// migrateSpares brings the spares up to date under the fleet's lock, for
// Migrate.
func (m *Migrator) migrateSpares(ctx context.Context) (SparesReport, error) {
	var rep SparesReport
	err := m.withSparesLock(ctx, func() error {
		ready, err := m.refreshSpares(ctx, &rep)
		rep.Ready = len(ready)
		return err
	})
	return rep, err
}

// withSparesLock runs fn holding the fleet's spares lock on a pinned
// connection of its own.
func (m *Migrator) withSparesLock(ctx context.Context, fn func() error) error {
	s, err := m.newSession(ctx)
	if err != nil {
		return err
	}
	defer s.release(ctx)
	if err := s.take(ctx, sparesLockKey(m.fleetID())); err != nil {
		s.broken()
		return fmt.Errorf("migrator: spares: locking: %w", err)
	}
	return fn()
}

// refreshSpares lists the spares, migrates those behind, drops those that
// cannot be brought up to date and returns the ready ones, in name order.
func (m *Migrator) refreshSpares(ctx context.Context, rep *SparesReport) ([]string, error) {
	names, err := m.listReserved(ctx, m.sparePattern())
	if err != nil {
		return nil, err
	}
	raw, err := m.statusQuery(ctx, names)
	if err != nil {
		return nil, err
	}
	var ready []string
	for _, name := range names {
		st := Status{Schema: name}
		m.tenant.fill(&st, raw[name])
		switch {
		case !st.Exists: // claimed since the list was read
			continue
		case st.UpToDate():
			ready = append(ready, name)
			continue
		case !st.Changed && len(st.Unknown) == 0:
			res := m.runOne(ctx, m.reservedTarget(name, 0), m.migrateJob())
			if res.Err == nil {
				rep.Migrated++
				ready = append(ready, name)
				continue
			}
			if errors.Is(res.Err, tenantpath.ErrUnknownTenant) {
				continue // claimed while we waited for its lock
			}
			rep.Failed = append(rep.Failed, res)
		}
		if err := m.dropReserved(ctx, name); err != nil {
			return ready, err
		}
		rep.Dropped++
	}
	return ready, nil
}

// listReserved lists the schemas named like pattern, sorted.
func (m *Migrator) listReserved(ctx context.Context, pattern string) ([]string, error) {
	names, err := queryStrings(ctx, m.db, 1,
		"SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname LIKE $1 ORDER BY nspname", pattern)
	if err != nil {
		return nil, fmt.Errorf("migrator: listing spares: %w", err)
	}
	return names, nil
}

// buildReserved builds a reserved schema named prefix and a random suffix,
// up to version limit (0: every migration, negative: none), all or nothing,
// as Create builds a tenant, and returns its name.
func (m *Migrator) buildReserved(ctx context.Context, prefix string, limit int64) (string, error) {
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return "", err
	}
	t := m.reservedTarget(prefix+hex.EncodeToString(suffix), limit)
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if err := m.createIn(ctx, tx, t); err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("migrator: building %q: %w", t.schema, err)
	}
	if m.tenant.hasNoTx {
		if err := m.finishCreate(ctx, t); err != nil {
			return "", err
		}
	}
	return t.schema, nil
}

// dropReserved drops a reserved schema under its lock; one claimed (renamed)
// meanwhile is left alone.
func (m *Migrator) dropReserved(ctx context.Context, schema string) error {
	err := m.dropNow(context.WithoutCancel(ctx), m.reservedTarget(schema, 0), nil)
	if errors.Is(err, tenantpath.ErrUnknownTenant) {
		return nil
	}
	return err
}

// reservedTarget is the target of a reserved schema: its own schema, then
// the shared schemas, on its path.
func (m *Migrator) reservedTarget(schema string, limit int64) target {
	return target{
		schema:   schema,
		path:     tenantpath.QuoteIdentifier(schema) + ", " + m.naming.SharedPath(),
		set:      m.tenant,
		reserved: true,
		limit:    limit,
	}
}

// fleetID names the fleet whose spares this Migrator uses: a short hash of
// the shared schemas, the version and registry tables and the prefix.
func (m *Migrator) fleetID() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		strings.Join(m.naming.SharedSchemas(), ","), m.cfg.versionTable, m.cfg.registryTable, m.naming.Prefix,
	}, "\x00")))
	return hex.EncodeToString(sum[:4])
}

// sparePrefix starts every spare's name of this fleet.
func (m *Migrator) sparePrefix() string {
	return tenantpath.ReservedPrefix + "spare_" + m.fleetID() + "_"
}

// sparePattern matches the names of this fleet's spares (LIKE).
func (m *Migrator) sparePattern() string { return likeEscape(m.sparePrefix()) + "%" }

// spareFingerprint is the history a spare must have to be claimed: every
// tenant migration.
func (m *Migrator) spareFingerprint() string { return m.historyFingerprint(0) }

// historyFingerprint is the fingerprint (historyFingerprintSQL) of the
// tenant migrations up to version limit (0: all, negative: none), "" for
// none.
func (m *Migrator) historyFingerprint(limit int64) string {
	var versions []int64
	for _, mig := range m.tenant.list {
		if limit != 0 && mig.Version > limit {
			break
		}
		versions = append(versions, mig.Version)
	}
	if len(versions) == 0 {
		return ""
	}
	return m.tenant.fingerprint(versions)
}
