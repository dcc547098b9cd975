package tenantpath_test

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantpath/tenantpath"
)

func ExamplePool() {
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	// tenantpath owns up to 16 server connections; OpenDB turns
	// database/sql's own idle pool off so that every checkout asks it.
	db, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg),
		tenantpath.WithNaming(tenantpath.Naming{Prefix: "org_"}),
		tenantpath.Pool(16),
		tenantpath.PoolMaxLifetime(time.Hour))
	if err != nil {
		panic(err)
	}
	defer db.Close()

	http.HandleFunc("/notes", func(w http.ResponseWriter, r *http.Request) {
		// One context for the whole request (net/http cancels it when the
		// handler returns): its statements stay on one connection.
		ctx := tenantpath.WithTenant(r.Context(), r.Header.Get("X-Tenant-ID"))
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil {
			http.Error(w, "unavailable", http.StatusInternalServerError)
			return
		}
		db.ExecContext(ctx, "UPDATE counters SET reads = reads + 1")
		fmt.Fprintln(w, n)
	})
}

func ExamplePoolStatsOf() {
	cfg, err := pgx.ParseConfig("postgres://app@127.0.0.1/app")
	if err != nil {
		panic(err)
	}
	db, err := tenantpath.OpenDB(stdlib.GetConnector(*cfg), tenantpath.Pool(8))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	st, ok := tenantpath.PoolStatsOf(db)
	fmt.Println(ok, st.Size, st.Open)
	fmt.Println(db.Stats().MaxOpenConnections) // database/sql's own limit is off: the pool's is 8
	// Output:
	// true 8 0
	// 0
}

func ExamplePool_transactionPooling() {
	cfg, err := pgx.ParseConfig("postgres://app@127.0.0.1:6432/app")
	if err != nil {
		panic(err)
	}
	_, err = tenantpath.OpenDB(stdlib.GetConnector(*cfg), tenantpath.Pool(8), tenantpath.TransactionPooling())
	fmt.Println(err)
	// Output:
	// tenantpath: Pool and TransactionPooling do not combine: behind a transaction-mode pooler a client connection is not a server session, so there is no path to keep connections on
}
