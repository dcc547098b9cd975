package reliability_test

import (
	"context"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// BenchmarkTransactionPoolingCost measures what TransactionPooling costs
// against the default mode: one read of a tenant's table per operation,
// from a pool of one connection straight to the server (no pooler, so only
// the driver's extra round trips show), either always for the same tenant
// or alternating between two. Run it with
//
//	go test -run '^$' -bench TransactionPoolingCost -benchmem ./reliability/
//
// The default mode sends a switch only when the tenant changes;
// TransactionPooling wraps every read in BEGIN, a local switch and COMMIT.
// Besides time and allocations it reports stmts/op: the statements (round
// trips) the driver sends per read, the number that does not depend on the
// machine.
func BenchmarkTransactionPoolingCost(b *testing.B) {
	e := tptest.NewEnv(b, "10", "11")
	for _, bd := range tptest.Drivers {
		for _, mode := range []struct {
			name string
			opts []tenantpath.Option
		}{
			{"default", nil},
			{"TransactionPooling", []tenantpath.Option{tenantpath.TransactionPooling()}},
		} {
			for _, pattern := range []struct {
				name string
				ids  []string
			}{
				{"same-tenant", []string{"10"}},
				{"alternating", []string{"10", "11"}},
			} {
				b.Run(bd.Name+"/"+mode.name+"/"+pattern.name, func(b *testing.B) {
					rec := &tptest.Recorder{Connector: bd.Connector(b, pgtest.DSN(b), true)}
					db := tptest.OpenWrapped(b, rec, append([]tenantpath.Option{tenantpath.WithNaming(e.Naming)}, mode.opts...)...)
					db.SetMaxOpenConns(1)
					ctxs := make([]context.Context, len(pattern.ids))
					for i, id := range pattern.ids {
						ctxs[i] = tenantpath.WithTenant(context.Background(), id)
						tptest.MustRead(b, ctxs[i], db, id)
					}
					rec.Take()
					n := 0
					for i := 0; b.Loop(); i++ {
						ctx := ctxs[i%len(ctxs)]
						if _, err := tptest.ReadTenant(ctx, db); err != nil {
							b.Fatal(err)
						}
						n++
					}
					// Statements the driver hands to the base driver per read
					// (BEGIN and COMMIT included): each is a round trip.
					b.ReportMetric(float64(len(rec.Take()))/float64(n), "stmts/op")
				})
			}
		}
	}
}
