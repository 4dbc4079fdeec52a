#!/usr/bin/env bash
# The built image, run as Kubernetes runs the runner pod: as user 65532 with a
# read-only root filesystem. Its runner applies the bundled migrations to a
# real (throwaway) PostgreSQL, `check --schema` compares them with the bundled
# declared schema, `schemagate operator --help` starts, and every shared
# library of both binaries resolves inside the image.
#   image_smoke.sh [IMAGE]    (default schemagate:<chart appVersion>)
# Runs the image with podman, or with Docker when only Docker's store has it.
# Needs PostgreSQL (scripts/install-deps.sh).
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$src/charts/schemagate/Chart.yaml")
image=${1:-schemagate:$version}
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# podman with runc, not crun, and explicit process limits: where cgroups are
# hybrid and RLIMIT_NOFILE cannot be raised (as on the CI machines) the
# defaults fail.
if command -v podman >/dev/null && podman image exists "$image" 2>/dev/null; then
  engine=(podman --runtime runc)
elif command -v docker >/dev/null && docker image inspect "$image" >/dev/null 2>&1; then
  engine=(docker)
else
  echo "image_smoke: no image $image (make image builds it)" >&2
  exit 2
fi
# The database listens on 127.0.0.1, so the container shares the host network.
run() {
  "${engine[@]}" run --rm --network host --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
    --user 65532 --read-only "$@"
}
# expect DESCRIPTION WANT_EXIT OUTPUT_PATTERN COMMAND...: the exit code is
# WANT_EXIT and the output (stdout and stderr) matches the extended regex.
expect() {
  local what=$1 want=$2 pattern=$3; shift 3
  local out code
  out=$("$@" 2>&1); code=$?
  if [ "$code" -ne "$want" ]; then
    bad "$what: exit $code, want $want"; echo "$out" | tail -20 | sed 's/^/    /'
  elif ! grep -qE "$pattern" <<<"$out"; then
    bad "$what: output does not match /$pattern/"; echo "$out" | tail -20 | sed 's/^/    /'
  else
    ok "$what"
  fi
}

inspect() { "${engine[0]}" image inspect --format "$1" "$image"; }
echo "image: $image, $(inspect '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}')"
expect "the image runs as user 65532" 0 '^65532:65532$' inspect '{{.Config.User}}'
expect "the image is labelled with the chart's appVersion" 0 "^$version\$" \
  inspect '{{index .Config.Labels "org.opencontainers.image.version"}}'

pg=$(mktemp -d)
trap 'bash "$src/scripts/throwaway-pg.sh" stop "$pg"' EXIT
url=$(bash "$src/scripts/throwaway-pg.sh" start "$pg") || { echo "image_smoke: PostgreSQL did not start" >&2; exit 1; }
psql -XAtq "$url" -c 'CREATE DATABASE smoke' >/dev/null
db=${url%/postgres}/smoke

head=$(sed -n 's/^-- revision: *//p' "$src"/migrations/versions/*.sql | sort | tail -1)
expect "upgrade head applies the bundled migrations" 0 '' run --env DATABASE_URL="$db" "$image" upgrade head
expect "the database is at the bundled head ($head)" 0 "^$head\$" psql -XAtq "$db" -c 'SELECT version_num FROM alembic_version'
expect "current reports head" 0 "$head \\(head\\)" run --env DATABASE_URL="$db" "$image" current
expect "a second upgrade is a no-op" 0 '' run --env DATABASE_URL="$db" "$image" upgrade head
expect "check --schema: the migrations match the bundled schema/" 0 '' \
  run "$image" check --schema --dev-url "$url"
expect "lint parses with PostgreSQL's parser inside the image (no error-level findings)" 0 \
  'lint: 0 error\(s\)' run "$image" lint
expect "check reads every statement with the parser inside the image" 0 'every statement of [0-9]+ migration' \
  run --env DATABASE_URL="$db" "$image" check
expect "schemagate operator --help" 0 'kubeconfig' run "$image" operator --help
expect "the root filesystem is read-only" 1 'Read-only file system' \
  run --entrypoint /bin/sh "$image" -c 'touch /migrations/x'
# resolves BIN: ldd of /usr/local/bin/BIN inside the image finds every library.
resolves() {
  local out
  out=$(run --entrypoint ldd "$image" "/usr/local/bin/$1") || return 1
  echo "$out"
  ! grep -q 'not found' <<<"$out"
}
for bin in schemagate schemagate-operator; do
  expect "ldd $bin resolves every library in the image" 0 'libc\.so' resolves "$bin"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
