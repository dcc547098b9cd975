// Package tenantpgx connects tenantpath to pgx.
//
// For database/sql, [GetConnector] replaces stdlib.GetConnector under
// tenantpath.OpenDB: each switch of search_path then travels in the same
// network write as the statement it precedes (one round trip where a
// switch used to cost two), and on PostgreSQL 18 the search_path the server
// reports is checked after every statement:
//
//	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
//	db, err := tenantpath.OpenDB(tenantpgx.GetConnector(*cfg),
//		tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}))
package tenantpgx
