#!/usr/bin/env python3
"""Operator workload: N Migration resources on the test API server, the
kubelet simulator answering at once. Reports the time until all are Ready,
the operator's peak RSS, its API requests (writes) per completed run, and
its requests per minute at rest afterwards (watches and lease renewals
excluded: only requests that are not watches are counted).

Usage: operator_bench.py BUILD_DIR [N]
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import Postgres, ROOT  # noqa: E402


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    work = tempfile.mkdtemp(prefix="schemagate-opbench.")
    os.chmod(work, 0o755)
    pg = Postgres(work)
    procs = []
    try:
        url = pg.fresh()
        kubeconfig = os.path.join(work, "kubeconfig")
        api = subprocess.Popen([os.path.join(build, "tests", "sg-test-apiserver"), "--kubeconfig-out", kubeconfig],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(api)
        server = api.stdout.readline().strip()
        procs.append(subprocess.Popen([os.path.join(build, "tests", "sg-kubelet-sim"), "--server", server, "--binary",
                                       os.path.join(build, "schemagate"), "--map",
                                       "/migrations=" + os.path.join(ROOT, "migrations"), "--work-dir", work],
                                      stderr=subprocess.DEVNULL))
        op = subprocess.Popen([os.path.join(build, "schemagate"), "operator", "--kubeconfig", kubeconfig,
                               "--leader-elect=false", "--metrics-addr", "0", "--health-addr", "0",
                               "--max-concurrent-runs", "8", "--log-format", "json"],
                              stderr=subprocess.DEVNULL)
        procs.append(op)
        http("POST", server + "/api/v1/namespaces/bench/secrets",
             {"metadata": {"name": "db"}, "data": {"url": base64.b64encode(url.encode()).decode()}})
        time.sleep(1)
        start = time.perf_counter()
        for i in range(n):
            http("POST", server + "/apis/schemagate.io/v1alpha1/namespaces/bench/migrations",
                 {"apiVersion": "schemagate.io/v1alpha1", "kind": "Migration", "metadata": {"name": f"m{i:04d}"},
                  "spec": {"database": {"urlFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}}})
        while True:
            items = http("GET", server + "/apis/schemagate.io/v1alpha1/namespaces/bench/migrations")["items"]
            ready = sum(1 for m in items for c in m.get("status", {}).get("conditions", [])
                        if c["type"] == "Ready" and c["status"] == "True")
            if ready == n:
                break
            if time.perf_counter() - start > 1800:
                raise RuntimeError(f"only {ready}/{n} Ready after 30 minutes")
            time.sleep(1)
        elapsed = time.perf_counter() - start
        stats = http("GET", server + "/_stats")
        writes = sum(stats.get("token " + v, 0) for v in ("POST", "PUT", "PATCH", "DELETE"))
        reads = stats.get("token GET", 0)
        rss = peak_rss_kib(op.pid)
        cpu = cpu_seconds(op.pid)
        time.sleep(30)
        after = http("GET", server + "/_stats")
        rest = sum(after.get("token " + v, 0) - stats.get("token " + v, 0)
                   for v in ("GET", "POST", "PUT", "PATCH", "DELETE"))
        result = {"migrations": n, "seconds_to_all_ready": round(elapsed, 1),
                  "operator_peak_rss_mib": round(rss / 1024, 1), "operator_cpu_seconds": round(cpu, 1),
                  "operator_writes_per_run": round(writes / n, 2), "operator_reads_per_run": round(reads / n, 2),
                  "operator_requests_per_minute_at_rest": rest * 2, "watch_requests": stats.get("token WATCH", 0)}
        result["operator_requests"] = {k: v for k, v in stats.items() if k.startswith("token ")}
        print(json.dumps(result, indent=2))
        return result
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
