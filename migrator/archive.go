package migrator

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// A tenant archive is one gzip stream of text (docs/fleet.md describes it
// for readers in other languages):
//
//	tenantpath-archive 1              the format and its version
//	{"format": …, "tables": […], …}   the header: one JSON line
//	<COPY text data of table 1>       as COPY … TO STDOUT writes it
//	\.                                its end, as in psql
//	…                                 every table of the header, in order
//	{"rows": […], "sequences": […]}   the trailer: one JSON line
//
// COPY's text format escapes backslashes and line breaks inside values, so
// a line holding only \. can only end a table's data. The row counts and
// the sequences come last because they are only known once the data is
// written: the counts let the reader check it loaded every row, and the
// sequences are read after the data, so their values are at least those
// the rows hold.

const (
	archiveMagic   = "tenantpath-archive"
	archiveVersion = 1
	endOfData      = `\.`
)

// archiveSettings are set (for the transaction) on both sides of a COPY, so
// values are written and read back the same whatever the sessions'
// defaults: dates in ISO order, intervals in PostgreSQL's own style, floats
// with every digit, bytea in hex.
var archiveSettings = [][2]string{
	{"DateStyle", "ISO, MDY"},
	{"IntervalStyle", "postgres"},
	{"extra_float_digits", "3"},
	{"bytea_output", "hex"},
}

type archiveHeader struct {
	Format        string             `json:"format"`
	FormatVersion int                `json:"format_version"`
	Tenant        string             `json:"tenant"`
	Schema        string             `json:"schema"`
	Version       int64              `json:"version"`
	Migrations    []archiveMigration `json:"migrations"`
	Tables        []archiveTable     `json:"tables"`
	Settings      map[string]string  `json:"settings"`
	ServerVersion string             `json:"server_version"`
	ExportedAt    time.Time          `json:"exported_at"`
}

type archiveMigration struct {
	Version  int64  `json:"version"`
	Name     string `json:"name"`
	Checksum string `json:"checksum"`
}

type archiveTable struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"` // in COPY order; generated columns are left out
	Types   []string `json:"types"`   // format_type of each column, for readers
}

type archiveTrailer struct {
	Rows      []int64           `json:"rows"` // one count per table of the header
	Sequences []archiveSequence `json:"sequences"`
}

type archiveSequence struct {
	Name      string `json:"name"`
	LastValue int64  `json:"last_value"`
	IsCalled  bool   `json:"is_called"`
}

// ArchiveInfo describes a tenant archive: what [Migrator.Export] wrote or
// [Migrator.Import] loaded.
type ArchiveInfo struct {
	Tenant     string // the tenant it was exported from
	Schema     string // that tenant's schema at the source
	Version    int64  // its migration version
	Tables     []TableRows
	Sequences  int
	ExportedAt time.Time
}

// TableRows is one table of an archive and its row count.
type TableRows struct {
	Table string
	Rows  int64
}

func (h *archiveHeader) info(tr *archiveTrailer) ArchiveInfo {
	info := ArchiveInfo{Tenant: h.Tenant, Schema: h.Schema, Version: h.Version, ExportedAt: h.ExportedAt}
	for i, t := range h.Tables {
		row := TableRows{Table: t.Name}
		if tr != nil && i < len(tr.Rows) {
			row.Rows = tr.Rows[i]
		}
		info.Tables = append(info.Tables, row)
	}
	if tr != nil {
		info.Sequences = len(tr.Sequences)
	}
	return info
}

// archiveWriter writes an archive's parts in order.
type archiveWriter struct {
	gz *gzip.Writer
}

// newArchiveWriter compresses for speed (gzip level 1): an export is
// usually bound by the compressor, and level 1 keeps most of the gain on
// text while taking a fraction of the default level's time.
func newArchiveWriter(w io.Writer) *archiveWriter {
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
	return &archiveWriter{gz: gz}
}

func (a *archiveWriter) header(h *archiveHeader) error {
	if _, err := fmt.Fprintf(a.gz, "%s %d\n", archiveMagic, archiveVersion); err != nil {
		return err
	}
	return a.jsonLine(h)
}

// data is where a table's COPY data goes; endData closes it.
func (a *archiveWriter) data() io.Writer { return a.gz }

func (a *archiveWriter) endData() error {
	_, err := io.WriteString(a.gz, endOfData+"\n")
	return err
}

