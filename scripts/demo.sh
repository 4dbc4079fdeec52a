#!/usr/bin/env bash
# make demo: a throwaway PostgreSQL, the bundled OCR identity migrations to
# head, then the status. Everything is removed on exit.
set -euo pipefail
bin=${1:-build/schemagate}
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/schemagate-demo.XXXXXX")
trap 'bash "$here/scripts/throwaway-pg.sh" stop "$dir"' EXIT

server=$(bash "$here/scripts/throwaway-pg.sh" start "$dir")
psql -X -q -d "$server" -c 'CREATE DATABASE ocr_identity_db'
url=${server%/postgres}/ocr_identity_db
export DATABASE_URL=$url
cd "$here"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step "$bin" check --log-format text
step "$bin" lint --log-format text
step "$bin" check --schema --dev-url "$server" --log-format text
step "$bin" upgrade head --log-format text
step "$bin" current -v --log-format text
step "$bin" history -i --log-format text
step "$bin" upgrade head --log-format text
psql -X -d "$url" -c '\dt'
