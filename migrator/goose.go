package migrator

import (
	"bufio"
	"fmt"
	"strings"
)

// gooseSection is one section of a goose file being read: its SQL and, for
// each of its lines, the line of the file it came from.
type gooseSection struct {
	sql   strings.Builder
	lines []int
}

func (s *gooseSection) add(text string, line int) {
	s.sql.WriteString(text)
	s.sql.WriteByte('\n')
	s.lines = append(s.lines, line)
}

// gooseReader is the state of parseGoose.
type gooseReader struct {
	file           string
	up, down       gooseSection
	cur            *gooseSection // nil in the header
	sawUp, sawDown bool
	noTx           bool
	sqlBefore      int // first line of SQL before the Up section
}

// parseGoose reads a goose-style file: an optional header, then
// "-- +goose Up" and optionally "-- +goose Down" sections.
// StatementBegin/StatementEnd are accepted and kept as comments; statements
// are split by the SQL-aware splitter anyway, so they change nothing.
func parseGoose(file, data string) (*migration, error) {
	r := &gooseReader{file: file}
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for line := 1; sc.Scan(); line++ {
		if err := r.line(sc.Text(), line); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: file, Reason: err.Error()}
	}
	if !r.sawUp {
		return nil, &ParseError{File: file, Reason: "no -- +goose Up section (a .sql file without .up/.down must be goose style)"}
	}
	if r.sqlBefore > 0 {
		return nil, &ParseError{File: file, Line: r.sqlBefore, Reason: "SQL before -- +goose Up"}
	}
	m := &migration{upSQL: r.up.sql.String(), downSQL: r.down.sql.String()}
	if err := refuseTxControl(file, m.upSQL, r.up.lines); err != nil {
		return nil, err
	}
	if err := refuseTxControl(file, m.downSQL, r.down.lines); err != nil {
		return nil, err
	}
	m.NoTx = r.noTx
	m.HasDown = r.sawDown && len(statements(m.downSQL)) > 0
	m.Checksum = checksum(m.upSQL)
	return m, nil
}

// line takes one line of the file.
func (r *gooseReader) line(text string, line int) error {
	trimmed := strings.TrimSpace(text)
	if annotation, ok := strings.CutPrefix(trimmed, "-- +goose"); ok {
		done, err := r.annotation(strings.TrimSpace(annotation), trimmed, line)
		if done || err != nil {
			return err
		}
	}
	if trimmed == noTxMarker {
		r.noTx = true
	}
	switch {
	case r.cur != nil:
		r.cur.add(text, line)
	case trimmed != "" && !strings.HasPrefix(trimmed, "--") && r.sqlBefore == 0:
		r.sqlBefore = line
	}
	return nil
}

// annotation takes a "-- +goose" line; done is false for annotations kept
// in the section's SQL as comments.
func (r *gooseReader) annotation(name, trimmed string, line int) (done bool, err error) {
	fail := func(reason string) (bool, error) {
		return true, &ParseError{File: r.file, Line: line, Reason: reason}
	}
	switch name {
	case "Up":
		if r.sawUp {
			return fail("second -- +goose Up")
		}
		if r.sawDown {
			return fail("-- +goose Up after -- +goose Down")
		}
		r.sawUp, r.cur = true, &r.up
	case "Down":
		if !r.sawUp {
			return fail("-- +goose Down before -- +goose Up")
		}
		if r.sawDown {
			return fail("second -- +goose Down")
		}
		r.sawDown, r.cur = true, &r.down
	case "NO TRANSACTION":
		r.noTx = true
	case "StatementBegin", "StatementEnd":
		return false, nil
	default:
		return fail(fmt.Sprintf("unsupported annotation %q", trimmed))
	}
	return true, nil
}
