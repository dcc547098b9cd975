package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
)

// Exit codes; see the package documentation.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitPartial  = 3
	exitNotReady = 4
)

// run is the whole command; main only adds signals and os.Exit.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var o options
	p, err := parseArgs(args, &o)
	if errors.Is(err, flag.ErrHelp) {
		p.words, err = []string{"help"}, nil
	}
	var c command
	var cargs []string
	if err == nil {
		c, cargs, err = lookup(p.words)
	}
	if err == nil {
		err = resolve(&o, p, getenv)
	}
	if err == nil {
		err = checkFlags(c, &o)
	}
	if err == nil && c.needs&needsMigrations != 0 {
		err = checkFolders(&o)
	}
	if err != nil {
		return report(stderr, nil, err, exitUsage)
	}
	out := newPrinter(stdout, &o)
	a := &app{o: &o, out: out, stdout: stdout, stderr: stderr}
	if c.needs&needsDB != 0 {
		closeDB, err := a.open()
		if err != nil {
			return report(stderr, out, err, exitFailure)
		}
		defer closeDB()
	}
	code, err := c.run(ctx, a, cargs)
	out.endBar()
	if err != nil {
		return report(stderr, out, err, code)
	}
	return code
}

// open connects to the database and builds the Migrator.
func (a *app) open() (func(), error) {
	o := a.o
	if o.databaseURL == "" {
		return nil, usageError{"no database: set --database-url, DATABASE_URL or database_url in " + configFile}
	}
	db, err := sql.Open("pgx", o.databaseURL)
	if err != nil {
		return nil, err
	}
	// Workers mostly wait for round trips, so more of them than cores
	// pays (see docs/migrator.md); each holds one connection.
	db.SetMaxOpenConns(o.parallel + 1)
	db.SetMaxIdleConns(o.parallel + 1)
	m, err := newMigrator(db, o, a.stderr)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.db, a.m = db, m
	return func() { db.Close() }, nil
}

func newMigrator(db *sql.DB, o *options, stderr io.Writer) (*migrator.Migrator, error) {
	naming := tenantpath.Naming{Prefix: o.prefix, Shared: splitList(o.sharedSchemas)}
	opts := []migrator.Option{
		migrator.WithWorkers(o.parallel),
		migrator.WithVersionTable(o.versionTable),
		migrator.WithRegistryTable(o.registryTable),
		migrator.WithDrop(nil), // the CLI asks for --yes instead
	}
	// Folders named explicitly must exist (checkFolders); the default
	// ones may be missing.
	if o.isSet("shared-dir") {
		opts = append(opts, migrator.WithSharedDir(o.sharedDir))
	}
	if o.isSet("tenant-dir") {
		opts = append(opts, migrator.WithTenantDir(o.tenantDir))
	}
	if o.tenantsQuery != "" {
		opts = append(opts, migrator.WithTenantSource(migrator.TenantsFromQuery(db, o.tenantsQuery)))
	}
	opts = append(opts, extraMigratorOptions(o, stderr)...)
	return migrator.New(db, os.DirFS(o.dir), naming, opts...)
}

// checkFolders turns a mistyped folder into an error instead of a run that
// finds nothing to do: --dir must exist, a folder named by a flag, the
// environment or the config file must exist, and at least one of the two
// migration folders must.
func checkFolders(o *options) error {
	if fi, err := os.Stat(o.dir); err != nil || !fi.IsDir() {
		return usageError{fmt.Sprintf("--dir %s: no such folder (%s)", o.dir, o.origin["dir"])}
	}
	found := 0
	for _, name := range []string{"shared-dir", "tenant-dir"} {
		sub := o.sharedDir
		if name == "tenant-dir" {
			sub = o.tenantDir
		}
		fi, err := os.Stat(filepath.Join(o.dir, sub))
		exists := err == nil && fi.IsDir()
		if !exists && o.isSet(name) {
			return usageError{fmt.Sprintf("--%s %s: no such folder in %s (%s)", name, sub, o.dir, o.origin[name])}
		}
		if exists {
			found++
		}
	}
	if found == 0 {
		return usageError{fmt.Sprintf("no migrations: %s has neither %s/ nor %s/ (see --dir, --shared-dir, --tenant-dir)",
			o.dir, o.sharedDir, o.tenantDir)}
	}
	return nil
}
