#!/usr/bin/env bash
# What `make image` and the image's tests need beyond install-deps.sh, on
# Debian 12: buildah and podman to build and run the image without a Docker
# daemon (runc as their runtime, uidmap for podman), and debootstrap for base
# images where no registry is reachable. Idempotent; as root or through sudo.
set -euo pipefail
bash "$(dirname "$0")/install-packages.sh" buildah podman runc uidmap debootstrap
