package migrator

import (
	"fmt"
	"strings"
	"time"

	"github.com/tenantpath/tenantpath"
)

// Every statement that writes or reads a version table is built here.
//
// Each migrated schema holds its own table (default tenantpath_migrations),
// always named schema-qualified, so the statements do not depend on the
// search_path.

// table returns the quoted, schema-qualified version table of schema.
func (m *Migrator) table(schema string) string {
	return tenantpath.QuoteIdentifier(schema) + "." + tenantpath.QuoteIdentifier(m.cfg.versionTable)
}

func (m *Migrator) createVersionTableSQL(schema string) string {
	return "CREATE TABLE IF NOT EXISTS " + m.table(schema) + ` (
	version    bigint PRIMARY KEY,
	name       text NOT NULL,
	checksum   text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	duration   interval NOT NULL
)`
}

// serverDuration measures a row's duration on the server: the time since
// the current query message arrived, which for a script sent in one Exec is
// the time its statements took.
const serverDuration = "clock_timestamp() - statement_timestamp()"

// versionValues is the VALUES tuple of mig's row. took < 0 means "measure on
// the server" (serverDuration). It needs no parameters, so it can share an
// Exec with the migration.
func versionValues(mig *migration, took time.Duration) string {
	dur := serverDuration
	if took >= 0 {
		dur = fmt.Sprintf("interval '%d microseconds'", took.Microseconds())
	}
	return fmt.Sprintf("(%d, %s, %s, %s)", mig.Version,
		tenantpath.QuoteLiteral(mig.Name), tenantpath.QuoteLiteral(mig.Checksum), dur)
}

// insertVersionsSQL records rows (versionValues tuples) in schema's table.
func (m *Migrator) insertVersionsSQL(schema string, rows []string) string {
	return "INSERT INTO " + m.table(schema) + " (version, name, checksum, duration) VALUES\n" + strings.Join(rows, ",\n")
}

// versionChange is the statement that records (or, down, removes) mig's
// version row; took as for versionValues.
func (m *Migrator) versionChange(schema string, mig *migration, down bool, took time.Duration) string {
	if down {
		return fmt.Sprintf("DELETE FROM %s WHERE version = %d", m.table(schema), mig.Version)
	}
	return m.insertVersionsSQL(schema, []string{versionValues(mig, took)})
}

// Reading. Both reads aggregate a table on the server through query_to_xml,
// whose query text names the table: the statement itself is the same for
// every schema (the quoted table name is an argument), so drivers that
// prepare and cache statements (pgx does by default) prepare it once per
// connection rather than once per tenant. The client reads the values back
// with xmlField: digits, commas, colons and hex, which XML does not escape.

// readAppliedSQL reads one table's versions and checksums as
// "1:sum,2:sum,…" in column a. $1 is the qualified table.
const readAppliedSQL = `SELECT query_to_xml(
	'SELECT string_agg(version::text || '':'' || checksum, '','' ORDER BY version) AS a FROM ' || $1,
	false, true, '')::text`

// statusSQL reads many schemas at once: $1 their names, $2 their qualified
// tables (text arrays). Per schema: whether it exists, and, when its table
// exists, the applied versions as "1,2,3" in v and an md5 fingerprint of
// their "version:checksum" pairs in f (see fingerprint). Only the
// fingerprint travels, not every checksum.
const statusSQL = `
SELECT s.nspname,
       n.oid IS NOT NULL,
       CASE WHEN n.oid IS NOT NULL AND to_regclass(s.tbl) IS NOT NULL THEN
         query_to_xml(
           'SELECT string_agg(version::text, '','' ORDER BY version) AS v, '
           || 'md5(string_agg(version::text || '':'' || checksum, '','' ORDER BY version)) AS f FROM ' || s.tbl,
           false, true, '')::text
       END
  FROM unnest($1::text[], $2::text[]) AS s(nspname, tbl)
  LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.nspname`

// historyFingerprintSQL is a format() template (%I.%I: schema, version
// table) reading the md5 fingerprint of a version table's history, as
// set.fingerprint computes it from the files: the claim of a spare or an
// import compares them, so a schema is only ever claimed when its history
// is exactly the one expected.
const historyFingerprintSQL = `SELECT md5(string_agg(version::text || ':' || checksum, ',' ORDER BY version)) FROM %I.%I`

// historySQL reads a version table's rows (name and checksum included) in
// version order; an archive records them. The qualified table is part of
// the text: an export runs it once.
func (m *Migrator) historySQL(schema string) string {
	return "SELECT version, name, checksum FROM " + m.table(schema) + " ORDER BY version"
}

// xmlField extracts <name>value</name> from query_to_xml's output.
func xmlField(doc, name string) string {
	open, close := "<"+name+">", "</"+name+">"
	i := strings.Index(doc, open)
	if i < 0 {
		return ""
	}
	rest := doc[i+len(open):]
	j := strings.Index(rest, close)
	if j < 0 {
		return ""
	}
	return rest[:j]
}
