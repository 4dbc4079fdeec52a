#!/usr/bin/env bash
# squawk, the migration linter docs/lint.md sets `schemagate lint` beside, is
# not a Debian package. The npm package squawk-cli ships its prebuilt binary
# as an optional dependency per platform (@squawk-cli/linux-x64, ...): install
# the pinned version into a tools directory, link the binary onto PATH as
# `squawk` when no squawk is there, and print the binary's path on stdout
# (scripts and tests use that path, whatever else PATH holds).
# Idempotent: when that version is installed it only prints the path.
set -euo pipefail
version=2.66.0
tools=${SCHEMAGATE_TOOLS:-/usr/local/lib/schemagate-tools}
bindir=${SCHEMAGATE_BINDIR:-/usr/local/bin}
dir=$tools/squawk-$version
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

installed() {  # the native binary npm put under $dir, if any
  find "$dir/node_modules/@squawk-cli" -path '*/bin/squawk' -type f 2>/dev/null | head -n 1 || true
}

bin=$(installed)
if [ -z "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "squawk $version" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  "${sudo_cmd[@]}" mkdir -p "$dir"
  "${sudo_cmd[@]}" npm install --silent --no-audit --no-fund --prefix "$dir" "squawk-cli@$version" >/dev/null
  bin=$(installed)
fi
if [ -z "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "squawk $version" ]; then
  echo "install-squawk: squawk-cli@$version installed no working binary for this platform under $dir" >&2
  exit 1
fi

if ! command -v squawk >/dev/null 2>&1; then
  "${sudo_cmd[@]}" ln -sf "$bin" "$bindir/squawk"
fi
if [ "$(squawk --version 2>/dev/null)" != "squawk $version" ]; then
  echo "install-squawk: the squawk on PATH is not $version ($(command -v squawk)); use $bin" >&2
fi
echo "$bin"
