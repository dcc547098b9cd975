package tenantpath_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/tptest"
)

// StatsOf counts what the driver did, and WithLogger logs it with the
// tenant on every record.
func TestStatsAndLogs(t *testing.T) {
	tptest.ForEachDriver(t, func(t *testing.T, bd tptest.Driver) {
		e := tptest.NewEnv(t, "10", "11")
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		db := e.Open(bd, tenantpath.WithLogger(logger))
		db.SetMaxOpenConns(1)
		bg := context.Background()
		ten, eleven := tenantpath.WithTenant(bg, "10"), tenantpath.WithTenant(bg, "11")
		tptest.MustRead(t, ten, db, "10")    // switch
		tptest.MustRead(t, ten, db, "10")    // reuse
		tptest.MustRead(t, eleven, db, "11") // switch
		tptest.ReadTenant(tenantpath.WithTenant(bg, "99"), db)
		tptest.ReadTenant(tenantpath.WithTenant(bg, "Bad"), db)
		tptest.ReadTenant(bg, db)
		tx, err := db.BeginTx(ten, nil) // switch
		if err != nil {
			t.Fatal(err)
		}
		tptest.ReadTenant(eleven, tx) // refused inside the transaction
		tx.Rollback()
		if _, err := db.ExecContext(ten, "SET search_path TO public"); err != nil { // puts the path in doubt
			t.Fatal(err)
		}
		tptest.MustRead(t, ten, db, "10") // switch

		st, ok := tenantpath.StatsOf(db)
		if !ok {
			t.Fatal("StatsOf: not a tenantpath *sql.DB")
		}
		want := tenantpath.Stats{Reuses: st.Reuses, Switches: 4, UnknownTenants: 1, InvalidTenants: 1,
			NoTenant: 1, Mismatches: 1, PathsInDoubt: 1, Carried: st.Carried}
		if bd.Name == tptest.PGXWire.Name {
			want.Carried = want.Switches
		}
		if st != want || st.Reuses < 2 {
			t.Fatalf("Stats = %+v, want %+v with at least 2 reuses", st, want)
		}
		for _, line := range []string{
			`msg="tenantpath: switch" carried=`, `msg="tenantpath: unknown tenant" tenant=99`,
			`msg="tenantpath: invalid tenant"`, `tenant=Bad`, `msg="tenantpath: call without a tenant refused" scope="no tenant"`,
			`msg="tenantpath: call refused inside a transaction"`, `msg="tenantpath: path in doubt" cause="the caller's SQL" tenant=10`,
		} {
			if !strings.Contains(logs.String(), line) {
				t.Errorf("the log lacks %q:\n%s", line, logs.String())
			}
		}
		if _, ok := tenantpath.StatsOf(e.Admin); ok {
			t.Fatal("StatsOf answered for a plain *sql.DB")
		}
	})
}
