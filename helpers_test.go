package tenantpath_test

import (
	"context"
	"testing"

	"github.com/tenantpath/tenantpath/internal/tptest"
)

func searchPath(t testing.TB, ctx context.Context, q tptest.Querier) string {
	t.Helper()
	var p string
	if err := q.QueryRowContext(ctx, "SHOW search_path").Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}
