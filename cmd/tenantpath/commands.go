package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantpath/tenantpath/migrator"
)

// app is what a command runs with.
type app struct {
	o      *options
	out    *printer
	stdout io.Writer
	stderr io.Writer
	db     *sql.DB            // set when the command needs the database
	m      *migrator.Migrator // likewise
}

// needs says what a command needs before it runs.
type needs uint8

const (
	needsDB         needs = 1 << iota // a database and a Migrator
	needsMigrations                   // migration files: --dir and a migration folder must exist
)

// command is one entry of the grammar: its words, its arguments, what it
// needs and what it does.
type command struct {
	words    []string // e.g. {"tenants", "create"}
	args     string   // the arguments after the words, for usage lines
	min, max int      // how many arguments; max < 0: no limit
	summary  string
	needs    needs
	check    func(o *options) error // usage checks, before anything is opened
	run      func(ctx context.Context, a *app, args []string) (int, error)
}

func (c command) usage() string {
	return strings.TrimSpace(strings.Join(c.words, " ") + " " + c.args)
}

// commands is the whole grammar. It is filled in init because the help
// command lists it.
var commands []command

func init() {
	commands = []command{
		{words: []string{"migrate", "shared"}, summary: "apply the pending shared migrations",
			needs: needsDB | needsMigrations, run: migrateShared},
		{words: []string{"migrate", "tenants"}, summary: "apply the pending tenant migrations in every tenant",
			needs: needsDB | needsMigrations, run: migrateTenants},
		{words: []string{"migrate", "all"}, summary: "shared, then (only if they succeeded) tenants",
			needs: needsDB | needsMigrations, run: migrateAll},
		{words: []string{"rollback", "shared"}, args: "(--steps N | --to VERSION)", summary: "roll the shared schema back",
			needs: needsDB | needsMigrations, check: checkTarget, run: rollbackShared},
		{words: []string{"rollback", "tenants"}, args: "(--steps N | --to VERSION)", summary: "roll tenants back (without --only: needs --yes)",
			needs: needsDB | needsMigrations, check: checkRollbackTenants, run: rollbackTenants},
		{words: []string{"status"}, summary: "show what is applied, pending or changed (--check: exit 4 unless up to date)",
			needs: needsDB | needsMigrations, run: status},
		{words: []string{"tenants", "create"}, args: "ID...", min: 1, max: -1, summary: "create tenants: schema and every tenant migration, all or nothing",
			needs: needsDB | needsMigrations, run: tenantsCreate},
		{words: []string{"tenants", "rename"}, args: "OLD NEW", min: 2, max: 2, summary: "rename a tenant (its schema)",
			needs: needsDB, run: tenantsRename},
		{words: []string{"tenants", "drop"}, args: "--yes ID...", min: 1, max: -1, summary: "drop tenants' schemas and all their data",
			needs: needsDB, check: checkDrop, run: tenantsDrop},
		{words: []string{"tenants", "list"}, summary: "list the tenants",
			needs: needsDB, run: tenantsList},
		{words: []string{"tenants", "check"}, summary: "report schemas without tenants, tenants without schemas and shadowing shared tables",
			needs: needsDB, run: tenantsCheck},
		{words: []string{"tenants", "spares"}, args: "N", min: 1, max: 1, summary: "keep N spare tenants built and migrated, for instant sign-up",
			needs: needsDB | needsMigrations, run: tenantsSpares},
		{words: []string{"tenants", "export"}, args: "ID FILE", min: 2, max: 2, summary: "write a tenant's archive to FILE (- for stdout)",
			needs: needsDB | needsMigrations, run: tenantsExport},
		{words: []string{"tenants", "import"}, args: "ID FILE", min: 2, max: 2, summary: "create a tenant from an archive (- for stdin)",
			needs: needsDB | needsMigrations, run: tenantsImport},
		{words: []string{"tenants", "move"}, args: "ID --to URL [--yes]", min: 1, max: 1, summary: "copy a tenant to another database, verify, and drop the source with --yes",
			needs: needsDB | needsMigrations, check: checkMove, run: tenantsMove},
		{words: []string{"exec"}, args: "SQL", min: 1, max: 1, summary: "run one statement in every tenant (read only unless --write)",
			needs: needsDB, run: execSQL},
		{words: []string{"new", "shared"}, args: "NAME", min: 1, max: 1, summary: "write the next shared migration file(s)",
			run: newShared},
		{words: []string{"new", "tenant"}, args: "NAME", min: 1, max: 1, summary: "write the next tenant migration file(s)",
			run: newTenant},
		{words: []string{"config"}, summary: "print the resolved configuration and where each value came from",
			run: printConfig},
		{words: []string{"version"}, summary: "print the module version and the Go version", run: version},
		{words: []string{"help"}, summary: "print this help", run: help},
	}
}

// lookup finds the command that words name and returns its arguments.
func lookup(words []string) (command, []string, error) {
	if len(words) == 0 {
		return command{}, nil, usageError{"no command"}
	}
	var related []string
	for _, c := range commands {
		if len(words) >= len(c.words) && slices.Equal(words[:len(c.words)], c.words) {
			args := words[len(c.words):]
			if len(args) < c.min || (c.max >= 0 && len(args) > c.max) {
				return command{}, nil, usageError{"usage: tenantpath " + c.usage()}
			}
			return c, args, nil
		}
		if c.words[0] == words[0] {
			related = append(related, "tenantpath "+c.usage())
		}
	}
	if len(related) > 0 {
		return command{}, nil, usageError{"usage:\n  " + strings.Join(related, "\n  ")}
	}
	return command{}, nil, usageError{fmt.Sprintf("unknown command %q", words[0])}
}

// checkFlags refuses flags that the command would ignore but whose user
// clearly expects an effect.
func checkFlags(c command, o *options) error {
	if o.dryRun && c.words[0] != "migrate" {
		return usageError{"--dry-run is for migrate"}
	}
	if o.check && c.words[0] != "status" {
		return usageError{"--check is for status"}
	}
	if o.write && c.words[0] != "exec" {
		return usageError{"--write is for exec"}
	}
	if o.toSet && c.words[0] != "rollback" && !slices.Equal(c.words, []string{"tenants", "move"}) {
		return usageError{"--to is for rollback and tenants move"}
	}
	if c.check != nil {
		return c.check(o)
	}
	return nil
}

func checkTarget(o *options) error {
	if o.toSet {
		v, err := strconv.ParseInt(o.toText, 10, 64)
		if err != nil || v < 0 {
			return usageError{fmt.Sprintf("--to %s: must be a version number", o.toText)}
		}
		o.to = v
	}
	if (o.steps > 0) == o.toSet {
		return usageError{"rollback needs exactly one of --steps N (N > 0) or --to VERSION"}
	}
	return nil
}

func checkRollbackTenants(o *options) error {
	if err := checkTarget(o); err != nil {
		return err
	}
	if o.only == "" && !o.yes {
		return usageError{"rollback tenants without --only rolls back every tenant: add --yes to confirm, or name tenants with --only"}
	}
	return nil
}

func checkMove(o *options) error {
	if o.toText == "" {
		return usageError{"tenants move needs --to URL, the destination database"}
	}
	return nil
}

func checkDrop(o *options) error {
	if !o.yes {
		return usageError{"tenants drop deletes the schemas and all their data: add --yes to confirm"}
	}
	return nil
}
