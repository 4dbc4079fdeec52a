#!/usr/bin/env bash
# Runs after the suite: no planted secret (every one starts "sg-planted-":
# the superuser URL's password, the password role's, the API token) may
# appear in anything the product printed, in any log, error, report or --sql
# output, or in any status, Event or Job it wrote to the test API server.
set -euo pipefail
dir=${1:?usage: secrets_grep.sh OUTPUT_DIR}
shopt -s nullglob
files=("$dir"/*.log)
if [ "${#files[@]}" -eq 0 ]; then
  echo "secrets_grep: no outputs under $dir: run it with the suite (ctest), not alone" >&2
  exit 1
fi
bytes=$(cat "${files[@]}" | wc -c)
echo "secrets_grep: ${#files[@]} files, $bytes bytes of product output and API objects"
# Every superuser URL the tests hand the product carries a planted password:
# prove the product ran, so a grep that finds nothing means something.
runs=$(cat "${files[@]}" | grep -c '^### schemagate ' || true)
if [ "$runs" -eq 0 ]; then
  echo "secrets_grep: no schemagate run recorded; the planted secrets never reached the product" >&2
  exit 1
fi
echo "secrets_grep: $runs schemagate runs recorded"
if hits=$(grep -n -F 'sg-planted-' "${files[@]}"); then
  echo "secrets_grep: planted secrets found in product output:" >&2
  echo "$hits" | head -20 >&2
  exit 1
fi
echo "secrets_grep: no planted secret in any output"
