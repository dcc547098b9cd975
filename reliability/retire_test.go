package reliability_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// With MaxTenantsPerConn(n), no server backend ever serves more than n
// distinct tenants: a connection that reaches the limit is retired when it
// goes back to the pool, and a fresh one takes its place. Reads stay right
// throughout.
func TestMaxTenantsPerConnRetires(t *testing.T) {
	const limit = 3
	ids := tptest.TenantIDs(12)
	e := tptest.NewEnv(t, ids...)
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		rec := &tptest.Recorder{Connector: bd.Connector(t, pgtest.DSN(t), false)}
		db := tptest.OpenWrapped(t, rec, tenantpath.WithNaming(e.Naming), tenantpath.MaxTenantsPerConn(limit))
		db.SetMaxOpenConns(2)
		db.SetMaxIdleConns(2)
		rng := rand.New(rand.NewPCG(3, 4))
		served := make(map[string]map[string]bool) // backend (pid and start time) -> tenants
		var c tptest.Counter
		for range 150 {
			id := ids[rng.IntN(len(ids))]
			c.Ops.Add(1)
			var got string
			var pid string
			err := db.QueryRowContext(tenantpath.WithTenant(context.Background(), id),
				`SELECT string_agg(DISTINCT tenant, ','),
				        (SELECT pid || ' ' || backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
				   FROM notes`).Scan(&got, &pid)
			if err != nil {
				t.Fatal(err)
			}
			c.Reads.Add(1)
			if got != id {
				c.Leaks.Add(1)
				t.Errorf("LEAK: tenant %q read rows of %q", id, got)
			}
			if served[pid] == nil {
				served[pid] = make(map[string]bool)
			}
			served[pid][id] = true
		}
		most := 0
		for pid, tenants := range served {
			if len(tenants) > limit {
				t.Errorf("backend %s served %d tenants, limit %d", pid, len(tenants), limit)
			}
			most = max(most, len(tenants))
		}
		t.Logf("%s; %d backends used (%d connections opened), at most %d tenants on one",
			c.Summary("MaxTenantsPerConn(3), "+bd.Name), len(served), rec.Connects(), most)
		if len(served) < 150/limit/4 {
			t.Fatalf("only %d backends for 150 reads over %d tenants: connections were not retired", len(served), len(ids))
		}
	})
}
