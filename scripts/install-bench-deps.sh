#!/usr/bin/env bash
# What `make bench` needs beyond the build and test dependencies: sqitch.
set -euo pipefail
if command -v sqitch >/dev/null 2>&1 && dpkg-query -W libdbd-pg-perl >/dev/null 2>&1; then exit 0; fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends sqitch libdbd-pg-perl >/dev/null
