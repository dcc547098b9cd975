package migrator

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tenantpath/tenantpath"
)

// Claiming a reserved schema: a spare becomes a tenant at sign-up, and an
// imported tenant, loaded under a reserved name, becomes the tenant it was
// exported as. Both are one statement, a PL/pgSQL DO block, that under the
// new tenant's lock renames the first free schema matching a pattern whose
// migration history is exactly the expected one, and registers the tenant.

// claimOutcome is what a claim in the caller's transaction reports through
// the transaction-local setting claimSetting.
const (
	claimSetting = "tenantpath.claim"
	claimNone    = "none"    // no free schema matched
	claimExists  = "exists"  // the tenant's schema exists already
	claimClaimed = "claimed" // the tenant was made from a matching schema
)

// claimSQL returns the DO statement that makes t from the first schema
// named like pattern (a LIKE pattern) whose version table's fingerprint
// (historyFingerprintSQL) is fingerprint. Candidates are taken in name
// order under their own transaction lock, tried without waiting, so two
// claimers never take one schema and a claimer never waits for a spare
// being migrated; a candidate renamed by another claimer since the
// statement's snapshot is skipped (its rename fails and is caught).
//
// With report, nothing is raised: the outcome is left in claimSetting for
// the transaction (the caller's transaction stays usable). Without it, an
// existing tenant raises duplicate_schema and no match raises noSpareState.
func (m *Migrator) claimSQL(t target, pattern, fingerprint string, report bool) string {
	lit := tenantpath.QuoteLiteral
	outcome := func(v string) string {
		return "PERFORM pg_catalog.set_config(" + lit(claimSetting) + ", " + v + ", true);\n"
	}
	var b strings.Builder
	b.WriteString("DECLARE\n\tspare text;\n\tf text;\nBEGIN\n")
	if report {
		b.WriteString(outcome(lit(claimNone)))
	}
	b.WriteString("PERFORM " + xactLock(lit(lockKey(t.schema))) + ";\n")
	b.WriteString("IF EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = " + lit(t.schema) + ") THEN\n")
	if report {
		b.WriteString(outcome(lit(claimExists)) + "RETURN;\n")
	} else {
		b.WriteString("RAISE EXCEPTION 'schema % already exists', " + lit(t.schema) + " USING ERRCODE = 'duplicate_schema';\n")
	}
	b.WriteString("END IF;\n")
	fmt.Fprintf(&b, `FOR spare IN SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname LIKE %s ORDER BY nspname LOOP
CONTINUE WHEN NOT %s;
BEGIN
EXECUTE pg_catalog.format(%s, spare, %s) INTO f;
CONTINUE WHEN coalesce(f, '') <> %s;
EXECUTE pg_catalog.format('ALTER SCHEMA %%I RENAME TO %%I', spare, %s);
EXCEPTION WHEN invalid_schema_name OR undefined_table THEN
CONTINUE;
END;
`, lit(pattern), xactTryLock(lit(lockKey(""))+" || spare"), lit(historyFingerprintSQL),
		lit(m.cfg.versionTable), lit(fingerprint), lit(t.schema))
	if m.cfg.source == nil {
		b.WriteString(m.registerSQL(t.tenant, t.schema) + ";\n")
	}
	if report {
		b.WriteString(outcome(lit(claimClaimed)))
	}
	b.WriteString("RETURN;\nEND LOOP;\n")
	if !report {
		b.WriteString("RAISE EXCEPTION 'no free schema matches %', " + lit(pattern) + " USING ERRCODE = '" + noSpareState + "';\n")
	}
	b.WriteString("END")
	return "DO " + lit(b.String())
}

// claimOne makes t from a matching schema in one statement of its own (an
// implicit transaction): claimed is false when none was free. An existing
// tenant is an error matching ErrTenantExists.
func (m *Migrator) claimOne(ctx context.Context, t target, pattern, fingerprint string) (claimed bool, err error) {
	_, err = m.db.ExecContext(ctx, m.claimSQL(t, pattern, fingerprint, false))
	switch sqlState(err) {
	case "":
		if err != nil {
			return false, fmt.Errorf("migrator: creating tenant %q: %w", t.tenant, err)
		}
		return true, nil
	case noSpareState:
		return false, nil
	case "42P06": // duplicate_schema
		return false, fmt.Errorf("%w: tenant %q (schema %q) (%w)", ErrTenantExists, t.tenant, t.schema, err)
	}
	return false, fmt.Errorf("migrator: creating tenant %q: %w", t.tenant, err)
}

// claimInTx makes t from a free spare inside the caller's transaction, in
// two statements (the claim, then reading its outcome), leaving the
// transaction usable whatever the outcome.
func (m *Migrator) claimInTx(ctx context.Context, tx *sql.Tx, t target) (string, error) {
	if _, err := tx.ExecContext(ctx, m.claimSQL(t, m.sparePattern(), m.spareFingerprint(), true)); err != nil {
		if sqlState(err) == "42P06" {
			return "", fmt.Errorf("%w: tenant %q (schema %q) (%w)", ErrTenantExists, t.tenant, t.schema, err)
		}
		return "", fmt.Errorf("migrator: creating tenant %q: %w", t.tenant, err)
	}
	var outcome string
	if err := tx.QueryRowContext(ctx, "SELECT pg_catalog.current_setting($1)", claimSetting).Scan(&outcome); err != nil {
		return "", fmt.Errorf("migrator: creating tenant %q: %w", t.tenant, err)
	}
	if outcome == claimExists {
		return "", fmt.Errorf("%w: tenant %q (schema %q)", ErrTenantExists, t.tenant, t.schema)
	}
	return outcome, nil
}

// likeEscape quotes s for a LIKE pattern whose escape character is the
// default backslash.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
