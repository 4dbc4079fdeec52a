#!/usr/bin/env bash
# The Debian base images the Dockerfile names (debian:12, debian:12-slim),
# for machines that cannot reach a registry: each one missing from the local
# image store is pulled if a registry answers, else built here with
# debootstrap from the Debian mirror this machine's apt uses and imported
# under the name the Dockerfile uses. Images already present are left alone.
#   make-base-images.sh ENGINE [DOCKERFILE]   ENGINE: docker, buildah or podman
# Needs root (debootstrap) and, for buildah, podman too (podman import).
set -euo pipefail

engine=${1:?usage: make-base-images.sh docker|buildah|podman [Dockerfile]}
dockerfile=${2:-$(dirname "$0")/../Dockerfile}

# The images of FROM lines that are not earlier stages.
mapfile -t bases < <(awk 'toupper($1) == "FROM" {
    img = $2; for (i = 3; i <= NF; i++) if (toupper($i) == "AS") stages[$(i + 1)] = 1
    if (!(img in stages)) print img }' "$dockerfile" | sort -u)

exists() {
  case "$engine" in
    docker) docker image inspect "$1" >/dev/null 2>&1 ;;
    *) podman image exists "$1" 2>/dev/null ;;
  esac
}
pull() {
  case "$engine" in
    docker) timeout 120 docker pull -q "$1" ;;
    *) timeout 120 podman pull -q "$1" ;;
  esac
}
# import NAME DIR: DIR's tree as the image NAME, running bash like Debian's.
import() {
  local name=$1 dir=$2
  case "$engine" in
    docker) tar --numeric-owner -C "$dir" -c . | docker import --change 'CMD ["bash"]' - "$name" >/dev/null ;;
    # Fully qualified, as the short name in FROM resolves for buildah and podman.
    *) tar --numeric-owner -C "$dir" -c . | podman import -q --change 'CMD ["bash"]' - "docker.io/library/$name" >/dev/null ;;
  esac
}

missing=()
for image in "${bases[@]}"; do
  if exists "$image"; then
    continue
  elif pull "$image" >/dev/null 2>&1; then
    echo "make-base-images: pulled $image" >&2
  else
    missing+=("$image")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

# apt_uri SUITE: the first URI apt here fetches SUITE's main component from
# (one-line .list and deb822 .sources files alike).
apt_uri() {
  local files=()
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  awk -v suite="$1" '
    FNR == 1 { flush(); }
    function flush() {
      if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " suite " ") && (" " comps " ") ~ / main /) {
        split(uris, u, " "); if (!found) { print u[1]; found = 1 }
      }
      types = uris = suites = comps = ""; enabled = "yes"
    }
    /^[ \t]*$/ { flush(); next }
    /^[ \t]*#/ { next }
    /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0; next }
    /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0; next }
    /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0; next }
    /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0; next }
    /^Enabled:/ { enabled = $2; next }
    $1 == "deb" {
      i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      types = "deb"; uris = $i; suites = $(i + 1); comps = ""
      for (j = i + 2; j <= NF; j++) comps = comps " " $j
      flush()
    }
    END { flush() }' "${files[@]}"
}

suite=bookworm  # Debian 12, the only release the Dockerfile builds on
for image in "${missing[@]}"; do
  case "$image" in
    debian:12 | debian:12-slim) ;;
    *) echo "make-base-images: $image is not in the local store, cannot be pulled, and is not a Debian 12 image" >&2; exit 1 ;;
  esac
done
mirror=$(apt_uri "$suite")
if [ -z "$mirror" ]; then
  echo "make-base-images: apt here has no source for $suite main; cannot debootstrap" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "make-base-images: needs debootstrap (scripts/install-image-deps.sh)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
start=$SECONDS
echo "make-base-images: debootstrap $suite from $mirror for ${missing[*]}" >&2
if ! debootstrap --variant=minbase --components=main "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -30 "$work/debootstrap.log" >&2
  [ -f "$root/debootstrap/debootstrap.log" ] && tail -30 "$root/debootstrap/debootstrap.log" >&2
  exit 1
fi
# The image's apt uses the same Debian sources as apt here, so the build
# stage gets the package versions this machine has (libpq-dev and the
# archives fetch-libpq-archives.sh matches to it).
{
  echo "deb $mirror $suite main"
  for extra in "$suite-updates" "$suite-security"; do
    uri=$(apt_uri "$extra")
    if [ -n "$uri" ]; then echo "deb $uri $extra main"; fi
  done
} >"$root/etc/apt/sources.list"
proxy=$(apt-config dump Acquire::http::Proxy Acquire::https::Proxy 2>/dev/null | grep -i '::proxy "' || true)
if [ -n "$proxy" ]; then echo "$proxy" >"$root/etc/apt/apt.conf.d/01proxy"; fi
# apt and dpkg as in Debian's images: downloaded packages and apt's caches
# are deleted after each run, no translations are fetched, dpkg does not sync.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
echo 'force-unsafe-io' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"  # no fsync per file in a build
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
  "$root"/var/log/* "$root"/tmp/*
: >"$root/etc/hostname"
echo "make-base-images: debootstrap took $((SECONDS - start)) s" >&2

if [[ " ${missing[*]} " == *" debian:12 "* ]]; then
  import debian:12 "$root"
  echo "make-base-images: imported debian:12" >&2
fi
if [[ " ${missing[*]} " == *" debian:12-slim "* ]]; then
  # Slim as Debian's own: no documentation, manuals or translations, now or
  # from packages installed later.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* "$root"/usr/share/info/* \
    "$root"/usr/share/lintian/* "$root"/usr/share/locale/*
  import debian:12-slim "$root"
  echo "make-base-images: imported debian:12-slim" >&2
fi
echo "make-base-images: done in $((SECONDS - start)) s" >&2
