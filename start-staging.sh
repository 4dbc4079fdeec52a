#!/usr/bin/env bash
# Starts the staging environment; includes automatic migrations: the migrate
# service runs 'schemagate upgrade head' and the app starts only after it
# succeeded.
set -euo pipefail
cd "$(dirname "$0")"
compose=(docker-compose -f docker-compose.staging.yml)
"${compose[@]}" up -d
"${compose[@]}" logs migrate
"${compose[@]}" run --rm migrate current
