package pgtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// facts are what the tests may need to know about their server, asked once
// per test binary (after the first successful query).
type facts struct {
	major     int    // 15, 18, ...
	loginRole string // session_user of a connection made with the DSN
}

var known struct {
	mu    sync.Mutex
	facts *facts
}

// ServerVersion returns the major version (15, 18, ...) of the server the
// tests use: the ephemeral one, started on first use, or the one named by
// TENANTPATH_TEST_DSN. Tests of behaviour that only some versions have (for
// example the search_path report PostgreSQL 18 sends) branch on it. It
// fails t if there is no server or it cannot be asked.
func ServerVersion(t testing.TB) int {
	t.Helper()
	return serverFacts(t).major
}

// LoginRole returns the role the tests' DSN logs in as: [User] on the
// ephemeral server, and whatever TENANTPATH_TEST_DSN logs in as otherwise
// (postgres, say). Tests that check which role a call runs as compare with
// it rather than with User. It fails t if there is no server or it cannot be
// asked.
func LoginRole(t testing.TB) string {
	t.Helper()
	return serverFacts(t).loginRole
}

func serverFacts(t testing.TB) *facts {
	t.Helper()
	dsn := DSN(t)
	known.mu.Lock()
	defer known.mu.Unlock()
	if known.facts == nil {
		f, err := askServer(dsn)
		if err != nil {
			t.Fatalf("pgtest: asking the server its version and login role: %v", err)
		}
		known.facts = f
	}
	return known.facts
}

// askServer connects to dsn and reads server_version_num (e.g. 180004 for
// 18.4) and session_user.
func askServer(dsn string) (*facts, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var num int
	var f facts
	err = conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int, session_user::text").Scan(&num, &f.loginRole)
	if err != nil {
		return nil, err
	}
	if num < 100000 {
		return nil, fmt.Errorf("server_version_num %d: PostgreSQL before 10 is not supported", num)
	}
	f.major = num / 10000
	return &f, nil
}
