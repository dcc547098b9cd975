package tenantpath_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// Tenants at different migration versions: a cached `SELECT *` planned for
// one tenant's table shape fails for the other's. Outside a transaction the
// driver retries it once and the result is the right tenant's; inside, the
// error explains itself.
func TestSchemaDriftBetweenTenants(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		s10, s11 := tenantpath.QuoteIdentifier(e.Prefix+"10"), tenantpath.QuoteIdentifier(e.Prefix+"11")
		// 10 is at version N+1 (an extra column, its own enum), 11 at N.
		e.Exec(fmt.Sprintf(`ALTER TABLE %s.notes ADD COLUMN extra int DEFAULT 7;
			CREATE TYPE %[1]s.mood AS ENUM ('happy', 'sad'); CREATE TABLE %[1]s.feelings (m %[1]s.mood); INSERT INTO %[1]s.feelings VALUES ('sad');
			CREATE TYPE %[2]s.mood AS ENUM ('sad', 'happy'); CREATE TABLE %[2]s.feelings (m %[2]s.mood); INSERT INTO %[2]s.feelings VALUES ('happy')`, s10, s11))
		db := e.Open(bd)
		db.SetMaxOpenConns(1)
		ctx := context.Background()
		ten, eleven := tenantpath.WithTenant(ctx, "10"), tenantpath.WithTenant(ctx, "11")

		columns := func(ctx context.Context) ([]string, error) {
			rows, err := db.QueryContext(ctx, "SELECT * FROM notes")
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			return rows.Columns()
		}
		for i, c := range []struct {
			ctx  context.Context
			want int
		}{{ten, 2}, {eleven, 1}, {ten, 2}, {eleven, 1}} {
			cols, err := columns(c.ctx)
			if err != nil || len(cols) != c.want {
				t.Fatalf("step %d: columns %v, err %v; want %d columns", i, cols, err, c.want)
			}
		}
		for _, c := range []struct {
			ctx  context.Context
			want string
		}{{ten, "sad"}, {eleven, "happy"}, {ten, "sad"}} {
			var m string
			if err := db.QueryRowContext(c.ctx, "SELECT m FROM feelings").Scan(&m); err != nil || m != c.want {
				t.Fatalf("enum read %q, %v; want %q", m, err, c.want)
			}
		}

		if bd.Name != "pgx" {
			return // lib/pq prepares nothing behind the caller's back
		}
		if _, err := columns(ten); err != nil { // cache the N+1 plan on the connection
			t.Fatal(err)
		}
		tx, err := db.BeginTx(eleven, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		rows, err := tx.QueryContext(eleven, "SELECT * FROM notes")
		if err == nil {
			rows.Close()
			t.Fatal("drift inside a transaction went unnoticed")
		}
		var de *tenantpath.SchemaDriftError
		if !errors.As(err, &de) || !de.InTx {
			t.Fatalf("got %v, want a SchemaDriftError in a transaction", err)
		}
	})
}

// A parameter typed with one tenant's enum, cached by pgx, does not fit
// another tenant's enum of the same name ("operator does not exist",
// 42883). That error can also be raised half-way through a statement, so
// without proof that the server refused the statement before running it the
// driver never retries it: the error reaches the caller unchanged. lib/pq
// prepares afresh every time and never meets it.
func TestSchemaDriftEnumParameter(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		for _, id := range []string{"10", "11"} {
			s := tenantpath.QuoteIdentifier(e.Prefix + id)
			e.Exec(fmt.Sprintf(`CREATE TYPE %[1]s.mood AS ENUM ('happy', 'sad');
				ALTER TABLE %[1]s.notes ADD COLUMN m %[1]s.mood DEFAULT 'happy'`, s))
		}
		db := e.Open(bd)
		db.SetMaxOpenConns(1)
		for _, id := range []string{"10", "11", "10", "11"} {
			var got string
			err := db.QueryRowContext(tenantpath.WithTenant(context.Background(), id),
				"SELECT tenant FROM notes WHERE m = $1", "happy").Scan(&got)
			if bd.Name == "pgx" && id == "11" {
				if code := pgCode(err); code != "42883" {
					t.Fatalf("tenant %s: read %q, err %v; want the driver's 42883, not retried", id, got, err)
				}
				continue
			}
			if err != nil || got != id {
				t.Fatalf("tenant %s: read %q, %v", id, got, err)
			}
		}
	})
}

func pgCode(err error) string {
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return coded.SQLState()
	}
	return ""
}
