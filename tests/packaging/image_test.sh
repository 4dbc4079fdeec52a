#!/usr/bin/env bash
# The runtime image installs every shared library the binary needs: each
# library ldd resolves must come from a package of the Dockerfile's runtime
# stage or one of their dependencies. Checked against this machine's Debian
# 12, without building the image; image_smoke.sh (make image-test) runs ldd
# inside the built image too.
set -uo pipefail
bin=${SCHEMAGATE_BIN:?}; src=${SCHEMAGATE_SOURCE_DIR:?}
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

runtime=$(awk '/^FROM .* AS runtime/{r=1} r && /apt-get install/{i=1} i{print} i && !/\\$/{exit}' "$src/Dockerfile" |
  sed 's/\\$//' | tr -s ' ' '\n' | grep -E '^lib|^ca-certificates' | sort -u)
check "the runtime stage lists its packages" test -n "$runtime"
read -r -a runtime_packages <<<"$(echo "$runtime" | tr '\n' ' ')"

# Every runtime package and everything it depends on.
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances "${runtime_packages[@]}" 2>/dev/null | grep -v '^ ' | sed 's/:amd64$//' | sort -u)
for essential in libc6 libgcc-s1 libstdc++6; do closure+=$'\n'$essential; done

operator_bin="$(dirname "$bin")/schemagate-operator"
check "schemagate-operator is built beside schemagate" test -x "$operator_bin"
# The runner starts on every pod start: no C++ shared library, no cpprestsdk.
runner_links_no_cxx_library() {
  ! ldd "$bin" | awk '/=>/ {print $1}' | grep -qE '^lib(stdc\+\+|cpprest|spdlog|fmt)'
}
check "the runner links no libstdc++, cpprestsdk, spdlog or fmt" runner_links_no_cxx_library
# libpq is linked in: its Kerberos and LDAP libraries load only when needed.
check "the runner links libpq statically" bash -c "! ldd '$bin' | grep -q 'libpq\.so'"
check "the runner does not link Kerberos or LDAP at start" bash -c "! ldd '$bin' | grep -qE 'libgssapi|libldap|libkrb5'"
check "the image copies both binaries" \
  grep -q '^COPY --from=build /build/schemagate /build/schemagate-operator /usr/local/bin/$' "$src/Dockerfile"

# in_image LABEL PATH: the package that owns PATH is installed by the runtime stage.
in_image() {
  local label=$1 path=$2 pkg=""
  if [ -n "$path" ]; then
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
    [ -z "$pkg" ] && pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
  fi
  if [ -z "$pkg" ]; then
    bad "$label (${path:-not installed here}) belongs to no package"
  elif grep -qx "$pkg" <<<"$closure"; then
    ok "$label from $pkg"
  else
    bad "$label comes from $pkg, which the runtime stage does not install"
  fi
}

while read -r lib path; do
  [ -n "$path" ] && in_image "$lib" "$path"
done < <(ldd "$bin" "$operator_bin" | awk '/=>/ {print $1, $3}' | sort -u)

# The libraries libpq_on_demand.cc opens on first use must be in the image too.
on_demand=$(grep -oE 'Open\("lib[^"]+"\)' "$src/src/db/libpq_on_demand.cc" | sed -E 's/Open\("(.*)"\)/\1/')
check "the on-demand libraries are found in the source" test "$(wc -w <<<"$on_demand")" -eq 2
for soname in $on_demand; do
  in_image "$soname (loaded on demand)" "$(ldconfig -p | awk -v s="$soname" '$1 == s {print $NF; exit}')"
done

check "runs as a numeric non-root user" grep -q '^USER [1-9][0-9]*:[0-9]\+$' "$src/Dockerfile"
check "ENTRYPOINT is the binary (no shell needed)" grep -q '^ENTRYPOINT \["schemagate"\]' "$src/Dockerfile"
check "OCI labels" grep -q 'org.opencontainers.image.title' "$src/Dockerfile"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
