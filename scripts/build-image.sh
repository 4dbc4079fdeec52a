#!/usr/bin/env bash
# Builds the image (make image), with a Docker daemon when one answers, else
# daemonless with buildah (or podman build), on base images from
# make-base-images.sh when no registry has them. The version is the chart's
# appVersion, as the image's tag and its VERSION build argument.
#   build-image.sh [TAG]      (default schemagate:<appVersion>)
# SCHEMAGATE_IMAGE_ENGINE=docker|buildah|podman chooses the engine.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' charts/schemagate/Chart.yaml)
if [ -z "$version" ]; then
  echo "build-image: no appVersion in charts/schemagate/Chart.yaml" >&2
  exit 2
fi
tag=${1:-schemagate:$version}

engine=${SCHEMAGATE_IMAGE_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
  else
    engine=buildah
  fi
fi
# Daemonless: buildah, podman (to import base images and run the image) and
# debootstrap from Debian, installed when missing.
if [ "$engine" != docker ]; then bash scripts/install-image-deps.sh; fi

start=$SECONDS
bash scripts/make-base-images.sh "$engine" Dockerfile
bases=$((SECONDS - start))
echo "build-image: building $tag with $engine" >&2
case "$engine" in
  docker) docker build --build-arg "VERSION=$version" -t "$tag" . ;;
  # chroot isolation: no user namespaces or cgroups needed (none here in
  # containers); no intermediate layers: a CI build starts from nothing, and
  # committing each step costs more than it saves.
  buildah) buildah bud --isolation chroot --pull=never --layers=false --build-arg "VERSION=$version" -t "$tag" . ;;
  podman) podman build --isolation chroot --pull=never --layers=false --build-arg "VERSION=$version" -t "$tag" . ;;
  *) echo "build-image: unknown engine $engine" >&2; exit 2 ;;
esac
echo "build-image: $tag built with $engine in $((SECONDS - start)) s (base images $bases s)" >&2
