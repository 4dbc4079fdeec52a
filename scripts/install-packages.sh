#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet
# (install-deps.sh and install-image-deps.sh list them). Idempotent: nothing
# runs, not even apt-get update, when all are present. As root or through sudo.
set -euo pipefail

missing=()
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1; then
  sudo_cmd=(sudo)
else
  echo "install-packages: need root or sudo to install ${missing[*]}" >&2
  exit 2
fi
echo "install-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
