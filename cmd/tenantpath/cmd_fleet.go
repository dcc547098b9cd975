package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/tenantpath/tenantpath/migrator"
)

// registerFleetFlags adds the flag of exec (tenants move shares --to with
// rollback).
func registerFleetFlags(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.write, "write", false, "exec: let the statement write (default: a READ ONLY transaction)")
}

func tenantsSpares(ctx context.Context, a *app, args []string) (int, error) {
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		return exitUsage, usageError{fmt.Sprintf("tenants spares N: N must be a whole number of at least 0, got %q", args[0])}
	}
	rep, err := a.m.EnsureSpares(ctx, n)
	a.out.spares(rep)
	return exitCode(err)
}

func tenantsExport(ctx context.Context, a *app, args []string) (int, error) {
	id, file := args[0], args[1]
	w, done, err := createArchive(file, a.stdout)
	if err != nil {
		return exitFailure, err
	}
	info, err := a.m.Export(ctx, id, w)
	if err = done(err); err != nil {
		return exitFailure, err
	}
	a.summaryFor(file).archive("export", id, file, info)
	return exitOK, nil
}

func tenantsImport(ctx context.Context, a *app, args []string) (int, error) {
	id, file := args[0], args[1]
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return exitFailure, err
		}
		defer f.Close()
		r = f
	}
	info, err := a.m.Import(ctx, id, r)
	if err != nil {
		return exitFailure, err
	}
	a.out.archive("import", id, file, info)
	return exitOK, nil
}

func tenantsMove(ctx context.Context, a *app, args []string) (int, error) {
	db, err := sql.Open("pgx", a.o.toText)
	if err != nil {
		return exitFailure, err
	}
	defer db.Close()
	dst, err := newMigrator(db, a.o, a.stderr)
	if err != nil {
		return exitFailure, err
	}
	var opts []migrator.MoveOption
	if a.o.yes {
		opts = append(opts, migrator.DropSource())
	}
	rep, err := a.m.Move(ctx, args[0], dst, opts...)
	a.out.move(args[0], rep, err)
	return exitCode(err)
}

// summaryFor is the printer of a command's summary: stderr when stdout
// carries an archive.
func (a *app) summaryFor(file string) *printer {
	if file == "-" {
		return newPrinter(a.stderr, a.o)
	}
	return a.out
}

// createArchive opens where an export goes: stdout for "-", else a
// temporary file next to file that done renames to file once the export
// succeeded (and removes otherwise), so a failed export never leaves a
// partial archive under the name asked for.
func createArchive(file string, stdout io.Writer) (io.Writer, func(error) error, error) {
	if file == "-" {
		return stdout, func(err error) error { return err }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return nil, nil, err
	}
	done := func(err error) error {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), file)
		}
		if err != nil {
			os.Remove(f.Name())
		}
		return err
	}
	return f, done, nil
}
