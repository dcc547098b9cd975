package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

const helpIntro = `tenantpath runs the shared and tenant migrations of a schema-per-tenant PostgreSQL database and manages its tenants.

Usage:
  tenantpath [flags] COMMAND [ARGS]    (flags may also follow the command words)

Commands:
`

const helpFiles = `
Migration files:
  Shared migrations are read from --dir/migrations and run once, in the first
  shared schema; tenant migrations from --dir/tenant_migrations, in every
  tenant schema. Two formats, even side by side in one folder:
    0001_users.up.sql + 0001_users.down.sql   golang-migrate pair (down optional)
    0002_posts.sql                            goose: "-- +goose Up", then
                                              optionally "-- +goose Down"
  Versions are positive integers, sequence numbers (0001) or UTC timestamps
  (20240131120000); gaps are allowed. Each schema keeps its own version table.
  Each migration runs in a transaction with its version row. A migration
  holding the line "-- +goose NO TRANSACTION" or "-- tenantpath:no-transaction"
  runs outside one, a statement at a time (CREATE INDEX CONCURRENTLY).
  An applied migration whose file changed stops its schema (checksums).

Configuration:
  Each setting is a flag, an environment variable, or a key of the config file
  (tenantpath.toml in --dir, or --config FILE, or $TENANTPATH_CONFIG); a flag
  wins over the environment, the environment over the file. For example:
    prefix = "org_"
    shared_schemas = ["public", "extensions"]
    tenants_query = "SELECT id FROM organisations"
  A key the file does not know is an error; a relative dir is relative to
  the file. tenantpath config prints the result and where each value came from.

Exit codes:
  0  success (status: the state could be read)
  1  failure: nothing or not everything could be done (connection, shared
     migrations, invalid migration files, a tenant command, a dry run that
     would fail)
  2  usage: unknown command or flag, missing argument or --yes, bad config,
     a migration folder that does not exist
  3  partial failure: a run over many tenants finished, some tenants failed
     or were not run; the output names them
  4  status --check: something is pending, changed, unknown or missing
`

// writeHelp prints the whole help: commands, settings with their
// environment variables and file keys, flags, file formats, exit codes.
func writeHelp(w io.Writer) {
	fmt.Fprint(w, helpIntro)
	width := 0
	for _, c := range commands {
		width = max(width, len(c.usage()))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.usage(), c.summary)
	}
	fs := newFlagSet(&options{}, &parsed{flags: map[string]string{}})
	fmt.Fprint(w, "\nSettings (flag, environment variable, config file key; default):\n")
	isSetting := map[string]bool{}
	for _, s := range settings {
		isSetting[s.name] = true
		f := fs.Lookup(s.name)
		synopsis := "--" + s.name
		if s.arg != "" {
			synopsis += " " + s.arg
		}
		fmt.Fprintf(w, "  %-32s %s\n", synopsis, usageText(f))
		def := ""
		if s.def != "" {
			def = "; default " + s.def
		}
		fmt.Fprintf(w, "  %-32s $%s, %s%s\n", "", strings.Join(s.env, ", $"), s.key(), def)
	}
	fmt.Fprint(w, "\nFlags of one invocation:\n")
	fs.VisitAll(func(f *flag.Flag) {
		if !isSetting[f.Name] {
			fmt.Fprintf(w, "  %-32s %s\n", flagSynopsis(f), usageText(f))
		}
	})
	fmt.Fprint(w, helpFiles)
}

func flagSynopsis(f *flag.Flag) string {
	arg, _ := flag.UnquoteUsage(f)
	if isBool(f) {
		return "--" + f.Name
	}
	return "--" + f.Name + " " + arg
}

func usageText(f *flag.Flag) string {
	_, u := flag.UnquoteUsage(f)
	return u
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func help(_ context.Context, a *app, _ []string) (int, error) {
	writeHelp(a.stdout)
	return exitOK, nil
}

// version prints the module version the binary was built from (a tag for
// go install …@v1.2.3, a pseudo-version or "(devel)" otherwise) and the Go
// version that built it.
func version(_ context.Context, a *app, _ []string) (int, error) {
	v, rev := "(unknown)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	if a.o.json {
		return exitCode(json.NewEncoder(a.stdout).Encode(map[string]string{
			"version": v, "revision": rev, "go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH}))
	}
	if rev != "" {
		v += ", revision " + rev
	}
	fmt.Fprintf(a.stdout, "tenantpath %s (%s %s/%s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK, nil
}

// printConfig prints the resolved settings as a config file, each with
// where its value came from; a password in the database URL is hidden.
func printConfig(_ context.Context, a *app, _ []string) (int, error) {
	o := a.o
	vals := map[string]string{}
	for _, s := range settings {
		vals[s.name] = o.text[s.name]
	}
	vals["database-url"] = redact(o.databaseURL)
	if a.o.json {
		return exitCode(json.NewEncoder(a.stdout).Encode(map[string]any{"settings": vals, "origin": o.origin}))
	}
	for _, s := range settings {
		fmt.Fprintf(a.stdout, "%s = %s  # %s\n", s.key(), tomlValue(s, vals[s.name]), o.origin[s.name])
	}
	return exitOK, nil
}

func tomlValue(s setting, v string) string {
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	switch s.kind {
	case boolean:
		b, _ := strconv.ParseBool(v)
		return strconv.FormatBool(b)
	case number:
		return v
	case list:
		parts := splitList(v)
		for i := range parts {
			parts[i] = quote(parts[i])
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return quote(v)
}

// keywordPassword finds the password of a keyword/value DSN
// ("host=db password=secret").
var keywordPassword = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return keywordPassword.ReplaceAllString(dsn, "${1}xxxxx")
}
