package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
)

// Exit codes; see the package documentation.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitPartial = 3
)

// options holds every flag. All commands accept all flags; the ones a
// command does not use are ignored.
type options struct {
	databaseURL     string
	dir             string
	sharedDir       string
	tenantDir       string
	prefix          string
	sharedSchemas   string
	tenantsQuery    string
	versionTable    string
	registryTable   string
	only, except    string
	parallel        int
	continueOnError bool
	json            bool
	steps           int
	to              int64
	toSet           bool
	yes             bool
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const usageText = `Usage:
  tenantpath [flags] migrate shared|tenants|all
  tenantpath [flags] rollback shared|tenants (--steps N | --to VERSION)
  tenantpath [flags] status
  tenantpath [flags] tenants create ID... | rename OLD NEW | drop --yes ID... | list | check

Exit codes: 0 success, 1 failure, 2 usage error, 3 partial failure (some tenants failed).

Flags:
`

func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tenantpath", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL URL (default $DATABASE_URL)")
	fs.StringVar(&o.dir, "dir", ".", "folder holding the migration folders")
	fs.StringVar(&o.sharedDir, "shared-dir", migrator.DefaultSharedDir, "shared migrations folder, inside --dir")
	fs.StringVar(&o.tenantDir, "tenant-dir", migrator.DefaultTenantDir, "tenant migrations folder, inside --dir")
	fs.StringVar(&o.prefix, "prefix", "", "tenant schema prefix: with \"org_\", tenant 10 lives in schema org_10")
	fs.StringVar(&o.sharedSchemas, "shared-schemas", "public", "comma-separated shared schemas; shared migrations run in the first")
	fs.StringVar(&o.tenantsQuery, "tenants-query", "", "SQL whose first column lists the tenant ids (default: the registry table)")
	fs.StringVar(&o.versionTable, "version-table", migrator.DefaultVersionTable, "version table name")
	fs.StringVar(&o.registryTable, "registry-table", migrator.DefaultRegistryTable, "tenant registry table name")
	fs.StringVar(&o.only, "only", "", "comma-separated tenant ids to run (default all)")
	fs.StringVar(&o.except, "except", "", "comma-separated tenant ids to leave out")
	fs.IntVar(&o.parallel, "parallel", 0, "tenants migrated at once (default 8)")
	fs.BoolVar(&o.continueOnError, "continue-on-error", false, "keep migrating other tenants after one fails")
	fs.BoolVar(&o.json, "json", false, "print one JSON document instead of text")
	fs.IntVar(&o.steps, "steps", 0, "rollback: number of migrations to roll back")
	fs.Func("to", "rollback: version to roll back to (0 = everything)", func(s string) error {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return errors.New("must be a version number")
		}
		o.to, o.toSet = v, true
		return nil
	})
	fs.BoolVar(&o.yes, "yes", false, "tenants drop: confirm dropping the tenants' schemas and all their data")
	return fs
}

// parseArgs reads flags anywhere among the command words.
func parseArgs(args []string, o *options, stderr io.Writer) ([]string, error) {
	fs := newFlagSet(o, stderr)
	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return words, nil
		}
		words = append(words, args[0])
		args = args[1:]
	}
}

// run is the whole command; main only adds signals and os.Exit.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var o options
	words, err := parseArgs(args, &o, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil && len(words) == 0 {
		err = usagef("no command")
	}
	if err != nil {
		fmt.Fprintf(stderr, "tenantpath: %v\n\n%s", err, usageText)
		fmt.Fprintln(stderr, "  run tenantpath -h for the list")
		return exitUsage
	}
	if o.databaseURL == "" {
		o.databaseURL = getenv("DATABASE_URL")
	}
	out := &printer{w: stdout, json: o.json, tty: isTerminal(stdout)}
	code, err := dispatch(ctx, words, &o, out)
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "tenantpath: %v\n\n%s", err, usageText)
			fmt.Fprintln(stderr, "  run tenantpath -h for the list")
			return exitUsage
		}
		out.error(err)
		fmt.Fprintf(stderr, "tenantpath: %v\n", err)
		if code == exitOK {
			code = exitFailure
		}
	}
	return code
}

