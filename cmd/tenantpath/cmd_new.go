package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// migrationName is what `new` accepts as NAME: it becomes part of a file
// name that both formats must parse back, so no dots, slashes or spaces.
var migrationName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$`)

// versionedFile matches both formats' file names: version, name, and
// ".up" or ".down" for golang-migrate pairs.
var versionedFile = regexp.MustCompile(`^([0-9]+)_(.+?)(\.up|\.down)?\.sql$`)

// timestampLayout is the version of timestamp-numbered migrations (goose's
// and golang-migrate's -format 20060102150405).
const timestampLayout = "20060102150405"

// layout is how a folder numbers and writes its migrations.
type layout struct {
	goose     bool  // one file with -- +goose Up/Down sections; else an .up.sql/.down.sql pair
	timestamp bool  // versions are UTC times (timestampLayout); else sequence numbers
	width     int   // digits of a sequence number, zero-padded
	latest    int64 // highest version in the folder, 0 if none
	found     bool  // the folder has migrations
}

// readLayout reads the layout of the migrations in dir (missing: none).
func readLayout(dir string) (layout, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return layout{}, err
	}
	l := layout{width: 4}
	for _, e := range entries {
		m := versionedFile.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || (l.found && v < l.latest) {
			continue
		}
		_, tsErr := time.Parse(timestampLayout, m[1])
		l = layout{goose: m[3] == "", timestamp: tsErr == nil, width: len(m[1]), latest: v, found: true}
	}
	return l, nil
}

// nextVersion is the version of a new migration: the next sequence number,
// or the current UTC time (kept above the latest).
func (l layout) nextVersion(now time.Time) string {
	if l.timestamp {
		next := now.UTC().Truncate(time.Second)
		latest, err := time.Parse(timestampLayout, strconv.FormatInt(l.latest, 10))
		if err == nil && !next.After(latest) {
			next = latest.Add(time.Second)
		}
		return next.Format(timestampLayout)
	}
	return fmt.Sprintf("%0*d", l.width, l.latest+1)
}

type newFile struct{ name, data string }

// files returns the new migration's files, up first.
func (l layout) files(version, name string) []newFile {
	base := version + "_" + name
	if l.goose {
		return []newFile{{base + ".sql", "-- +goose Up\n-- SQL that applies the migration.\n\n-- +goose Down\n-- SQL that undoes it.\n"}}
	}
	return []newFile{
		{base + ".up.sql", "-- SQL that applies the migration.\n"},
		{base + ".down.sql", "-- SQL that undoes it.\n"},
	}
}

func newShared(_ context.Context, a *app, args []string) (int, error) {
	return exitCode(a.newMigration(a.o.sharedDir, a.o.tenantDir, args[0]))
}

func newTenant(_ context.Context, a *app, args []string) (int, error) {
	return exitCode(a.newMigration(a.o.tenantDir, a.o.sharedDir, args[0]))
}

// newMigration writes the next migration of folder dir in the format and
// numbering it already uses; an empty folder follows the other folder, and
// with no migrations at all it starts at 0001 with golang-migrate pairs.
func (a *app) newMigration(dir, other, name string) error {
	if !migrationName.MatchString(name) {
		return usageError{fmt.Sprintf("migration name %q: use letters, digits, _ and - (at most 100), e.g. add_users_email", name)}
	}
	folder := filepath.Join(a.o.dir, dir)
	l, err := readLayout(folder)
	if err != nil {
		return err
	}
	if !l.found {
		ol, err := readLayout(filepath.Join(a.o.dir, other))
		if err != nil {
			return err
		}
		l.goose, l.timestamp, l.width = ol.goose, ol.timestamp, ol.width
	}
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return err
	}
	var written []string
	for _, f := range l.files(l.nextVersion(time.Now()), name) {
		path := filepath.Join(folder, f.name)
		if err := writeNew(path, f.data); err != nil {
			for _, w := range written { // no half pair left behind
				os.Remove(w)
			}
			return err
		}
		written = append(written, path)
	}
	if a.o.json {
		return json.NewEncoder(a.stdout).Encode(map[string][]string{"files": written})
	}
	fmt.Fprintln(a.stdout, strings.Join(written, "\n"))
	return nil
}

// writeNew creates path, refusing to overwrite a file that exists.
func writeNew(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
