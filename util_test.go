package tenantpath_test

import (
	"database/sql/driver"

	"github.com/jackc/pgx/v5/stdlib"
)

func stdlibDriver() driver.Driver { return stdlib.GetDefaultDriver() }
