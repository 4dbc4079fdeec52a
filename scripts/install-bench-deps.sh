#!/usr/bin/env bash
# What `make bench` needs beyond the build and test dependencies: sqitch, and
# GNU time for each tool's own peak RSS.
set -euo pipefail
exec bash "$(dirname "$0")/install-deps.sh" sqitch libdbd-pg-perl time
