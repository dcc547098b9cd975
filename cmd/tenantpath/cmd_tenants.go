package main

import (
	"context"
)

func tenantsCreate(ctx context.Context, a *app, ids []string) (int, error) {
	return a.eachTenant(ids, "create", func(id string) error { return a.m.Create(ctx, id) })
}

func tenantsDrop(ctx context.Context, a *app, ids []string) (int, error) {
	return a.eachTenant(ids, "drop", func(id string) error { return a.m.Drop(ctx, id) })
}

// eachTenant runs op on each id in turn, prints each outcome, and exits 0
// if all succeeded, 3 if some did, 1 if none did.
func (a *app) eachTenant(ids []string, op string, fn func(id string) error) (int, error) {
	failed := 0
	for _, id := range ids {
		err := fn(id)
		a.out.tenantOp(op, id, err)
		if err != nil {
			failed++
		}
	}
	a.out.flush()
	switch {
	case failed == 0:
		return exitOK, nil
	case failed < len(ids):
		return exitPartial, nil
	}
	return exitFailure, nil
}

func tenantsRename(ctx context.Context, a *app, args []string) (int, error) {
	err := a.m.Rename(ctx, args[0], args[1])
	a.out.tenantOp("rename", args[0]+" -> "+args[1], err)
	a.out.flush()
	if err != nil {
		return exitFailure, nil
	}
	return exitOK, nil
}

func tenantsList(ctx context.Context, a *app, _ []string) (int, error) {
	ids, err := a.m.List(ctx)
	if err != nil {
		return exitFailure, err
	}
	a.out.list(ids)
	return exitOK, nil
}

func tenantsCheck(ctx context.Context, a *app, _ []string) (int, error) {
	rep, err := a.m.Check(ctx)
	if err != nil {
		return exitFailure, err
	}
	a.out.check(rep)
	if !rep.OK() {
		return exitFailure, nil
	}
	return exitOK, nil
}
