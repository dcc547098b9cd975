package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tenantpath/tenantpath/migrator"
)

// usageError is a command line, environment or config file that cannot be
// acted on; it exits 2 before anything is changed.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// report prints a command's error once and returns the exit code: code,
// unless the error itself calls for another.
func report(stderr io.Writer, out *printer, err error, code int) int {
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "tenantpath: %s\n", ue.msg)
		fmt.Fprintln(stderr, "Run tenantpath help for the commands, flags and environment variables.")
		return exitUsage
	}
	msg, ecode, detailed := explain(err)
	if ecode != exitOK {
		code = ecode
	}
	if code == exitOK {
		code = exitFailure
	}
	if out != nil {
		out.error(msg, err)
	}
	fmt.Fprintf(stderr, "tenantpath: %s\n", msg)
	if !detailed {
		for _, l := range pgDetails(err) {
			fmt.Fprintf(stderr, "  %s\n", l)
		}
	}
	return code
}

// explain turns an error into the line the user reads and the exit code it
// calls for (exitOK: the caller's). detailed is true when the failures
// themselves were printed with the command's output, so only a summary
// goes to stderr.
func explain(err error) (msg string, code int, detailed bool) {
	if msg, code, ok := explainMigrator(err); ok {
		return msg, code, false
	}
	var pe *migrator.PartialError
	var se *migrator.SharedError
	switch {
	case errors.As(err, &se):
		return "shared migrations failed, no tenant was migrated", exitFailure, true
	case errors.As(err, &pe):
		total := pe.Succeeded + len(pe.Failed) + len(pe.Skipped)
		msg := fmt.Sprintf("%d of %d tenants failed", len(pe.Failed), total)
		if len(pe.Skipped) > 0 {
			msg += fmt.Sprintf(", %d not run", len(pe.Skipped))
		}
		if pe.Cause != nil {
			msg += fmt.Sprintf(" (%v)", pe.Cause)
		}
		return msg, exitPartial, true
	case errors.Is(err, fs.ErrNotExist):
		return "migration folder: " + message(err), exitUsage, false
	}
	return message(err), exitOK, false
}

// message is err's text without the "tenantpath: " that the root package's
// errors begin with, since every line the command prints begins with it.
func message(err error) string {
	return strings.TrimPrefix(err.Error(), "tenantpath: ")
}

// pgDetails returns PostgreSQL's DETAIL and HINT of err, when it carries
// a server error: they often say which row or what to do, and the error's
// own text leaves them out.
func pgDetails(err error) []string {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return nil
	}
	var out []string
	if pg.Detail != "" {
		out = append(out, "DETAIL: "+pg.Detail)
	}
	if pg.Hint != "" {
		out = append(out, "HINT: "+pg.Hint)
	}
	return out
}

// errorJSON is an error in a JSON document.
type errorJSON struct {
	Error    string `json:"error,omitempty"`
	SQLState string `json:"sqlstate,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Hint     string `json:"hint,omitempty"`
}

func toErrorJSON(msg string, err error) errorJSON {
	j := errorJSON{Error: msg}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		j.SQLState, j.Detail, j.Hint = pg.Code, pg.Detail, pg.Hint
	}
	return j
}
