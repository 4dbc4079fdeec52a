#!/usr/bin/env bash
# make operator-demo: the whole operator loop on one machine, no cluster.
# Starts a throwaway PostgreSQL, the test API server, the kubelet simulator
# and the operator, applies the sample Migration with kubectl and shows
# `kubectl get mig` going to Ready. Everything stops on exit.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/schemagate-operator-demo.XXXXXX")
chmod 755 "$dir"  # the server runs as postgres when we are root
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$here/scripts/throwaway-pg.sh" stop "$dir/pg"
  rm -rf "$dir"
}
trap cleanup EXIT

server=$(bash "$here/scripts/throwaway-pg.sh" start "$dir/pg")
psql -X -q -d "$server" -c 'CREATE DATABASE ocr_identity_db'
url=${server%/postgres}/ocr_identity_db

export KUBECONFIG=$dir/kubeconfig HOME=$dir
"$build/tests/sg-test-apiserver" --kubeconfig-out "$KUBECONFIG" >"$dir/apiserver.url" 2>"$dir/apiserver.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
api=$(head -1 "$dir/apiserver.url")
"$build/tests/sg-kubelet-sim" --server "$api" --binary "$build/schemagate" --map "/migrations=$here/migrations" \
  --work-dir "$dir" 2>"$dir/kubelet.log" &
pids+=($!)
"$build/schemagate" operator --leader-elect=false --metrics-addr 127.0.0.1:0 --health-addr off --log-format text \
  2>"$dir/operator.log" &
pids+=($!)

sed "s|url: postgresql://.*|url: $url|" "$here/manifests/samples/ocr-identity-migration.yaml" >"$dir/sample.yaml"
printf '\n\033[1m$ kubectl apply -f manifests/samples/ocr-identity-migration.yaml\033[0m\n'
kubectl apply -f "$dir/sample.yaml"
printf '\n\033[1m$ kubectl get mig -n ocr\033[0m\n'
for _ in $(seq 100); do
  if kubectl get mig -n ocr ocr-identity -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -q True; then
    break
  fi
  sleep 0.2
done
kubectl get mig -n ocr
printf '\n\033[1m$ kubectl get mig ocr-identity -n ocr -o yaml   (status)\033[0m\n'
kubectl get mig ocr-identity -n ocr -o jsonpath='{.status}' | python3 -m json.tool
printf '\n\033[1m--- operator log ---\033[0m\n'
cat "$dir/operator.log"
printf '\n\033[1m--- kubelet simulator log ---\033[0m\n'
cat "$dir/kubelet.log"
