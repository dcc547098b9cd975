package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/tenantpath/tenantpath/migrator"
)

// options holds the resolved configuration and the flags of one
// invocation. All commands accept all flags; a command ignores the ones it
// does not use.
type options struct {
	// Settings: a flag, an environment variable, a key of the config file.
	databaseURL     string
	dir             string
	sharedDir       string
	tenantDir       string
	prefix          string
	sharedSchemas   string
	tenantsQuery    string
	versionTable    string
	registryTable   string
	parallel        int
	continueOnError bool
	progress        bool

	// Flags of one invocation only.
	config       string
	only, except string
	json         bool
	steps        int
	to           int64  // rollback: the version --to names (checkTarget reads it from toText)
	toText       string // --to as given: a version for rollback, a URL for tenants move
	toSet        bool
	yes          bool
	dryRun       bool
	check        bool
	verbose      bool // log per-tenant progress (refusals.go adds the flag)
	write        bool // exec: the statement may write

	// origin says where each setting's value came from ("flag --prefix",
	// "env TENANTPATH_PREFIX", "file ./tenantpath.toml" or "default"); see
	// resolve.
	origin map[string]string
	text   map[string]string // each setting's resolved text, as given
}

// kind is how a setting's text is read.
type kind uint8

const (
	text kind = iota
	number
	boolean
	list // comma-separated on the command line and in the environment; a TOML array or string in the file
)

// setting is one configuration value. Its flag is --name, its TOML key is
// name with '-' replaced by '_', and env lists its environment variables,
// the first one set winning.
type setting struct {
	name string
	arg  string // placeholder of the value in --help, "" for a boolean
	env  []string
	def  string
	kind kind
	help string
	set  func(o *options, s string) error
}

func (s setting) key() string { return strings.ReplaceAll(s.name, "-", "_") }

func str(field func(*options) *string) func(*options, string) error {
	return func(o *options, v string) error { *field(o) = v; return nil }
}

// settings lists every value that may come from a flag, the environment or
// the config file, in the order --help shows them. The flags of one
// invocation (--only, --yes, --steps, …) are not here: a confirmation or a
// target kept in the environment or a file would apply to every later
// command.
var settings = []setting{
	{name: "database-url", arg: "URL", env: []string{"TENANTPATH_DATABASE_URL", "DATABASE_URL"}, kind: text,
		help: "PostgreSQL URL", set: str(func(o *options) *string { return &o.databaseURL })},
	{name: "dir", arg: "DIR", env: []string{"TENANTPATH_DIR"}, def: ".", kind: text,
		help: "folder holding the migration folders (and tenantpath.toml)", set: str(func(o *options) *string { return &o.dir })},
	{name: "shared-dir", arg: "DIR", env: []string{"TENANTPATH_SHARED_DIR"}, def: migrator.DefaultSharedDir, kind: text,
		help: "shared migrations folder, inside --dir", set: str(func(o *options) *string { return &o.sharedDir })},
	{name: "tenant-dir", arg: "DIR", env: []string{"TENANTPATH_TENANT_DIR"}, def: migrator.DefaultTenantDir, kind: text,
		help: "tenant migrations folder, inside --dir", set: str(func(o *options) *string { return &o.tenantDir })},
	{name: "prefix", arg: "PREFIX", env: []string{"TENANTPATH_PREFIX"}, kind: text,
		help: "tenant schema prefix: with org_, tenant 10 lives in schema org_10", set: str(func(o *options) *string { return &o.prefix })},
	{name: "shared-schemas", arg: "LIST", env: []string{"TENANTPATH_SHARED_SCHEMAS"}, def: "public", kind: list,
		help: "comma-separated shared schemas; shared migrations run in the first", set: str(func(o *options) *string { return &o.sharedSchemas })},
	{name: "tenants-query", arg: "SQL", env: []string{"TENANTPATH_TENANTS_QUERY"}, kind: text,
		help: "SQL whose first column lists the tenant ids (default: the registry table)", set: str(func(o *options) *string { return &o.tenantsQuery })},
	{name: "version-table", arg: "NAME", env: []string{"TENANTPATH_VERSION_TABLE"}, def: migrator.DefaultVersionTable, kind: text,
		help: "version table kept in every migrated schema", set: str(func(o *options) *string { return &o.versionTable })},
	{name: "registry-table", arg: "NAME", env: []string{"TENANTPATH_REGISTRY_TABLE"}, def: migrator.DefaultRegistryTable, kind: text,
		help: "tenant registry table, in the first shared schema", set: str(func(o *options) *string { return &o.registryTable })},
	{name: "parallel", arg: "N", env: []string{"TENANTPATH_PARALLEL"}, def: "8", kind: number,
		help: "tenants migrated at once", set: func(o *options, s string) error {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return errors.New("must be a whole number of at least 1")
			}
			o.parallel = n
			return nil
		}},
	{name: "continue-on-error", env: []string{"TENANTPATH_CONTINUE_ON_ERROR"}, def: "false", kind: boolean,
		help: "keep migrating other tenants after one fails", set: boolSetting(func(o *options) *bool { return &o.continueOnError })},
	{name: "progress", env: []string{"TENANTPATH_PROGRESS"}, def: "false", kind: boolean,
		help: "draw the progress bar even when stdout is not a terminal (CI logs)", set: boolSetting(func(o *options) *bool { return &o.progress })},
}

