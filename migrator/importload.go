package migrator

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tenantpath/tenantpath"
)

// What an import sets aside while it loads, and puts back.

// heldBack lists the constraints of a schema that are set aside during the
// load and its application triggers that were enabled (disabled during the
// load, so a restore does not stamp new timestamps or write audit rows).
type heldBack struct {
	constraints []heldItem
	triggers    []heldItem
}

// heldItem is one constraint or trigger: its quoted table and name, and
// its definition (a constraint's) or enabled state (a trigger's: O, A or R).
type heldItem struct {
	Table, Name, Def string
}

// setAsideSQL lists the constraints dropped during the load and added back
// after it, as pg_get_constraintdef writes them on the current path (on
// which the schema comes first, so references to its own tables come out
// unqualified and are added back to the same tables); constraints
// inherited by partitions come with their parent's:
//   - foreign keys, so rows can arrive in any order (adding them back
//     checks every row);
//   - CHECK constraints added NOT VALID: COPY checks every row against them
//     all the same, and the tenant's own older rows may not pass; they are
//     added back NOT VALID, as they were.
const setAsideSQL = `
SELECT format('%I.%I', n.nspname, c.relname), format('%I', con.conname), pg_catalog.pg_get_constraintdef(con.oid)
  FROM pg_catalog.pg_constraint con
  JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND con.conparentid = 0
   AND (con.contype = 'f' OR con.contype = 'c' AND NOT con.convalidated)
 ORDER BY con.oid`

// triggersSQL lists the schema's enabled application triggers (not the
// internal ones that enforce foreign keys), not those partitions inherit.
const triggersSQL = `
SELECT format('%I.%I', n.nspname, c.relname), format('%I', t.tgname), t.tgenabled::text
  FROM pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgparentid = 0
 ORDER BY t.oid`

// matviewsSQL lists the schema's populated materialized views in creation
// order, so one built on another is refreshed after it.
const matviewsSQL = `
SELECT format('%I.%I', n.nspname, c.relname)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind = 'm' AND c.relispopulated
 ORDER BY c.oid`

// holdBack drops the schema's set-aside constraints and disables its triggers, in
// the caller's transaction, and returns what it did.
func holdBack(ctx context.Context, tx pgx.Tx, schema string) (*heldBack, error) {
	var h heldBack
	var err error
	if h.constraints, err = readHeld(ctx, tx, setAsideSQL, schema); err != nil {
		return nil, err
	}
	if h.triggers, err = readHeld(ctx, tx, triggersSQL, schema); err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, con := range h.constraints {
		fmt.Fprintf(&b, "ALTER TABLE %s DROP CONSTRAINT %s;\n", con.Table, con.Name)
	}
	for _, tg := range h.triggers {
		fmt.Fprintf(&b, "ALTER TABLE %s DISABLE TRIGGER %s;\n", tg.Table, tg.Name)
	}
	return &h, execScript(ctx, tx, b.String())
}

func readHeld(ctx context.Context, tx pgx.Tx, query, schema string) ([]heldItem, error) {
	rows, _ := tx.Query(ctx, query, schema)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[heldItem])
}

// restore enables the triggers as they were, adds the constraints back
// (checking every loaded row), sets the sequences to their exported state
// and refreshes the populated materialized views.
func (h *heldBack) restore(ctx context.Context, tx pgx.Tx, schema string, seqs []archiveSequence) error {
	var b strings.Builder
	for _, tg := range h.triggers {
		mode := map[string]string{"A": "ALWAYS ", "R": "REPLICA "}[tg.Def]
		fmt.Fprintf(&b, "ALTER TABLE %s ENABLE %sTRIGGER %s;\n", tg.Table, mode, tg.Name)
	}
	for _, con := range h.constraints {
		fmt.Fprintf(&b, "ALTER TABLE %s ADD CONSTRAINT %s %s;\n", con.Table, con.Name, con.Def)
	}
	for _, s := range seqs {
		fmt.Fprintf(&b, "SELECT pg_catalog.setval(%s, %d, %t);\n",
			tenantpath.QuoteLiteral(tenantpath.QuoteIdentifier(schema)+"."+tenantpath.QuoteIdentifier(s.Name)), s.LastValue, s.IsCalled)
	}
	if err := execScript(ctx, tx, b.String()); err != nil {
		return err
	}
	rows, _ := tx.Query(ctx, matviewsSQL, schema)
	views, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	b.Reset()
	for _, v := range views {
		fmt.Fprintf(&b, "REFRESH MATERIALIZED VIEW %s;\n", v)
	}
	return execScript(ctx, tx, b.String())
}

// execScript sends a script of statements without arguments in one round
// trip (pgx uses the simple protocol then); an empty one sends nothing.
func execScript(ctx context.Context, tx pgx.Tx, script string) error {
	if script == "" {
		return nil
	}
	_, err := tx.Exec(ctx, script)
	return err
}

// emptyTables removes the rows the migrations put in the archive's tables,
// in the caller's transaction, before the archive's own are loaded.
func emptyTables(ctx context.Context, tx pgx.Tx, schema string, tables []archiveTable) error {
	if len(tables) == 0 {
		return nil
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = tenantpath.QuoteIdentifier(schema) + "." + tenantpath.QuoteIdentifier(t.Name)
	}
	_, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", "))
	return err
}

// badData reports an error of the server's about the data COPY was given
// (a data exception, class 22, or a row an integrity constraint refuses,
// class 23): the archive's data does not fit its own description.
func badData(err error) bool {
	state := sqlState(err)
	return strings.HasPrefix(state, "22") || strings.HasPrefix(state, "23")
}
