#!/usr/bin/env bash
# Every YAML file lints, every shell script passes shellcheck, every compose
# file is valid for docker-compose.
set -uo pipefail
src=${SCHEMAGATE_SOURCE_DIR:?}
cd "$src" || exit 1
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

mapfile -t yaml < <(git ls-files '*.yml' '*.yaml' ':!:charts/schemagate/templates/*' 2>/dev/null || find . -name '*.y*ml')
if out=$(yamllint -s "${yaml[@]}" 2>&1); then ok "yamllint on ${#yaml[@]} files"; else bad "yamllint: $out"; fi

mapfile -t scripts < <(git ls-files '*.sh' .ci/run 2>/dev/null)
if out=$(shellcheck "${scripts[@]}" 2>&1); then ok "shellcheck on ${#scripts[@]} scripts"; else bad "shellcheck: $out"; fi

for f in docker-compose.dev.yml docker-compose.staging.yml docker-compose.prod.yml; do
  if out=$(POSTGRES_PASSWORD=example DATABASE_URL=postgresql://u@db/x docker-compose -f "$f" config -q 2>&1); then
    ok "docker-compose config $f"
  else
    bad "docker-compose config $f: $out"
  fi
done
# The compose files must refuse to start without their secrets.
if docker-compose -f docker-compose.prod.yml config -q >/dev/null 2>&1 </dev/null; then
  bad "docker-compose.prod.yml renders without DATABASE_URL"
else
  ok "docker-compose.prod.yml requires DATABASE_URL"
fi
for env in dev staging prod; do
  if grep -q "docker-compose.$env.yml" "start-$env.sh" && [ -x "start-$env.sh" ]; then ok "start-$env.sh"; else bad "start-$env.sh"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
