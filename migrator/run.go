package migrator

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tenantpath/tenantpath"
)

// appliedRow is one row of a version table.
type appliedRow struct {
	version  int64
	checksum string
}

// job is what a run does in each schema.
type job struct {
	op     string // "migrate" or "rollback", for logs
	create bool   // create the version table (and the shared schema) if missing
	act    action
}

func (m *Migrator) migrateJob() job { return job{op: "migrate", create: true, act: m.upAction} }

func (m *Migrator) rollbackJob(tg Target) job {
	return job{op: "rollback", act: m.downAction(tg)}
}

// runSchema runs j in schema t on the session's connection: it takes the
// schema's advisory lock and sets search_path (releasing the previous run's
// lock in the same statement), makes sure the version table exists (for an
// up run), reads and checks the applied versions and calls the action. The
// lock and path stay on the session until the next run or release. If the
// lock statement fails, the connection is discarded and ok is false.
func (m *Migrator) runSchema(ctx context.Context, s *session, t target, j job) (res Result, ok bool) {
	start := time.Now()
	res = Result{Tenant: t.tenant, Schema: t.schema}
	defer func() { res.Duration = time.Since(start) }()

	s.runs++
	m.logStart(ctx, j.op, t)
	exists, hasTable, err := s.lock(ctx, t, m.table(t.schema))
	if err != nil {
		// The connection is in doubt (it may hold a lock, or be on a
		// tenant's path): discard it, which ends its session and so
		// releases any lock.
		s.broken()
		res.Err = fmt.Errorf("migrator: schema %q: locking: %w", t.schema, err)
		return res, false
	}
	applied, err := m.prepareSchema(ctx, s.conn, t, j.create, exists, hasTable)
	if err != nil || (!exists && !j.create) {
		res.Err = err
		return res, true
	}
	if len(applied) > 0 {
		res.From = applied[len(applied)-1].version
	}
	res.To = res.From
	res.Applied, res.Err = j.act(ctx, s.conn, t, applied)
	if n := len(res.Applied); n > 0 {
		if res.Applied[n-1].Down {
			res.To = versionAfterDown(applied, res.Applied)
		} else {
			res.To = res.Applied[n-1].Version
		}
	}
	return res, true
}

// prepareSchema readies a locked schema for a run: a tenant's schema must
// exist, a missing shared schema is created (up runs only), the version
// table is created (up runs) or read, and the applied versions are checked
// against the set.
func (m *Migrator) prepareSchema(ctx context.Context, conn *sql.Conn, t target, create, exists, hasTable bool) ([]appliedRow, error) {
	if !exists {
		if t.tenant != "" || t.reserved {
			return nil, &tenantpath.UnknownTenantError{Tenant: t.tenant, Schema: t.schema}
		}
		if !create {
			return nil, nil
		}
		if _, err := conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+tenantpath.QuoteIdentifier(t.schema)); err != nil {
			return nil, fmt.Errorf("migrator: creating shared schema %q: %w", t.schema, err)
		}
	}
	if !hasTable {
		if create {
			if _, err := conn.ExecContext(ctx, m.createVersionTableSQL(t.schema)); err != nil {
				return nil, fmt.Errorf("migrator: schema %q: creating version table: %w", t.schema, err)
			}
		}
		return nil, nil
	}
	applied, err := m.readApplied(ctx, conn, t.schema)
	if err != nil {
		return nil, err
	}
	return applied, t.set.check(t.schema, applied)
}

// versionAfterDown is the newest version still applied after a rollback.
func versionAfterDown(applied []appliedRow, done []MigrationResult) int64 {
	gone := make(map[int64]bool, len(done))
	for _, d := range done {
		gone[d.Version] = true
	}
	for i := len(applied) - 1; i >= 0; i-- {
		if !gone[applied[i].version] {
			return applied[i].version
		}
	}
	return 0
}

// readApplied reads a schema's version table (readAppliedSQL). It runs as
// its own statement after the lock was taken, so its snapshot sees every
// row a concurrent run committed before releasing the lock.
func (m *Migrator) readApplied(ctx context.Context, conn *sql.Conn, schema string) ([]appliedRow, error) {
	var doc string
	if err := conn.QueryRowContext(ctx, readAppliedSQL, m.table(schema)).Scan(&doc); err != nil {
		return nil, fmt.Errorf("migrator: schema %q: reading versions: %w", schema, err)
	}
	list := xmlField(doc, "a")
	if list == "" {
		return nil, nil
	}
	var out []appliedRow
	for _, item := range strings.Split(list, ",") {
		v, sum, _ := strings.Cut(item, ":")
		version, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("migrator: schema %q: unreadable version %q", schema, v)
		}
		out = append(out, appliedRow{version: version, checksum: sum})
	}
	return out, nil
}

// runOne runs j in one schema on a freshly pinned connection, releases it
// and logs the result.
func (m *Migrator) runOne(ctx context.Context, t target, j job) Result {
	s, err := m.newSession(ctx)
	if err != nil {
		res := Result{Tenant: t.tenant, Schema: t.schema, Err: err}
		m.logResult(ctx, j.op, res, nil)
		return res
	}
	defer s.release(ctx)
	res, _ := m.runSchema(ctx, s, t, j)
	m.logResult(ctx, j.op, res, nil)
	return res
}

// MigrateShared applies the pending shared migrations in the first shared
// schema (creating it if needed), each in its own transaction, under that
// schema's advisory lock.
func (m *Migrator) MigrateShared(ctx context.Context) (Result, error) {
	ctx = onBasePath(ctx)
	if err := m.ensureRegistry(ctx); err != nil {
		return Result{Schema: m.naming.SharedSchemas()[0], Err: err}, err
	}
	res := m.runOne(ctx, m.sharedTarget(), m.migrateJob())
	return res, res.Err
}

// RollbackShared rolls the shared schema back to tg.
func (m *Migrator) RollbackShared(ctx context.Context, tg Target) (Result, error) {
	res := m.runOne(onBasePath(ctx), m.sharedTarget(), m.rollbackJob(tg))
	return res, res.Err
}

// MigrateTenant applies the pending tenant migrations in one tenant's
// schema. The tenant need not be listed by the tenant source, but its schema
// must exist (else the error matches [tenantpath.ErrUnknownTenant]).
func (m *Migrator) MigrateTenant(ctx context.Context, tenant string) (Result, error) {
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return Result{Tenant: tenant, Err: err}, err
	}
	res := m.runOne(onBasePath(ctx), t, m.migrateJob())
	return res, res.Err
}

// RollbackTenant rolls one tenant's schema back to tg.
func (m *Migrator) RollbackTenant(ctx context.Context, tenant string, tg Target) (Result, error) {
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return Result{Tenant: tenant, Err: err}, err
	}
	res := m.runOne(onBasePath(ctx), t, m.rollbackJob(tg))
	return res, res.Err
}

// onBasePath returns the context every statement of the migrator is sent with:
// ctx (its deadline, cancellation and values) asking explicitly for the
// connection's base search_path ([tenantpath.WithBasePath]). On a pool
// opened through tenantpath that makes the driver reset a connection left
// on a tenant's path and then leave alone the path the migrator sets
// itself, whatever scope the caller's context named (a tenant, the shared
// scope, none); on any other pool it changes nothing.
func onBasePath(ctx context.Context) context.Context { return tenantpath.WithBasePath(ctx) }