func dispatch(ctx context.Context, words []string, o *options, out *printer) (int, error) {
	arg := func(i int) string {
		if i < len(words) {
			return words[i]
		}
		return ""
	}
	// Check the command words before connecting anywhere.
	switch arg(0) {
	case "migrate":
		if a := arg(1); (a != "shared" && a != "tenants" && a != "all") || len(words) != 2 {
			return exitUsage, usagef("usage: migrate shared|tenants|all")
		}
	case "rollback":
		if a := arg(1); (a != "shared" && a != "tenants") || len(words) != 2 {
			return exitUsage, usagef("usage: rollback shared|tenants (--steps N | --to VERSION)")
		}
		if (o.steps > 0) == o.toSet {
			return exitUsage, usagef("rollback needs exactly one of --steps N (N > 0) or --to VERSION")
		}
	case "status":
		if len(words) != 1 {
			return exitUsage, usagef("usage: status")
		}
	case "tenants":
		switch arg(1) {
		case "create", "drop":
			if len(words) < 3 {
				return exitUsage, usagef("usage: tenants %s ID...", arg(1))
			}
			if arg(1) == "drop" && !o.yes {
				return exitUsage, usagef("tenants drop deletes the schemas and all their data: add --yes to confirm")
			}
		case "rename":
			if len(words) != 4 {
				return exitUsage, usagef("usage: tenants rename OLD NEW")
			}
		case "list", "check":
			if len(words) != 2 {
				return exitUsage, usagef("usage: tenants %s", arg(1))
			}
		default:
			return exitUsage, usagef("usage: tenants create|rename|drop|list|check")
		}
	default:
		return exitUsage, usagef("unknown command %q", arg(0))
	}
	if o.databaseURL == "" {
		return exitUsage, usagef("no database: set --database-url or DATABASE_URL")
	}

	db, err := sql.Open("pgx", o.databaseURL)
	if err != nil {
		return exitFailure, err
	}
	defer db.Close()
	// Workers mostly wait for round trips, so more of them than cores
	// pays (see docs/migrator.md); each holds one connection.
	workers := o.parallel
	if workers <= 0 {
		workers = 8
	}
	db.SetMaxOpenConns(workers + 1)
	db.SetMaxIdleConns(workers + 1)
	m, err := newMigrator(db, o, workers)
	if err != nil {
		return exitFailure, err
	}
	runOpts := []migrator.RunOption{migrator.Workers(workers), migrator.OnProgress(out.progress)}
	if ids := splitList(o.only); len(ids) > 0 {
		runOpts = append(runOpts, migrator.Only(ids...))
	}
	if ids := splitList(o.except); len(ids) > 0 {
		runOpts = append(runOpts, migrator.Except(ids...))
	}
	if o.continueOnError {
		runOpts = append(runOpts, migrator.ContinueOnError())
	}
	target := migrator.Steps(o.steps)
	if o.toSet {
		target = migrator.ToVersion(o.to)
	}

	switch arg(0) + " " + arg(1) {
	case "migrate shared":
		res, err := m.MigrateShared(ctx)
		out.shared(res)
		return exitOK, err
	case "migrate tenants":
		res, err := m.MigrateTenants(ctx, runOpts...)
		return out.tenants(nil, res, err)
	case "migrate all":
		rep, err := m.Migrate(ctx, runOpts...)
		var se *migrator.SharedError
		if errors.As(err, &se) {
			out.shared(rep.Shared)
			return exitFailure, err
		}
		return out.tenants(&rep.Shared, rep.Tenants, err)
	case "rollback shared":
		res, err := m.RollbackShared(ctx, target)
		out.shared(res)
		return exitOK, err
	case "rollback tenants":
		res, err := m.RollbackTenants(ctx, target, runOpts...)
		return out.tenants(nil, res, err)
	case "status ":
		shared, err := m.StatusShared(ctx)
		if err != nil {
			return exitFailure, err
		}
		st, err := m.Status(ctx, runOpts...)
		if err != nil {
			return exitFailure, err
		}
		out.status(shared, st)
		return exitOK, nil
	case "tenants create", "tenants drop":
		var failed []string
		for _, id := range words[2:] {
			var err error
			if arg(1) == "create" {
				err = m.Create(ctx, id)
			} else {
				err = m.Drop(ctx, id)
			}
			out.tenantOp(arg(1), id, err)
			if err != nil {
				failed = append(failed, id)
			}
		}
		out.flush()
		switch {
		case len(failed) == 0:
			return exitOK, nil
		case len(failed) < len(words)-2:
			return exitPartial, nil
		default:
			return exitFailure, nil
		}
	case "tenants rename":
		err := m.Rename(ctx, words[2], words[3])
		out.tenantOp("rename", words[2]+" -> "+words[3], err)
		out.flush()
		if err != nil {
			return exitFailure, nil
		}
		return exitOK, nil
	case "tenants list":
		ids, err := m.List(ctx)
		if err != nil {
			return exitFailure, err
		}
		out.list(ids)
		return exitOK, nil
	case "tenants check":
		rep, err := m.Check(ctx)
		if err != nil {
			return exitFailure, err
		}
		out.check(rep)
		if !rep.OK() {
			return exitFailure, nil
		}
		return exitOK, nil
	}
	return exitUsage, usagef("unknown command")
}

func newMigrator(db *sql.DB, o *options, workers int) (*migrator.Migrator, error) {
	naming := tenantpath.Naming{Prefix: o.prefix, Shared: splitList(o.sharedSchemas)}
	opts := []migrator.Option{
		migrator.WithWorkers(workers),
		migrator.WithVersionTable(o.versionTable),
		migrator.WithRegistryTable(o.registryTable),
		migrator.WithDrop(nil), // the CLI asks for --yes instead
	}
	// Folders named explicitly must exist; the defaults may be missing.
	if o.sharedDir != migrator.DefaultSharedDir {
		opts = append(opts, migrator.WithSharedDir(o.sharedDir))
	}
	if o.tenantDir != migrator.DefaultTenantDir {
		opts = append(opts, migrator.WithTenantDir(o.tenantDir))
	}
	if o.tenantsQuery != "" {
		opts = append(opts, migrator.WithTenantSource(migrator.TenantsFromQuery(db, o.tenantsQuery)))
	}
	return migrator.New(db, os.DirFS(o.dir), naming, opts...)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
