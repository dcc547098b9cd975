package tenantpath_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/ngrok/sqlmw"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// logInterceptor is an ordinary sqlmw logging middleware: it records each
// statement together with the tenant in the context it was called with.
type logInterceptor struct {
	sqlmw.NullInterceptor
	mu  sync.Mutex
	log []logged
}

type logged struct {
	tenant string
	query  string
}

func (l *logInterceptor) add(ctx context.Context, q string) {
	id, _ := tenantpath.TenantFrom(ctx)
	l.mu.Lock()
	l.log = append(l.log, logged{id, q})
	l.mu.Unlock()
}

func (l *logInterceptor) ConnExecContext(ctx context.Context, c driver.ExecerContext, q string, args []driver.NamedValue) (driver.Result, error) {
	l.add(ctx, q)
	return c.ExecContext(ctx, q, args)
}

func (l *logInterceptor) ConnQueryContext(ctx context.Context, c driver.QueryerContext, q string, args []driver.NamedValue) (context.Context, driver.Rows, error) {
	l.add(ctx, q)
	rows, err := c.QueryContext(ctx, q, args)
	return ctx, rows, err
}

// tenantpath over a sqlmw-wrapped pgx driver: the interceptor beneath sees
// each switch before the statements it routes, and rows stay correct.
func TestComposesAboveSqlmw(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	logger := &logInterceptor{}
	d, err := tenantpath.Wrap(sqlmw.Driver(stdlib.GetDefaultDriver(), logger), tenantpath.WithNaming(e.Naming))
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.OpenConnector(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	for _, id := range []string{"10", "11", "11", "10"} {
		tptest.MustRead(t, tenantpath.WithTenant(ctx, id), db, id)
	}
	// Replay the log: every user statement must follow a switch to its
	// own tenant's schema.
	current := ""
	users := 0
	for _, l := range logger.log {
		if strings.Contains(l.query, "set_config") {
			current = l.query
			continue
		}
		users++
		if !strings.Contains(current, "to_regnamespace('\""+e.Prefix+l.tenant+"\"')") {
			t.Fatalf("statement %q for tenant %s ran after switch %q", l.query, l.tenant, current)
		}
	}
	if users != 4 || len(logger.log) != 7 {
		t.Fatalf("interceptor saw %d statements (%d user): %+v", len(logger.log), users, logger.log)
	}
}

// A sqlmw interceptor above tenantpath sees the application's statements
// with the tenant still in their context, and tenantpath still routes them.
func TestComposesBelowSqlmw(t *testing.T) {
	e := tptest.NewEnv(t, "10", "11")
	tp, err := tenantpath.Wrap(stdlib.GetDefaultDriver(), tenantpath.WithNaming(e.Naming))
	if err != nil {
		t.Fatal(err)
	}
	logger := &logInterceptor{}
	c, err := sqlmw.Driver(tp, logger).(driver.DriverContext).OpenConnector(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	ctx := context.Background()
	for _, id := range []string{"10", "11", "10"} {
		tptest.MustRead(t, tenantpath.WithTenant(ctx, id), db, id)
	}
	if len(logger.log) != 3 {
		t.Fatalf("interceptor above saw %d statements, want the 3 the application sent: %+v", len(logger.log), logger.log)
	}
	for i, want := range []string{"10", "11", "10"} {
		if logger.log[i].tenant != want || strings.Contains(logger.log[i].query, "set_config") {
			t.Fatalf("entry %d = %+v, want the application's query for tenant %s", i, logger.log[i], want)
		}
	}
}
