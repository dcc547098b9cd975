// Package tenantpgx connects tenantpath to pgx.
//
// # database/sql over pgx
//
// [GetConnector] replaces stdlib.GetConnector under tenantpath.OpenDB: each
// switch of search_path then travels in the same network write as the
// statement it precedes (one round trip where a switch used to cost two),
// and on PostgreSQL 18 the search_path the server reports is checked before
// every statement, which also catches functions and triggers that change it.
//
//	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
//	db, err := tenantpath.OpenDB(tenantpgx.GetConnector(*cfg),
//		tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
//
// # pgxpool
//
// [Configure] makes a pgxpool route every call by the tenant in its
// context, with tenantpath's rules, options and errors, from the same code:
//
//	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
//	err = tenantpgx.Configure(cfg, tenantpath.WithNaming(naming))
//	pool, err := pgxpool.NewWithConfig(ctx, cfg)
//	rows, err := pool.Query(tenantpath.WithTenant(ctx, "10"), "SELECT id, title FROM notes")
//
// sqlc's pgx/v5 code takes such a pool as it is. A configured pool can also
// serve database/sql through stdlib.OpenDBFromPool; its hooks route those
// calls too, so that *sql.DB is not wrapped again with tenantpath.OpenDB.
package tenantpgx
