package main

import (
	"context"
	"errors"

	"github.com/tenantpath/tenantpath/migrator"
)

// runOptions are the options of a run over tenants, from the flags.
func (a *app) runOptions() []migrator.RunOption {
	return append(a.selection(), migrator.OnProgress(a.out.progress))
}

// selection is which tenants a run takes, and how: --only, --except,
// --parallel, --continue-on-error.
func (a *app) selection() []migrator.RunOption {
	o := a.o
	opts := []migrator.RunOption{migrator.Workers(o.parallel)}
	if ids := splitList(o.only); len(ids) > 0 {
		opts = append(opts, migrator.Only(ids...))
	}
	if ids := splitList(o.except); len(ids) > 0 {
		opts = append(opts, migrator.Except(ids...))
	}
	if o.continueOnError {
		opts = append(opts, migrator.ContinueOnError())
	}
	return opts
}

func (a *app) target() migrator.Target {
	if a.o.toSet {
		return migrator.ToVersion(a.o.to)
	}
	return migrator.Steps(a.o.steps)
}

func migrateShared(ctx context.Context, a *app, _ []string) (int, error) {
	if a.o.dryRun {
		return dryRun(ctx, a, true, false)
	}
	res, err := a.m.MigrateShared(ctx)
	a.out.shared(res)
	return exitCode(err)
}

func migrateTenants(ctx context.Context, a *app, _ []string) (int, error) {
	if a.o.dryRun {
		return dryRun(ctx, a, false, true)
	}
	res, err := a.m.MigrateTenants(ctx, a.runOptions()...)
	return a.out.tenants(nil, res, err)
}

func migrateAll(ctx context.Context, a *app, _ []string) (int, error) {
	if a.o.dryRun {
		return dryRun(ctx, a, true, true)
	}
	rep, err := a.m.Migrate(ctx, a.runOptions()...)
	var se *migrator.SharedError
	if errors.As(err, &se) {
		a.out.shared(rep.Shared)
		return exitFailure, err
	}
	return a.out.tenants(&rep.Shared, rep.Tenants, err)
}

func rollbackShared(ctx context.Context, a *app, _ []string) (int, error) {
	res, err := a.m.RollbackShared(ctx, a.target())
	a.out.shared(res)
	return exitCode(err)
}

func rollbackTenants(ctx context.Context, a *app, _ []string) (int, error) {
	res, err := a.m.RollbackTenants(ctx, a.target(), a.runOptions()...)
	return a.out.tenants(nil, res, err)
}

// status exits 0 when it could read the state; with --check, exitNotReady
// unless every schema is up to date.
func status(ctx context.Context, a *app, _ []string) (int, error) {
	shared, err := a.m.StatusShared(ctx)
	if err != nil {
		return exitFailure, err
	}
	st, err := a.m.Status(ctx, a.runOptions()...)
	if err != nil {
		return exitFailure, err
	}
	if !a.out.status(shared, st) && a.o.check {
		return exitNotReady, nil
	}
	return exitOK, nil
}

// exitCode is 0 without an error, else 1 (or what report makes of err).
func exitCode(err error) (int, error) {
	if err != nil {
		return exitFailure, err
	}
	return exitOK, nil
}
