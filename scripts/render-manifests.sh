#!/usr/bin/env bash
# Renders manifests/ (plain YAML for GitOps) from the Helm chart, so the two
# can never drift: `make manifests` writes them, a test checks they match.
#   render-manifests.sh [OUT_DIR]   (default: manifests)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/manifests}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
helm template schemagate "$here/charts/schemagate" --namespace schemagate-system --output-dir "$work" >/dev/null
mkdir -p "$out/crd" "$out/operator"
cp "$here/charts/schemagate/crds/schemagate.io_migrations.yaml" "$out/crd/schemagate.io_migrations.yaml"
for f in serviceaccount rbac deployment service; do
  {
    echo "# Rendered from charts/schemagate by 'make manifests'; edit the chart, not this file."
    sed '/^# Source: /d' "$work/schemagate/templates/$f.yaml"
  } >"$out/operator/$f.yaml"
done
cat >"$out/namespace.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: schemagate-system
  labels:
    pod-security.kubernetes.io/enforce: restricted
YAML
cat >"$out/kustomization.yaml" <<'YAML'
# The operator without Helm: kubectl apply -k manifests/ (or point Argo CD / Flux here).
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: schemagate-system
resources:
  - namespace.yaml
  - crd/schemagate.io_migrations.yaml
  - operator/serviceaccount.yaml
  - operator/rbac.yaml
  - operator/deployment.yaml
  - operator/service.yaml
YAML
