package tenantpgx_test

import (
	"context"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/tenantpgx"
)

func ExampleGetConnector() {
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	db, err := tenantpath.OpenDB(tenantpgx.GetConnector(*cfg),
		tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	ctx := tenantpath.WithTenant(context.Background(), "10")
	// One round trip: the switch to org_10 travels with the INSERT.
	db.ExecContext(ctx, "INSERT INTO notes (title) VALUES ($1)", "hello")
}

func ExampleConfigure() {
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	if err := tenantpgx.Configure(cfg, tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"})); err != nil {
		panic(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	ctx := tenantpath.WithTenant(context.Background(), "10")
	var n int
	pool.QueryRow(ctx, "SELECT count(*) FROM notes").Scan(&n) // org_10.notes
}
