#!/usr/bin/env bash
# The Argo CD health check under a real Lua 5.1 interpreter (Argo CD embeds
# a Lua 5.1 implementation and hands the object in as the global `obj`), on a
# fixture for every state the operator writes.
set -uo pipefail
src=${SCHEMAGATE_SOURCE_DIR:?}
script=$src/manifests/argocd/health-migration.lua
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

if ! command -v lua5.1 >/dev/null; then
  bad "lua5.1 is not installed (scripts/install-deps.sh installs it)"
  echo "$pass passed, $fail failed"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each fixture becomes a Lua program: obj as a table literal, then the check.
python3 - "$src/tests/packaging/argocd/fixtures.yaml" "$work" <<'PY'
import json, sys, yaml
fixtures = yaml.safe_load(open(sys.argv[1]))
def lua(v):
    if isinstance(v, dict):
        return "{" + ", ".join("[%s] = %s" % (json.dumps(k), lua(x)) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v)  # a Lua string literal for the ASCII fixtures
for i, f in enumerate(fixtures):
    with open("%s/%02d.lua" % (sys.argv[2], i), "w") as out:
        out.write("obj = %s\n" % lua(f["obj"]))
    with open("%s/%02d.expected" % (sys.argv[2], i), "w") as out:
        out.write("%s\n%s\n%s\n" % (f["name"], f["health"], f["message"]))
PY

count=0
for prog in "$work"/*.lua; do
  count=$((count + 1))
  { read -r name; read -r want_status; read -r want_message; } <"${prog%.lua}.expected"
  got=$(lua5.1 -e "$(cat "$prog")" -e "
    local check = assert(loadfile('$script'))
    local hs = check()
    print(hs.status)
    print(hs.message)" 2>&1)
  got_status=$(sed -n 1p <<<"$got"); got_message=$(sed -n '2,$p' <<<"$got")
  if [ "$got_status" = "$want_status" ] && [ "$got_message" = "$want_message" ]; then
    ok "$name: $got_status"
  else
    bad "$name: want '$want_status' / '$want_message', got '$got_status' / '$got_message'"
  fi
done
if [ "$count" -ge 10 ]; then ok "$count fixtures"; else bad "only $count fixtures"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
