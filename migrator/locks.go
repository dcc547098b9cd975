package migrator

import (
	"strconv"
	"strings"
)

// Every advisory lock the migrator takes is keyed by a 64-bit hash
// (hashtextextended) of a text that names what it guards. The texts start
// with "tenantpath.migrator:", so our keys stay apart from the
// application's own advisory locks; two schemas share a key only on a
// 64-bit hash collision, which would serialise them, never mix them. This
// file is the only one that spells the advisory-lock functions.

// lockKey is the text of a schema's lock: held by every run in the schema
// and by every change of the schema itself (create, rename, drop), and, for
// the first shared schema, by the creation of the registry table.
func lockKey(schema string) string { return "tenantpath.migrator:" + schema }

// roleLockKey is the text of a tenant role's lock, held while the role is
// provisioned or dropped.
func roleLockKey(role string) string { return "tenantpath.migrator:role:" + role }

// keyHash is the lock key of the text arg: a parameter ($1) or a literal.
func keyHash(arg string) string { return "pg_catalog.hashtextextended(" + arg + ", 0)" }

// xactLock takes the lock of arg until the transaction ends.
func xactLock(arg string) string { return "pg_catalog.pg_advisory_xact_lock(" + keyHash(arg) + ")" }

// xactLockedSelect returns "SELECT columns" evaluated once the
// transaction-scoped locks of as many keys, passed as $1, $2, …, are held;
// the columns' own parameters follow them. Several keys must come sorted, so
// that two transactions taking the same pair cannot deadlock.
func xactLockedSelect(columns string, keys int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(columns)
	b.WriteString("\n  FROM ")
	for i := 1; i <= keys; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		n := strconv.Itoa(i)
		b.WriteString(xactLock("$" + n))
		b.WriteString(" AS l" + n)
	}
	return b.String()
}

// Session locks: a schema run holds its schema's lock on a pinned
// connection across several statements and transactions. Migration runs
// hold it exclusively; work across tenants (ForEachTenant, QueryTenants,
// Export) holds it shared, so work in one tenant does not wait for other
// work there, while a migration, a rename or a drop of that tenant waits for
// it (and it for them).

// lockFn names the session lock function of one mode, e.g.
// "pg_try_advisory_lock" or, shared, "pg_try_advisory_lock_shared".
func lockFn(base string, shared bool) string {
	if shared {
		base += "_shared"
	}
	return "pg_catalog." + base
}

// sessionTryLock is the FROM item that tries to take the lock of $1 for
// the session, in the given mode, as column l (true when taken). With
// release, the session's previous lock (its key is the statement's last
// parameter, $n) is given back in the same statement.
func sessionTryLock(release bool, shared bool, n int) string {
	from := lockFn("pg_try_advisory_lock", shared) + "(" + keyHash("$1") + ") AS l"
	if release {
		from = lockFn("pg_advisory_unlock", shared) + "(" + keyHash("$"+strconv.Itoa(n)) + ") AS u, " + from
	}
	return from
}

// sessionUnlock gives back the session lock of $1, in the given mode.
func sessionUnlock(shared bool) string {
	return lockFn("pg_advisory_unlock", shared) + "(" + keyHash("$1") + ")"
}

// xactTryLock tries to take the lock of arg until the transaction ends; it
// is true when taken. A spare is claimed under it, so two claimers never
// take one spare, and a claimer never waits for a spare being migrated.
func xactTryLock(arg string) string {
	return "pg_catalog.pg_try_advisory_xact_lock(" + keyHash(arg) + ")"
}

// sparesLockKey is the text of the lock held while a fleet's spares are
// counted, created and dropped ([Migrator.EnsureSpares]), so that two runs
// at once do not both top the pool up.
func sparesLockKey(fleet string) string { return "tenantpath.migrator:spares:" + fleet }
