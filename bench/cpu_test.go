package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux this runs on.
const clockTicks = 100

// cpuSnapshot is the CPU time used so far by this process (the client) and
// by the server's processes, read from /proc since the harness's server is
// on this machine. CPU per op is much less disturbed by other load on a
// shared machine than wall time per op.
type cpuSnapshot struct {
	client time.Duration
	server map[int]time.Duration // by pid; nil when /proc cannot be read
}

func snapshotCPU(ctx context.Context, admin *sql.DB) (cpuSnapshot, error) {
	var s cpuSnapshot
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, err
	}
	s.client = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	rows, err := admin.QueryContext(ctx, `SELECT pid FROM pg_stat_activity`)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	s.server = map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return s, err
		}
		d, ok := procCPU(pid)
		if !ok {
			s.server = nil // not on this machine, or not ours to read
			for rows.Next() {
			}
			break
		}
		s.server[pid] = d
	}
	return s, rows.Err()
}

// procCPU returns utime+stime of pid.
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis. utime and stime are fields 14 and 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+st) * time.Second / clockTicks, true
}

// since returns the client's and the server's CPU time used since s. The
// server's is summed over the processes present in both snapshots; ok is
// false when it could not be read.
func (s cpuSnapshot) since(later cpuSnapshot) (client, server time.Duration, ok bool) {
	client = later.client - s.client
	if s.server == nil || later.server == nil {
		return client, 0, false
	}
	for pid, d := range later.server {
		if d0, found := s.server[pid]; found {
			server += d - d0
		}
	}
	return client, server, true
}
