#!/usr/bin/env bash
# Runs the commands README.md shows: the CLI quick start against a real
# throwaway PostgreSQL, the Helm commands through `helm template` (no cluster
# here), and the kubectl commands against the test API server.
set -uo pipefail
bin=${SCHEMAGATE_BIN:?}; src=${SCHEMAGATE_SOURCE_DIR:?}
tools=$(dirname "$bin")/tests
work=$(mktemp -d)
chmod 755 "$work"  # the server runs as postgres when we are root
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bash "$src/scripts/throwaway-pg.sh" stop "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# The ```sh block that follows a heading.
block() {
  awk -v h="$1" '$0 == h {f=1; next} f && /^```sh/ {b=1; next} b && /^```/ {exit} b {print}' "$src/README.md" |
    grep -v '^#' | sed 's/[[:space:]]\{2,\}#.*$//' | awk '/\\$/ {sub(/\\$/, ""); printf "%s", $0; next} {print}'
}

# --- CLI quick start, on a scratch copy of the bundled migrations.
server=$(bash "$src/scripts/throwaway-pg.sh" start "$work/pg") || { bad "throwaway PostgreSQL"; exit 1; }
psql -X -q -d "$server" -c 'CREATE DATABASE ocr_identity_db'
url=${server%/postgres}/ocr_identity_db
mkdir -p "$work/cli" && cp -r "$src/migrations" "$src/schemagate.yaml" "$work/cli/"
cli=$(block "## Quick start (CLI)")
if [ "$(echo "$cli" | grep -c '^schemagate ')" -ge 5 ]; then ok "found the CLI quick start"; else bad "CLI quick start not found"; fi
while IFS= read -r line; do
  [ -z "$line" ] && continue
  case "$line" in
    export\ DATABASE_URL=*) line="export DATABASE_URL=$url" ;;
  esac
  if out=$(cd "$work/cli" && PATH="$(dirname "$bin"):$PATH" && export PATH DATABASE_URL="$url" &&
           eval "$line" 2>&1); then
    ok "$line"
  else
    bad "$line: $out"
  fi
done <<<"$cli"
if [ -f "$work/cli/migrations/versions/0006_add_new_feature.sql" ]; then ok "create wrote 0006_add_new_feature.sql"; else bad "create did not write the file the README names"; fi

# --- Helm quick start: the same arguments through helm template.
while IFS= read -r line; do
  [ -z "$line" ] && continue
  t=$(echo "$line" | sed -e 's/^helm install /helm template /' -e 's/^helm upgrade /helm template /' \
                         -e 's/ --create-namespace//' -e 's/ --reuse-values//')
  if out=$(cd "$src" && eval "$t" 2>&1 >/dev/null); then ok "$line"; else bad "$line: $out"; fi
done <<<"$(block "## Quick start (Helm)")"

# --- kubectl commands against the test API server, exactly as written: a
# new cluster (no CRD yet), validating as kube-apiserver does.
"$tools/sg-test-apiserver" --without-crd --kubeconfig-out "$work/kubeconfig" >/dev/null 2>"$work/apiserver.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/kubeconfig" ] && break; sleep 0.1; done
while IFS= read -r line; do
  [ -z "$line" ] && continue
  if out=$(cd "$src" && HOME=$work KUBECONFIG=$work/kubeconfig eval "$line" 2>&1); then ok "$line"; else bad "$line: $out"; fi
done <<<"$(block "## Quick start (kustomize / GitOps)"; block "## Quick start (Kubernetes operator)" | grep '^kubectl ')"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
