package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"math"
	"sync"

	"github.com/tenantpath/tenantpath/migrator"
)

// execResult is one tenant's result of exec.
type execResult struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// execSQL runs one statement in every selected tenant, each in a
// transaction of its own on the tenant's path: READ ONLY unless --write,
// so the server itself refuses a write it was not asked for. The rows are
// gathered per tenant and printed in tenant order once the run is done.
func execSQL(ctx context.Context, a *app, args []string) (int, error) {
	query := args[0]
	var mu sync.Mutex
	results := map[string]execResult{}
	opts := append(a.selection(), migrator.OnProgress(func(p migrator.Progress) {
		if a.out.bar {
			a.out.progress(p)
		}
	}))
	if a.o.write {
		opts = append(opts, migrator.Write())
	}
	res, err := a.m.ForEachTenant(ctx, func(ctx context.Context, tenant string, tx *sql.Tx) error {
		r, err := runStatement(ctx, tx, query)
		if err != nil {
			return err
		}
		mu.Lock()
		results[tenant] = r
		mu.Unlock()
		return nil
	}, opts...)
	var pe *migrator.PartialError
	if err != nil && !errors.As(err, &pe) {
		return exitFailure, err
	}
	if a.o.json {
		a.out.execJSON(res, results, err)
		if pe != nil {
			return exitPartial, err
		}
		return exitOK, nil
	}
	a.out.endBar()
	a.out.execText(res, results)
	return a.out.tenants(nil, res, err)
}

// runStatement runs query on tx and reads its columns and rows.
func runStatement(ctx context.Context, tx *sql.Tx, query string) (execResult, error) {
	r := execResult{Columns: []string{}, Rows: [][]any{}}
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return r, err
	}
	for _, ct := range types {
		r.Columns = append(r.Columns, ct.Name())
	}
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return r, err
		}
		for i, v := range vals {
			vals[i] = jsonValue(v, types[i].DatabaseTypeName())
		}
		r.Rows = append(r.Rows, vals)
	}
	return r, rows.Err()
}

// jsonValue makes a driver value printable as JSON: bytea in PostgreSQL's
// hex form, other bytes as text, and the floats JSON has no number for as
// PostgreSQL spells them.
func jsonValue(v any, dbType string) any {
	switch x := v.(type) {
	case []byte:
		if dbType == "BYTEA" {
			return `\x` + hex.EncodeToString(x)
		}
		return string(x)
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN"
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		}
	case float32:
		return jsonValue(float64(x), dbType)
	}
	return v
}
