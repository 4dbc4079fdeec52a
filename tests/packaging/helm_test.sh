#!/usr/bin/env bash
# The Helm chart: lint, render with every documented values combination, and
# check what a careful platform team would check in the rendered objects.
set -uo pipefail
src=${SCHEMAGATE_SOURCE_DIR:?}
chart=$src/charts/schemagate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

if helm lint --strict "$chart" >"$work/lint" 2>&1; then ok "helm lint --strict"; else bad "helm lint --strict: $(cat "$work/lint")"; fi

render() {  # name, helm args...
  local name=$1; shift
  if helm template rel "$chart" --namespace ops --include-crds "$@" >"$work/$name.yaml" 2>"$work/$name.err"; then
    ok "helm template ($name)"
  else
    bad "helm template ($name): $(cat "$work/$name.err")"
  fi
}
render default
render replicas --set replicaCount=3 --set leaderElection.enabled=false
render namespaced --set 'watchNamespaces={ocr}'
render monitor --set metrics.serviceMonitor.enabled=true
render nometrics --set metrics.enabled=false
render migration --set migration.enabled=true --set migration.database.secretName=ocr-db

# Rendering that must fail, with a message that says why.
if helm template rel "$chart" --set migration.enabled=true >/dev/null 2>"$work/err1"; then
  bad "a Migration without a Secret name must not render"
else
  if grep -q "secretName" "$work/err1"; then ok "missing secretName is refused"; else bad "unclear error: $(cat "$work/err1")"; fi
fi
if helm template rel "$chart" --set 'watchNamespaces={a,b}' >/dev/null 2>&1; then
  bad "two watch namespaces must be refused"
else
  ok "two watch namespaces are refused"
fi
if helm template rel "$chart" --set replicaCount=0 >/dev/null 2>&1; then bad "replicaCount 0 accepted"; else ok "values.schema.json rejects replicaCount 0"; fi
if helm template rel "$chart" --set nosuchvalue=1 >/dev/null 2>&1; then bad "unknown value accepted"; else ok "values.schema.json rejects unknown values"; fi

if python3 - "$work" <<'PY'; then ok "rendered objects"; else bad "rendered objects (see above)"; fi
import sys, yaml
work = sys.argv[1]
def docs(name):
    return [d for d in yaml.safe_load_all(open(f"{work}/{name}.yaml")) if d]
def kinds(ds, kind):
    return [d for d in ds if d["kind"] == kind]
failures = 0
def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures += 1

d = docs("default")
dep = kinds(d, "Deployment")[0]
pod = dep["spec"]["template"]["spec"]
c = pod["containers"][0]
sc = c["securityContext"]
check(pod["securityContext"]["runAsNonRoot"] is True, "pod runs as non-root")
check(pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", "seccomp RuntimeDefault")
check(sc["readOnlyRootFilesystem"] is True, "read-only root filesystem")
check(sc["allowPrivilegeEscalation"] is False, "no privilege escalation")
check(sc["capabilities"]["drop"] == ["ALL"], "drops ALL capabilities")
check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness probe on /healthz")
check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness probe on /readyz")
check("--leader-elect=true" in c["args"], "leader election on by default")
check("resources" in c and "limits" in c["resources"], "resources set")
check(len(kinds(d, "CustomResourceDefinition")) == 1, "CRD included")
roles = kinds(d, "ClusterRole")
check(len(roles) == 1, "all namespaces: one ClusterRole")
granted = {}
for r in kinds(d, "ClusterRole") + kinds(d, "Role"):
    for rule in r["rules"]:
        for res in rule["resources"]:
            granted.setdefault(res, set()).update(rule["verbs"])
print("granted:", {k: sorted(v) for k, v in granted.items()})
expected = {
    "migrations": {"list", "watch"},
    "migrations/status": {"update"},
    "jobs": {"list", "watch", "create"},
    "pods": {"list"},
    "events": {"create"},
    "configmaps": {"get", "list", "watch"},
    "leases": {"get", "create", "update"},
}
check(granted == expected, "RBAC grants exactly what the operator uses")
check("secrets" not in granted, "no access to secrets")
check(granted["configmaps"] == {"get", "list", "watch"}, "configmaps read-only (configMapRefs sources)")
text = open(f"{work}/default.yaml").read()
check("password" not in text.lower() or "PASSWORD@HOST" in text, "no secret values rendered")

r = docs("replicas")
rc = kinds(r, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
check(kinds(r, "Deployment")[0]["spec"]["replicas"] == 3, "replicas 3")
check("--leader-elect=true" in rc["args"], "leader election forced on with replicas > 1")

n = docs("namespaced")
check(not kinds(n, "ClusterRole"), "one namespace: no ClusterRole")
check(any(x["metadata"].get("namespace") == "ocr" for x in kinds(n, "Role")), "Role in the watched namespace")
check("--namespace=ocr" in kinds(n, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"], "--namespace flag")

check(len(kinds(docs("monitor"), "ServiceMonitor")) == 1, "ServiceMonitor when enabled")
check(not kinds(docs("default"), "ServiceMonitor"), "no ServiceMonitor by default")
nm = docs("nometrics")
check(not kinds(nm, "Service"), "no metrics Service when metrics are off")
check("--metrics-addr=off" in kinds(nm, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"], "metrics off")

m = kinds(docs("migration"), "Migration")
check(len(m) == 1 and m[0]["spec"]["database"]["urlFrom"]["secretKeyRef"]["name"] == "ocr-db", "optional Migration references the Secret")
sys.exit(1 if failures else 0)
PY

# manifests/ is rendered from the chart and must not drift.
bash "$src/scripts/render-manifests.sh" "$work/manifests" && rm -rf "$work/manifests/samples" "$work/manifests/argocd"
if diff -r -x samples -x argocd "$src/manifests" "$work/manifests" >"$work/drift"; then
  ok "manifests/ match the chart"
else
  bad "manifests/ drifted from the chart; run 'make manifests': $(head -20 "$work/drift")"
fi
if kubectl kustomize "$src/manifests" >"$work/kustomized.yaml" 2>&1; then ok "kustomize build"; else bad "kustomize: $(cat "$work/kustomized.yaml")"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
