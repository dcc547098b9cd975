package tenantotel_test

import (
	"testing"

	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
