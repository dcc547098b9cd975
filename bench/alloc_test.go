package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
)

// fakeOp is one statement through database/sql, as an application makes it.
type fakeOp struct {
	name string
	// setup prepares what run needs on db (a prepared statement).
	run func(ctx context.Context, db *sql.DB, st *sql.Stmt) error
}

const fakeQuery = "SELECT v FROM items WHERE id = $1"

var fakeOps = []fakeOp{
	{"queryrow", func(ctx context.Context, db *sql.DB, _ *sql.Stmt) error {
		var v int64
		return db.QueryRowContext(ctx, fakeQuery, 7).Scan(&v)
	}},
	{"exec", func(ctx context.Context, db *sql.DB, _ *sql.Stmt) error {
		_, err := db.ExecContext(ctx, "UPDATE items SET hits = hits + 1 WHERE id = $1", 7)
		return err
	}},
	{"prepared", func(ctx context.Context, _ *sql.DB, st *sql.Stmt) error {
		var v int64
		return st.QueryRowContext(ctx, 7).Scan(&v)
	}},
	{"queryrow-2kB", func(ctx context.Context, db *sql.DB, _ *sql.Stmt) error {
		var v int64
		return db.QueryRowContext(ctx, longQuery, 7).Scan(&v)
	}},
}

// longQuery is a 2 kB statement as ORMs write them (every column listed,
// joins): the wrapper scans each statement's text for SQL that may change
// the path, so its cost grows with the length.
var longQuery = func() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i := 0; b.Len() < 1900; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"orders"."column_number_%d" AS "orders__column_number_%d"`, i, i)
	}
	b.WriteString(` FROM "orders" LEFT JOIN "customers" ON "customers"."id" = "orders"."customer_id" WHERE "orders"."id" = $1`)
	return b.String()
}()

func wrapFake(c driver.Connector) (*sql.DB, error) {
	return tenantpath.OpenDB(c, tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
}

// fakeSetup opens a one-connection DB over the fake (wrapped or not),
// prepares fakeQuery and runs one statement, so that the connection exists
// and, when wrapped, is already on tenant "10".
func fakeSetup(tb testing.TB, wrapped bool) (*sql.DB, *sql.Stmt, context.Context) {
	tb.Helper()
	ctx := context.Background()
	var wrap func(driver.Connector) (*sql.DB, error)
	if wrapped {
		wrap = wrapFake
		ctx = tenantpath.WithTenant(ctx, "10")
	}
	db, err := openFake(wrap)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	st, err := db.PrepareContext(ctx, fakeQuery)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := fakeOps[0].run(ctx, db, st); err != nil {
		tb.Fatal(err)
	}
	return db, st, ctx
}

// TestWrapperAddsNoAllocations counts the allocations of one statement on
// the same-tenant path, through database/sql over the fake driver, with and
// without tenantpath. The wrapper must add none.
func TestWrapperAddsNoAllocations(t *testing.T) {
	for _, op := range fakeOps {
		t.Run(op.name, func(t *testing.T) {
			var allocs [2]float64
			for i, wrapped := range []bool{false, true} {
				db, st, ctx := fakeSetup(t, wrapped)
				var err error
				allocs[i] = testing.AllocsPerRun(2000, func() {
					if e := op.run(ctx, db, st); e != nil {
						err = e
					}
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("allocations per statement: bare %v, tenantpath %v", allocs[0], allocs[1])
			if allocs[1] > allocs[0] {
				t.Errorf("tenantpath adds %v allocations per statement (bare %v, wrapped %v)",
					allocs[1]-allocs[0], allocs[0], allocs[1])
			}
		})
	}
}

// BenchmarkFake measures database/sql over the in-memory driver, bare and
// wrapped, on the same-tenant path, and the wrapper's switch path (two
// tenants taking turns on one connection; the switch is one Exec on the
// fake). Run it with -benchmem: the difference between bare and
// tenantpath is the wrapper's own cost.
func BenchmarkFake(b *testing.B) {
	for _, op := range fakeOps {
		for _, variant := range []string{"bare", "tenantpath", "tenantpath-switch"} {
			b.Run(fmt.Sprintf("%s/%s", op.name, variant), func(b *testing.B) {
				db, st, ctx := fakeSetup(b, variant != "bare")
				ctxs := [2]context.Context{ctx, ctx}
				if variant == "tenantpath-switch" {
					ctxs[1] = tenantpath.WithTenant(context.Background(), "11")
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					if err := op.run(ctxs[i&1], db, st); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
