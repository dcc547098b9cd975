package migrator

import (
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

// pair is one golang-migrate migration while its folder is read.
type pair struct {
	version  int64
	name     string
	up, down string // file paths
}

// readSet reads the migrations of one set from dir in fsys. found is false
// when dir does not exist (and then there is no error: the caller decides
// whether a missing folder is one).
func readSet(fsys fs.FS, dir string) (ms []*migration, found bool, err error) {
	entries, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("migrator: reading %s: %w", dir, err)
	}
	pairs := make(map[int64]*pair)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		file := path.Join(dir, e.Name())
		if m := migrateName.FindStringSubmatch(e.Name()); m != nil {
			if err := addToPair(pairs, file, m); err != nil {
				return nil, true, err
			}
			continue
		}
		mig, err := readGoose(fsys, file, e.Name())
		if err != nil {
			return nil, true, err
		}
		ms = append(ms, mig)
	}
	for _, p := range pairs {
		mig, err := readPair(fsys, p)
		if err != nil {
			return nil, true, err
		}
		ms = append(ms, mig)
	}
	return ms, true, nil
}

// addToPair records a golang-migrate file (m is its name's match).
func addToPair(pairs map[int64]*pair, file string, m []string) error {
	v, err := parseVersion(file, m[1])
	if err != nil {
		return err
	}
	p := pairs[v]
	if p == nil {
		p = &pair{version: v, name: m[2]}
		pairs[v] = p
	} else if p.name != m[2] {
		return &ParseError{File: file, Reason: fmt.Sprintf("version %d is named both %q and %q", v, p.name, m[2])}
	}
	if m[3] == "up" {
		p.up = file
	} else {
		p.down = file
	}
	return nil
}

// readPair reads the files of a golang-migrate migration.
func readPair(fsys fs.FS, p *pair) (*migration, error) {
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
	if err := checkAnnotations(p.up, mig.upSQL); err != nil {
		return nil, err
	}
	if err := refuseTxControl(p.up, mig.upSQL, nil); err != nil {
		return nil, err
	}
	if p.down != "" {
		down, err := fs.ReadFile(fsys, p.down)
		if err != nil {
			return nil, fmt.Errorf("migrator: %w", err)
		}
		mig.downSQL = string(down)
		mig.HasDown = true
		if err := refuseTxControl(p.down, mig.downSQL, nil); err != nil {
			return nil, err
		}
	}
	return mig, nil
}

// readGoose reads a goose-style file (or refuses a name in neither format).
func readGoose(fsys fs.FS, file, name string) (*migration, error) {
	m := gooseName.FindStringSubmatch(name)
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
	return mig, nil
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

// refuseTxControl refuses SQL that begins or ends a transaction itself. A
// transactional migration runs in a transaction with its version row: a
// COMMIT in it would commit half a migration without its row, and a Create
// failing after it would leave a half-built schema. A non-transactional one
// runs each statement on its own: a BEGIN would leave the pinned connection
// in a transaction the migrator does not know of. lines maps the SQL's
// lines to the file's (nil: they are the file's own).
func refuseTxControl(file, sql string, lines []int) error {
	words, at, found := txControl(sql)
	if !found {
		return nil
	}
	line := lineOf(sql, at)
	if lines != nil {
		line = lines[line-1]
	}
	return &ParseError{File: file, Line: line, Reason: fmt.Sprintf(
		"%s: a migration must not begin or end transactions; the migrator runs each one in a transaction "+
			"with its version row (or, non-transactional, each statement on its own)", words)}
}
