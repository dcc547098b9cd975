package tenantotel_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
	"github.com/tenantpath/tenantpath/internal/tptest"
	tenantotel "github.com/tenantpath/tenantpath/otel"
)

// A *sql.DB that is not tenantpath's, nil arguments and an empty name are
// refused with a typed error, and nothing is registered.
func TestRegisterRefusesBadInput(t *testing.T) {
	e := tptest.NewEnv(t)
	mp, reader := newReader(t)

	_, err := tenantotel.RegisterMetrics(e.Admin, mp)
	if !errors.Is(err, tenantotel.ErrNotTenantpath) || !strings.Contains(err.Error(), "*stdlib.Driver") {
		t.Fatalf("RegisterMetrics on a plain pgx *sql.DB: %v", err)
	}
	db := e.Open(tptest.PGX)
	conn, err := tenantpath.NewConnector(tptest.PGX.Connector(t, pgtest.DSN(t), false))
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"nil *sql.DB":      func() error { _, err := tenantotel.RegisterMetrics(nil, mp); return err },
		"nil provider":     func() error { _, err := tenantotel.RegisterMetrics(db, nil); return err },
		"nil Connector":    func() error { _, err := tenantotel.RegisterConnectorMetrics(nil, mp); return err },
		"nil provider (c)": func() error { _, err := tenantotel.RegisterConnectorMetrics(conn, nil); return err },
		"empty name": func() error {
			_, err := tenantotel.RegisterMetrics(db, mp, tenantotel.WithDBName(""))
			return err
		},
	} {
		if err := call(); !errors.Is(err, tenantotel.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
	if rd := collect(t, reader); len(rd) != 0 {
		t.Fatalf("refused registrations left instruments: %s", rd.names())
	}
}