func boolSetting(field func(*options) *bool) func(*options, string) error {
	return func(o *options, s string) error {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("must be true or false")
		}
		*field(o) = b
		return nil
	}
}

// parsed is what the command line said: the command words, and the raw
// text of each setting given as a flag.
type parsed struct {
	words []string
	flags map[string]string
}

// newFlagSet registers every setting (recording its raw text in p.flags,
// to be resolved against the environment and the file later) and the
// flags of one invocation (straight into o).
func newFlagSet(o *options, p *parsed) *flag.FlagSet {
	fs := flag.NewFlagSet("tenantpath", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, help by the help command
	for _, s := range settings {
		record := func(v string) error {
			p.flags[s.name] = v
			return s.set(&options{}, v) // report a bad value now, with the flag's name
		}
		if s.kind == boolean {
			fs.BoolFunc(s.name, s.help, record)
		} else {
			fs.Func(s.name, s.help, record)
		}
	}
	fs.StringVar(&o.config, "config", "", "config `FILE` (default: tenantpath.toml in --dir, if there)")
	fs.StringVar(&o.only, "only", "", "comma-separated tenant `IDS` to run (default all)")
	fs.StringVar(&o.except, "except", "", "comma-separated tenant `IDS` to leave out")
	fs.BoolVar(&o.json, "json", false, "print one JSON document instead of text")
	fs.IntVar(&o.steps, "steps", 0, "rollback: roll back `N` migrations")
	fs.Func("to", "rollback: roll back to `VERSION` (0 = everything); tenants move: the destination database URL", func(s string) error {
		o.toText, o.toSet = s, true
		return nil
	})
	fs.BoolVar(&o.yes, "yes", false, "confirm tenants drop, rollback tenants without --only, and dropping the source of tenants move")
	fs.BoolVar(&o.dryRun, "dry-run", false, "migrate: print what would run, per schema, and change nothing")
	fs.BoolVar(&o.check, "check", false, "status: exit 4 unless every schema is up to date")
	registerMigratorFlags(fs, o)
	registerFleetFlags(fs, o)
	return fs
}

// parseArgs reads flags anywhere among the command words.
func parseArgs(args []string, o *options) (parsed, error) {
	p := parsed{flags: map[string]string{}}
	fs := newFlagSet(o, &p)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return p, err
			}
			return p, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return p, nil
		}
		p.words = append(p.words, args[0])
		args = args[1:]
	}
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

// registerMigratorFlags adds the flags that need the migrator's logger.
func registerMigratorFlags(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.verbose, "verbose", false, "log each tenant's start, result and duration to stderr")
}

// extraMigratorOptions gives the Migrator a logger on stderr with --verbose.
func extraMigratorOptions(o *options, stderr io.Writer) []migrator.Option {
	if !o.verbose {
		return nil
	}
	return []migrator.Option{migrator.WithLogger(slog.New(slog.NewTextHandler(stderr, nil)))}
}
