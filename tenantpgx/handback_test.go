package tenantpgx_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// DESIGN 6: a connection that tenantpath hands back to a pool beneath it
// (pgxpool through stdlib.GetPoolConnector) is back on its base path, so
// the pool's other users never run on a tenant's path.
func TestPoolConnectorGetsItsBasePathBack(t *testing.T) {
	e := tptest.NewEnv(t, "10")
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // the routed connection is the one direct calls get next
	cfg.ConnConfig.RuntimeParams["search_path"] = e.Prefix + "shared"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db, err := tenantpath.OpenDB(stdlib.GetPoolConnector(pool), tenantpath.WithNaming(e.Naming))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxIdleConns(0) // as stdlib.OpenDBFromPool does: every connection goes back to pgxpool after use
	bg := context.Background()
	for range 3 {
		tptest.MustRead(t, tenantpath.WithTenant(bg, "10"), db, "10")
		var got sql.NullString
		if err := pool.QueryRow(bg, tptest.TenantsSeen).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got.String != "shared" {
			t.Fatalf("a direct pgxpool call after a routed one read %q, want the base path's %q", got.String, "shared")
		}
	}
}
