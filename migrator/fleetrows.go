package migrator

import (
	"context"
	"database/sql"
)

// TenantRows is the result of [Migrator.QueryTenants]: the rows of one
// query run in every selected tenant, streamed as the tenants produce them,
// each saying which tenant it came from. Iterate it like [*sql.Rows]:
//
//	rows, err := m.QueryTenants(ctx, "SELECT count(*) FROM users", nil)
//	if err != nil {
//		return err
//	}
//	defer rows.Close()
//	for rows.Next() {
//		var n int64
//		if err := rows.Scan(&n); err != nil {
//			return err
//		}
//		fmt.Println(rows.Tenant(), n)
//	}
//	return rows.Err() // a *PartialError names the tenants that failed
//
// Rows of one tenant arrive in the order its query returns them; rows of
// different tenants are interleaved as the workers produce them (with
// [Workers](1), tenant after tenant in id order). Nothing is buffered: a
// worker waits while its row is being read, so memory does not grow with
// the result. A TenantRows is not safe for concurrent use, like *sql.Rows.
// Close it (or read it to the end): until then its workers hold their
// connections and their tenants' shared locks, so do not wait, inside the
// loop, for a connection of a pool the workers have used up.
type TenantRows struct {
	cancel context.CancelFunc
	ready  chan *tenantCursor // a worker offers its current row
	done   chan struct{}      // closed once every worker has finished

	cur     *tenantCursor
	results []Result
	err     error
	stopped bool // Close stopped the run before its end
	closed  bool
}

// tenantCursor is one tenant's open query, positioned on a row the reader
// may scan until it asks for the next one.
type tenantCursor struct {
	tenant string
	rows   *sql.Rows
	resume chan struct{} // buffered: the reader is done with the row
}

// QueryTenants runs query with args in every tenant selected by opts, with
// the same checks, transactions (READ ONLY unless [Write]), locking and
// parallelism as [Migrator.ForEachTenant], and returns its rows as they
// come. An error before any tenant runs (a bad option, a tenant list that
// fails its checks) is returned here; a tenant's failure is reported by
// [TenantRows.Err] once the rows are read, and by [TenantRows.Results].
func (m *Migrator) QueryTenants(ctx context.Context, query string, args []any, opts ...RunOption) (*TenantRows, error) {
	ctx = onBasePath(ctx)
	rc, ids, err := m.selected(ctx, opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &TenantRows{cancel: cancel, ready: make(chan *tenantCursor), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.results, r.err = m.runWork(ctx, rc, ids, r.produce(query, args))
	}()
	return r, nil
}

// produce is the work done in each tenant: run the query and offer each
// row to the reader, waiting until the reader moves on.
func (r *TenantRows) produce(query string, args []any) TenantFunc {
	return func(ctx context.Context, tenant string, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		c := &tenantCursor{tenant: tenant, rows: rows, resume: make(chan struct{}, 1)}
		for rows.Next() {
			select {
			case r.ready <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-c.resume:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return rows.Err()
	}
}

// Next moves to the next row of any tenant and reports whether there is
// one. After false, Err and Results report the run.
func (r *TenantRows) Next() bool {
	if r.closed {
		return false
	}
	r.letGo()
	select {
	case c := <-r.ready:
		r.cur = c
		return true
	case <-r.done:
		return false
	}
}

// letGo hands the current row back to its worker.
func (r *TenantRows) letGo() {
	if r.cur != nil {
		r.cur.resume <- struct{}{}
		r.cur = nil
	}
}

// Tenant returns the tenant id the current row came from.
func (r *TenantRows) Tenant() string {
	if r.cur == nil {
		return ""
	}
	return r.cur.tenant
}

// Columns returns the column names of the current row's result (tenants at
// different migration versions may differ).
func (r *TenantRows) Columns() ([]string, error) {
	if r.cur == nil {
		return nil, errNoRow
	}
	return r.cur.rows.Columns()
}

// ColumnTypes returns the column types of the current row's result.
func (r *TenantRows) ColumnTypes() ([]*sql.ColumnType, error) {
	if r.cur == nil {
		return nil, errNoRow
	}
	return r.cur.rows.ColumnTypes()
}

// Scan copies the current row's columns into dest, as [sql.Rows.Scan]
// does.
func (r *TenantRows) Scan(dest ...any) error {
	if r.cur == nil {
		return errNoRow
	}
	return r.cur.rows.Scan(dest...)
}

// Err returns the run's error once Next has returned false: nil when every
// tenant succeeded, else a [*PartialError] (or the context's error). It is
// nil after Close stopped the run early.
func (r *TenantRows) Err() error {
	if r.stopped || !r.finished() {
		return nil
	}
	return r.err
}

// Results returns one [Result] per tenant started, sorted by tenant id,
// once Next has returned false (nil before).
func (r *TenantRows) Results() []Result {
	if !r.finished() {
		return nil
	}
	return r.results
}

func (r *TenantRows) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Close stops the run if it is still going (tenants not finished are
// rolled back, those not started are not run), waits for its workers to
// give back their connections and locks, and returns nil. Calling it again
// does nothing. Stopping works by cancelling the run's context: a
// statement it interrupts has its connection closed by the driver, and the
// server ends that session, releasing its lock, as soon as it notices.
func (r *TenantRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if !r.finished() {
		r.stopped = true
		r.cancel()
		r.letGo()
		<-r.done
	}
	r.cur = nil
	r.cancel()
	return nil
}
