#!/usr/bin/env bash
# The runner links libpq statically (ARCHITECTURE.md, "Start-up"). Debian's
# libpq.a (libpq-dev) needs two more archives from the same PostgreSQL build,
# libpgcommon_shlib.a and libpgport_shlib.a, which only postgresql-server-dev-N
# ships, and that package pulls in clang and LLVM. This script downloads that
# package at exactly the installed libpq-dev's version and extracts just the
# two archives, plus a `version` file CMake checks against libpq-dev.
#   fetch-libpq-archives.sh [DEST]   (default /usr/local/lib/schemagate/libpq)
# Idempotent: does nothing when DEST already matches the installed libpq-dev.
set -euo pipefail

dest=${1:-/usr/local/lib/schemagate/libpq}
version=$(dpkg-query -W -f='${Version}' libpq-dev 2>/dev/null || true)
if [ -z "$version" ]; then
  echo "fetch-libpq-archives: libpq-dev is not installed; run scripts/install-deps.sh" >&2
  exit 2
fi
if [ -f "$dest/version" ] && [ "$(cat "$dest/version")" = "$version" ] &&
   [ -f "$dest/libpgcommon_shlib.a" ] && [ -f "$dest/libpgport_shlib.a" ]; then
  exit 0
fi

major=${version%%.*}
package=postgresql-server-dev-$major
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Let apt download as its sandbox user (else it warns and downloads as root).
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$work"; fi
if ! (cd "$work" && apt-get download -q "$package=$version" >"$work/apt.log" 2>&1); then
  # A fresh machine may not have package lists yet.
  apt-get update -qq
  (cd "$work" && apt-get download -q "$package=$version" >"$work/apt.log" 2>&1) || {
    cat "$work/apt.log" >&2
    echo "fetch-libpq-archives: could not download $package $version, which must match libpq-dev $version;" \
         "upgrade both with 'apt-get install libpq-dev' and run this script again" >&2
    exit 1
  }
fi
dpkg-deb -x "$work"/"$package"_*.deb "$work/x"
lib="$work/x/usr/lib/postgresql/$major/lib"
mkdir -p "$dest"
install -m 644 "$lib/libpgcommon_shlib.a" "$lib/libpgport_shlib.a" "$dest/"
echo "$version" >"$dest/version"
echo "fetch-libpq-archives: libpgcommon_shlib.a and libpgport_shlib.a of PostgreSQL $version in $dest" >&2
