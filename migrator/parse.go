package migrator

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// File formats, by name:
//
//	0001_create_users.up.sql, 0001_create_users.down.sql   golang-migrate style
//	0001_create_users.sql with -- +goose Up / -- +goose Down  goose style
//
// Any other *.sql file is an error; other files (README.md, *.go) are
// ignored. A migration is non-transactional when it contains the line
// "-- +goose NO TRANSACTION" (either format) or "-- tenantpath:no-transaction".
var (
	migrateName = regexp.MustCompile(`^([0-9]+)_(.+)\.(up|down)\.sql$`)
	gooseName   = regexp.MustCompile(`^([0-9]+)_(.+)\.sql$`)
)

const noTxMarker = "-- tenantpath:no-transaction"

// readSet reads the migrations of one set from dir in fsys. A missing dir
// yields no migrations when missingOK.
func readSet(fsys fs.FS, dir string, missingOK bool) ([]*migration, error) {
	if fsys == nil || dir == "" {
		return nil, nil
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		if missingOK && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("migrator: reading %s: %w", dir, err)
	}
	type pair struct {
		version  int64
		name     string
		up, down string // file paths
	}
	pairs := make(map[int64]*pair)
	var out []*migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		file := path.Join(dir, e.Name())
		if m := migrateName.FindStringSubmatch(e.Name()); m != nil {
			v, err := parseVersion(file, m[1])
			if err != nil {
				return nil, err
			}
			p := pairs[v]
			if p == nil {
				p = &pair{version: v, name: m[2]}
				pairs[v] = p
			} else if p.name != m[2] {
				return nil, &ParseError{File: file, Reason: fmt.Sprintf("version %d is named both %q and %q", v, p.name, m[2])}
			}
			if m[3] == "up" {
				p.up = file
			} else {
				p.down = file
			}
			continue
		}
		m := gooseName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, &ParseError{File: file, Reason: "name must be NNNN_name.sql (goose) or NNNN_name.up.sql / NNNN_name.down.sql"}
		}
		v, err := parseVersion(file, m[1])
		if err != nil {
			return nil, err
		}
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("migrator: %w", err)
		}
		mig, err := parseGoose(file, string(data))
		if err != nil {
			return nil, err
		}
		mig.Version, mig.Name, mig.Source = v, m[2], file
		out = append(out, mig)
	}
	for _, p := range pairs {
		if p.up == "" {
			return nil, &ParseError{File: p.down, Reason: "down migration without an up migration"}
		}
		up, err := fs.ReadFile(fsys, p.up)
		if err != nil {
			return nil, fmt.Errorf("migrator: %w", err)
		}
		mig := &migration{upSQL: string(up)}
		mig.Version, mig.Name, mig.Source = p.version, p.name, p.up
		mig.Checksum = checksum(mig.upSQL)
		mig.NoTx = hasMarker(mig.upSQL)
		if p.down != "" {
			down, err := fs.ReadFile(fsys, p.down)
			if err != nil {
				return nil, fmt.Errorf("migrator: %w", err)
			}
			mig.downSQL = string(down)
			mig.HasDown = true
		}
		if err := checkAnnotations(p.up, mig.upSQL); err != nil {
			return nil, err
		}
		out = append(out, mig)
	}
	return out, nil
}

func parseVersion(file, digits string) (int64, error) {
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || v <= 0 {
		return 0, &ParseError{File: file, Reason: fmt.Sprintf("version %q must be a positive 64-bit number", digits)}
	}
	return v, nil
}

func hasMarker(sql string) bool {
	for _, line := range strings.Split(sql, "\n") {
		l := strings.TrimSpace(line)
		if l == noTxMarker || l == "-- +goose NO TRANSACTION" {
			return true
		}
	}
	return false
}

// checkAnnotations refuses goose annotations in a golang-migrate file other
// than NO TRANSACTION: a file that mixes the formats is a mistake.
func checkAnnotations(file, sql string) error {
	for i, line := range strings.Split(sql, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "-- +goose") && l != "-- +goose NO TRANSACTION" {
			return &ParseError{File: file, Line: i + 1, Reason: fmt.Sprintf("goose annotation %q in a .up.sql/.down.sql file", l)}
		}
	}
	return nil
}

// parseGoose reads a goose-style file: an optional header, then
// "-- +goose Up" and optionally "-- +goose Down" sections.
// StatementBegin/StatementEnd are accepted; statements are split by the
// SQL-aware splitter anyway, so they change nothing.
func parseGoose(file, data string) (*migration, error) {
	const (
		header = iota
		up
		down
	)
	state := header
	var upB, downB strings.Builder
	noTx := false
	sawUp, sawDown := false, false
	sqlBefore := 0 // first line of SQL before the Up section
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if strings.HasPrefix(trimmed, "-- +goose") {
			switch strings.TrimSpace(strings.TrimPrefix(trimmed, "-- +goose")) {
			case "Up":
				if sawUp {
					return nil, &ParseError{File: file, Line: line, Reason: "second -- +goose Up"}
				}
				if sawDown {
					return nil, &ParseError{File: file, Line: line, Reason: "-- +goose Up after -- +goose Down"}
				}
				sawUp, state = true, up
				continue
			case "Down":
				if !sawUp {
					return nil, &ParseError{File: file, Line: line, Reason: "-- +goose Down before -- +goose Up"}
				}
				if sawDown {
					return nil, &ParseError{File: file, Line: line, Reason: "second -- +goose Down"}
				}
				sawDown, state = true, down
				continue
			case "NO TRANSACTION":
				noTx = true
				continue
			case "StatementBegin", "StatementEnd":
				// fall through: kept as a comment
			default:
				return nil, &ParseError{File: file, Line: line, Reason: fmt.Sprintf("unsupported annotation %q", trimmed)}
			}
		}
		if trimmed == noTxMarker {
			noTx = true
		}
		switch state {
		case up:
			upB.WriteString(text)
			upB.WriteByte('\n')
		case down:
			downB.WriteString(text)
			downB.WriteByte('\n')
		default:
			if trimmed != "" && !strings.HasPrefix(trimmed, "--") && sqlBefore == 0 {
				sqlBefore = line
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: file, Reason: err.Error()}
	}
	if !sawUp {
		return nil, &ParseError{File: file, Reason: "no -- +goose Up section (a .sql file without .up/.down must be goose style)"}
	}
	if sqlBefore > 0 {
		return nil, &ParseError{File: file, Line: sqlBefore, Reason: "SQL before -- +goose Up"}
	}
	m := &migration{upSQL: upB.String(), downSQL: downB.String()}
	m.NoTx = noTx
	m.HasDown = sawDown && len(splitStatements(m.downSQL)) > 0
	m.Checksum = checksum(m.upSQL)
	return m, nil
}
