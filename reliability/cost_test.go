package reliability_test

import (
	"context"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
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
func BenchmarkTransactionPoolingCost(b *testing.B) {
	e := newEnv(b, "10", "11")
	for _, bd := range baseDrivers {
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
				b.Run(bd.name+"/"+mode.name+"/"+pattern.name, func(b *testing.B) {
					db := e.open(b, bd, pgtest.DSN(b), true, mode.opts...)
					db.SetMaxOpenConns(1)
					ctxs := make([]context.Context, len(pattern.ids))
					for i, id := range pattern.ids {
						ctxs[i] = tenantpath.WithTenant(context.Background(), id)
						mustRead(b, ctxs[i], db, id)
					}
					b.ResetTimer()
					for i := 0; b.Loop(); i++ {
						ctx := ctxs[i%len(ctxs)]
						if _, err := readTenant(ctx, db); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
