package tenantpath_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/tenantpath/tenantpath"
)

func ExampleNaming() {
	n := tenantpath.Naming{Prefix: "org_", Shared: []string{"public", "extensions"}}
	schema, _ := n.Schema("10")
	path, _ := n.SearchPath("10")
	fmt.Println(schema)
	fmt.Println(path)
	_, err := n.Schema("Acme")
	fmt.Println(errors.Is(err, tenantpath.ErrInvalidTenant), err)
	// Output:
	// org_10
	// "org_10", "public", "extensions", "pg_temp"
	// true tenantpath: invalid tenant "Acme" (schema "org_Acme"): byte 4 ('A') is not allowed: use lowercase ASCII letters, digits, '_' or '-'
}

func ExampleWithTenant() {
	ctx := tenantpath.WithTenant(context.Background(), "10")
	id, ok := tenantpath.TenantFrom(ctx)
	fmt.Println(id, ok)
	admin := tenantpath.WithShared(ctx)
	_, ok = tenantpath.TenantFrom(admin)
	fmt.Println(ok, tenantpath.IsShared(admin))
	// Output:
	// 10 true
	// false true
}

func ExampleOpenDB() {
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	db, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg),
		tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
	if err != nil {
		panic(err)
	}
	defer db.Close()

	ctx := tenantpath.WithTenant(context.Background(), "10")
	var n int
	// Runs with search_path "org_10", "public".
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil {
		panic(err)
	}
}

func ExampleOpenDB_libpq() {
	base, err := pq.NewConnector(os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	db, err := tenantpath.OpenDB(base, tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	_, err = db.ExecContext(tenantpath.WithTenant(context.Background(), "11"),
		"INSERT INTO notes (title) VALUES ($1)", "hello")
	if errors.Is(err, tenantpath.ErrUnknownTenant) {
		fmt.Println("no such organisation")
	}
}

func ExampleWrap() {
	d, err := tenantpath.Wrap(stdlib.GetDefaultDriver(), tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
	if err != nil {
		panic(err)
	}
	sql.Register("tenantpath-example", d)
	db, err := sql.Open("tenantpath-example", os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
}