// trailer writes the trailer and ends the stream.
func (a *archiveWriter) trailer(t *archiveTrailer) error {
	if err := a.jsonLine(t); err != nil {
		return err
	}
	return a.gz.Close()
}

func (a *archiveWriter) jsonLine(v any) error {
	b, err := json.Marshal(v) // escapes line breaks: one line
	if err != nil {
		return err
	}
	_, err = a.gz.Write(append(b, '\n'))
	return err
}

// archiveReader reads an archive's parts in order.
type archiveReader struct {
	r      *bufio.Reader
	header archiveHeader
	next   int // the next table to read
}

// openArchive reads the format line and the header.
func openArchive(r io.Reader) (*archiveReader, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, &ArchiveError{Reason: "not a tenant archive (not a gzip stream): " + err.Error()}
	}
	a := &archiveReader{r: bufio.NewReaderSize(gz, 64<<10)}
	first, err := a.line()
	if err != nil {
		return nil, err
	}
	var magic string
	var version int
	if n, _ := fmt.Sscanf(string(first), "%s %d", &magic, &version); n != 2 || magic != archiveMagic {
		return nil, &ArchiveError{Reason: fmt.Sprintf("not a tenant archive (it begins %.40q)", first)}
	}
	if version != archiveVersion {
		return nil, &ArchiveError{Reason: fmt.Sprintf("format version %d; this build reads version %d", version, archiveVersion)}
	}
	if err := a.jsonLine(&a.header, "header"); err != nil {
		return nil, err
	}
	if a.header.Format != archiveMagic || a.header.FormatVersion != archiveVersion {
		return nil, &ArchiveError{Reason: "the header does not match the format line"}
	}
	return a, nil
}

// line reads one line, without its line break.
func (a *archiveReader) line() ([]byte, error) {
	b, err := a.r.ReadBytes('\n')
	if err != nil {
		return nil, truncated(err)
	}
	return b[:len(b)-1], nil
}

func (a *archiveReader) jsonLine(v any, what string) error {
	b, err := a.line()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &ArchiveError{Reason: fmt.Sprintf("unreadable %s: %v", what, err)}
	}
	return nil
}

// table returns the reader of the next table's COPY data, which ends (EOF)
// at its \. line.
func (a *archiveReader) table() (archiveTable, *copySection) {
	t := a.header.Tables[a.next]
	a.next++
	return t, &copySection{r: a.r, atStart: true}
}

// trailer reads the trailer and checks that nothing follows it and that
// the stream is whole (gzip checks its length and CRC at the end).
func (a *archiveReader) trailer() (*archiveTrailer, error) {
	var t archiveTrailer
	if err := a.jsonLine(&t, "trailer"); err != nil {
		return nil, err
	}
	if len(t.Rows) != len(a.header.Tables) {
		return nil, &ArchiveError{Reason: fmt.Sprintf("the trailer counts %d tables, the header lists %d", len(t.Rows), len(a.header.Tables))}
	}
	if _, err := a.r.ReadByte(); err != io.EOF {
		if err == nil {
			return nil, &ArchiveError{Reason: "data after the trailer"}
		}
		return nil, truncated(err)
	}
	return &t, nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &ArchiveError{Reason: "truncated"}
	}
	var ae *ArchiveError
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("migrator: reading the archive: %w", err)
}

// copySection yields one table's COPY data, line by line as it arrives
// (lines of any length: a multi-megabyte value is passed on in pieces), up
// to its \. line.
type copySection struct {
	r       *bufio.Reader
	atStart bool   // the next byte starts a line
	pending []byte // read but not yet passed on
	done    bool
	err     error // why the archive could not be read, kept for the caller
}

func (s *copySection) Read(p []byte) (int, error) {
	for len(s.pending) == 0 {
		if s.done {
			return 0, io.EOF
		}
		chunk, err := s.r.ReadSlice('\n')
		if s.atStart && bytes.Equal(chunk, []byte(endOfData+"\n")) {
			s.done = true
			return 0, io.EOF
		}
		switch {
		case err == nil:
			s.atStart = true
		case errors.Is(err, bufio.ErrBufferFull):
			s.atStart = false
		default:
			// COPY FROM reports a reader's error as its own (57014):
			// keep ours, so the caller can return it as it is.
			s.err = truncated(err)
			return 0, s.err
		}
		s.pending = chunk
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}
