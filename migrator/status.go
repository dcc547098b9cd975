package migrator

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Status describes one schema's migration state.
type Status struct {
	Tenant  string // "" for the shared schema
	Schema  string
	Exists  bool    // the schema exists
	Version int64   // newest applied version, 0 if none
	Applied []int64 // applied versions, ascending
	Pending []int64 // versions of the set not applied, ascending
	// PendingMigrations describes the migrations of Pending, in the same
	// order: what a run would apply here, for a dry run.
	PendingMigrations []Migration
	Unknown           []int64 // applied versions no migration defines
	// Changed is true when an applied migration's checksum differs from
	// its file now (computed over all applied versions at once; run
	// MigrateTenant to learn which one).
	Changed bool
}

// UpToDate reports whether the schema exists, has every migration applied
// and nothing changed or unknown.
func (s Status) UpToDate() bool {
	return s.Exists && len(s.Pending) == 0 && len(s.Unknown) == 0 && !s.Changed
}

// Status reports the state of every tenant (see [Only] and [Except]), sorted
// by tenant id. It does not cost a round trip per tenant: one query lists
// the tenants, and one query per 500 tenants reads their version tables on
// the server (10,000 tenants: 21 queries, four at a time). The tenant list
// is checked as for [Migrator.MigrateTenants]: a registry written under
// another naming, Only or Except ids that are not tenants and an empty list
// while schemas that look like tenants exist are errors.
func (m *Migrator) Status(ctx context.Context, opts ...RunOption) ([]Status, error) {
	ctx = onBasePath(ctx)
	_, ids, err := m.selected(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(ids))
	var schemas []string
	for _, id := range ids {
		schema, err := m.naming.Schema(id)
		if err != nil {
			return nil, err
		}
		out = append(out, Status{Tenant: id, Schema: schema})
		schemas = append(schemas, schema)
	}
	raw, err := m.statusQuery(ctx, schemas)
	if err != nil {
		return nil, err
	}
	for i := range out {
		m.tenant.fill(&out[i], raw[out[i].Schema])
	}
	return out, nil
}

// StatusTenant reports the state of one tenant.
func (m *Migrator) StatusTenant(ctx context.Context, tenant string) (Status, error) {
	t, err := m.tenantTarget(tenant)
	if err != nil {
		return Status{}, err
	}
	raw, err := m.statusQuery(onBasePath(ctx), []string{t.schema})
	if err != nil {
		return Status{}, err
	}
	st := Status{Tenant: tenant, Schema: t.schema}
	m.tenant.fill(&st, raw[t.schema])
	return st, nil
}

// StatusShared reports the state of the shared schema.
func (m *Migrator) StatusShared(ctx context.Context) (Status, error) {
	t := m.sharedTarget()
	raw, err := m.statusQuery(onBasePath(ctx), []string{t.schema})
	if err != nil {
		return Status{}, err
	}
	st := Status{Schema: t.schema}
	m.shared.fill(&st, raw[t.schema])
	return st, nil
}

type rawStatus struct {
	exists      bool
	versions    string // "1,2,3"
	fingerprint string // md5 of "1:sum,2:sum,3:sum"
}

// statusChunk is how many schemas one status query reads. Each version
// table read takes an AccessShareLock that lasts until the statement's
// implicit transaction ends, and the server's lock table has room for about
// max_locks_per_transaction × max_connections locks in all (6,400 with the
// defaults): one query over 10,000 tenants could fail with "out of shared
// memory". Chunks of 500 keep well inside it, and 10,000 tenants still cost
// only 20 queries.
const statusChunk = 500

// statusQuery reads the version tables of many schemas, statusChunk per
// round trip, up to four chunks at a time.
func (m *Migrator) statusQuery(ctx context.Context, schemas []string) (map[string]rawStatus, error) {
	out := make(map[string]rawStatus, len(schemas))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for start := 0; start < len(schemas); start += statusChunk {
		chunk := schemas[start:min(start+statusChunk, len(schemas))]
		g.Go(func() error { return m.statusChunk(gctx, chunk, out, &mu) })
	}
	return out, g.Wait()
}

// statusChunk reads the version tables of schemas in one round trip
// (statusSQL). The schema names and their quoted, qualified version tables
// travel as two array parameters; for each schema that exists and has a
// version table the server runs a small aggregate through query_to_xml
// (dynamic SQL evaluated per row, server side). No function is created and
// nothing is written.
func (m *Migrator) statusChunk(ctx context.Context, schemas []string, out map[string]rawStatus, mu *sync.Mutex) error {
	tables := make([]string, len(schemas))
	for i, s := range schemas {
		tables[i] = m.table(s)
	}
	rows, err := m.db.QueryContext(ctx, statusSQL, textArray(schemas), textArray(tables))
	if err != nil {
		return fmt.Errorf("migrator: status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var r rawStatus
		var xml *string
		if err := rows.Scan(&name, &r.exists, &xml); err != nil {
			return err
		}
		if xml != nil {
			r.versions = xmlField(*xml, "v")
			r.fingerprint = xmlField(*xml, "f")
		}
		mu.Lock()
		out[name] = r
		mu.Unlock()
	}
	return rows.Err()
}

func (s *set) fill(st *Status, r rawStatus) {
	st.Exists = r.exists
	applied := make(map[int64]bool)
	if r.versions != "" {
		for _, f := range strings.Split(r.versions, ",") {
			v, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				continue
			}
			st.Applied = append(st.Applied, v)
			applied[v] = true
			if _, ok := s.byVersion[v]; !ok {
				st.Unknown = append(st.Unknown, v)
			}
		}
	}
	sort.Slice(st.Applied, func(i, j int) bool { return st.Applied[i] < st.Applied[j] })
	if n := len(st.Applied); n > 0 {
		st.Version = st.Applied[n-1]
	}
	for _, mig := range s.list {
		if !applied[mig.Version] {
			st.Pending = append(st.Pending, mig.Version)
			st.PendingMigrations = append(st.PendingMigrations, mig.Migration)
		}
	}
	if len(st.Applied) > 0 && len(st.Unknown) == 0 {
		st.Changed = s.fingerprint(st.Applied) != r.fingerprint
	}
}

// fingerprint is what statusSQL's f reads for a table whose rows are the
// applied versions with the set's checksums: md5 of "version:checksum"
// pairs joined by commas, in version order.
func (s *set) fingerprint(applied []int64) string {
	parts := make([]string, len(applied))
	for i, v := range applied {
		parts[i] = strconv.FormatInt(v, 10) + ":" + s.byVersion[v].Checksum
	}
	sum := md5.Sum([]byte(strings.Join(parts, ",")))
	return hex.EncodeToString(sum[:])
}

// textArray renders ss as a PostgreSQL text[] literal, so it can be passed
// as one ordinary string argument with any driver.
func textArray(ss []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for j := 0; j < len(s); j++ {
			if s[j] == '"' || s[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
