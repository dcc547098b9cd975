//go:build !migratorapi

package main

import (
	"flag"
	"io"

	"github.com/tenantpath/tenantpath/migrator"
)

// This file is the build without the migrator's run-time checks
// (NamingMismatchError, UnknownTenantsError, NoTenantsFoundError) and its
// logger. migratorapi_on.go is the build with them (go build -tags
// migratorapi); it replaces this file once the migrator has them.

func registerMigratorFlags(*flag.FlagSet, *options) {}

func extraMigratorOptions(*options, io.Writer) []migrator.Option { return nil }

func explainMigrator(error) (string, int, bool) { return "", exitOK, false }
