#!/usr/bin/env python3
"""make bench: schemagate side by side with Alembic, sqitch and psql.

Every workload runs against the same throwaway PostgreSQL in one run, each
measurement repeated; the report gives the median, the spread (min-max) and
ratios to each peer, because these machines are shared and noisy. Writes
docs/benchmarks.md and docs/apply-time.svg.
"""
import glob
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "schemagate"))
QUICK = os.environ.get("BENCH_QUICK") == "1"
REPS = 3 if QUICK else 5
SIZES = [20, 50] if QUICK else [200, 1000]
ALEMBIC = ["/usr/bin/python3", "-m", "alembic"]


def real_psql():
    """The psql binary itself: /usr/bin/psql on Debian is a Perl wrapper
    (pg_wrapper) whose own start-up would inflate the floor."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which("psql")


PSQL = real_psql()


# Set while interleaved() takes its extra, untimed pass for peak RSS: the
# kernel carries a process's peak RSS across exec, so a child spawned from
# this Python process reports Python's own (about 14 MiB) when the tool is
# smaller. GNU time forks first and reports the tool's own peak.
RSS_PASS = False


def peak_rss(cmd, cwd=None, env=None):
    """Runs cmd under GNU time; returns its peak RSS in KiB."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name] + cmd, cwd=cwd, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
        return int(out.read().split()[-1])


def run(cmd, cwd=None, env=None, check=True):
    """Runs cmd; returns (seconds, 0), or in the RSS pass (0, peak RSS in KiB)."""
    e = dict(os.environ)
    e.update(env or {})
    if RSS_PASS:
        return 0, peak_rss(cmd, cwd, e)
    t0 = time.perf_counter()
    # run() reads stderr while the tool runs: waiting first and reading after
    # would hang on a tool that writes more than a pipe holds.
    p = subprocess.run(cmd, cwd=cwd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
    return elapsed, 0


def cpu(cmd, cwd=None):
    """Runs cmd; returns (CPU seconds, user + system, 0), or in the RSS pass
    (0, peak RSS in KiB)."""
    if RSS_PASS:
        return 0, peak_rss(cmd, cwd)
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed")
    return usage.ru_utime + usage.ru_stime, 0


class Postgres:
    def __init__(self, work):
        self.dir = os.path.join(work, "pg")
        out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "throwaway-pg.sh"), "start", self.dir],
                             check=True, capture_output=True, text=True).stdout.strip()
        self.base = out.rsplit("/", 1)[0]
        self.n = 0

    def fresh(self):
        self.n += 1
        name = f"b{self.n}"
        subprocess.run(["psql", "-X", "-q", "-d", self.base + "/postgres", "-c", f"CREATE DATABASE {name}"], check=True)
        # Every timed run starts from a checkpointed cluster, so no tool pays
        # for the writes of the run before it.
        subprocess.run(["psql", "-X", "-q", "-d", self.base + "/postgres", "-c", "CHECKPOINT"], check=True)
        return self.base + "/" + name

    def drop(self, url):
        name = url.rsplit("/", 1)[1]
        subprocess.run(["psql", "-X", "-q", "-d", self.base + "/postgres", "-c", f"DROP DATABASE {name} WITH (FORCE)"],
                       check=True)

    def query(self, url, sql):
        return subprocess.run(["psql", "-X", "-At", "-d", url, "-c", sql], check=True, capture_output=True,
                              text=True).stdout.strip()

    def stop(self):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "throwaway-pg.sh"), "stop", self.dir], check=False)


def measure(name, fn, reps=REPS, pg=None, crowd=False):
    """A measurement to take: fn() -> (seconds, rss); with pg, fn(url) gets a
    new empty database, created before and dropped after the timed part, so
    the cluster stays small and one run's writes do not slow the next. A
    crowd (many processes at once) has no single peak RSS."""
    return {"name": name, "fn": fn, "reps": reps, "pg": pg, "crowd": crowd}


def call(spec):
    """One run of a measurement, on a new database when it takes one."""
    if not spec["pg"]:
        return spec["fn"]()
    url = spec["pg"].fresh()
    try:
        return spec["fn"](url)
    finally:
        spec["pg"].drop(url)


def interleaved(specs):
    """Takes the measurements round-robin (tool A, B, C, then A, B, C again):
    on a shared, noisy machine a slow minute then hits every tool alike, and
    the ratios stay honest. Then one untimed pass for peak RSS (RSS_PASS),
    skipped for crowds (not one process) and single-run measurements."""
    global RSS_PASS
    times = [[] for _ in specs]
    for rep in range(max(s["reps"] for s in specs)):
        for i, spec in enumerate(specs):
            if rep < spec["reps"]:
                times[i].append(call(spec)[0])
    rss = [0] * len(specs)
    RSS_PASS = True
    try:
        for i, spec in enumerate(specs):
            if spec["reps"] > 1 and not spec.get("crowd"):
                rss[i] = call(spec)[1]
    finally:
        RSS_PASS = False
    out = []
    for i, spec in enumerate(specs):
        r = {"name": spec["name"], "median": statistics.median(times[i]), "min": min(times[i]),
             "max": max(times[i]), "rss": rss[i], "times": times[i]}
        print(f"  {r['name']:<48} median {r['median'] * 1000:9.1f} ms  [{r['min'] * 1000:.1f}-{r['max'] * 1000:.1f}]"
              f"  rss {r['rss'] / 1024:.1f} MiB", flush=True)
        out.append(r)
    return out


def sqitch_target(url):
    return "db:pg:" + url.split(":", 1)[1]


def main():
    work = tempfile.mkdtemp(prefix="schemagate-bench.")
    os.chmod(work, 0o755)
    pg = Postgres(work)
    results = {}
    try:
        trees = {}
        for n in sorted(set([5] + SIZES)):
            d = os.path.join(work, f"tree{n}")
            subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), d, str(n)], check=True)
            trees[n] = d
        sg = lambda n: os.path.join(trees[n], "schemagate")  # noqa: E731
        have_sqitch = shutil.which("sqitch") is not None

        # 6. Start-up.
        print("start-up (--version)")
        results["startup"] = interleaved([
            measure("schemagate --version", lambda: run([BIN, "--version"])),
            measure("alembic --version", lambda: run(ALEMBIC + ["--version"])),
            measure("psql --version", lambda: run([PSQL, "--version"])),
        ] + ([measure("sqitch --version", lambda: run(["sqitch", "--version"]))] if have_sqitch else []))

        # 1. Pod start: the no-op upgrade at head.
        results["podstart"] = {}
        for n in [5, max(SIZES)]:
            print(f"pod start at head, {n} migrations")
            url = pg.fresh()
            run([BIN, "upgrade", "head", "--url", url, "-q"], cwd=sg(n))
            aurl = pg.fresh()
            run(ALEMBIC + ["-c", os.path.join(trees[n], "alembic.ini"), "upgrade", "head"], cwd=trees[n],
                env={"BENCH_URL": aurl})
            # Runs of 40-60 ms on a shared machine: five samples let one
            # slow moment move a median, and the ratio with it.
            fast = 5 if QUICK else 21
            rows = [
                measure("psql select version_num (floor)",
                        lambda: run([PSQL, "-X", "-d", url, "-c", "select version_num from alembic_version"]), reps=fast),
                measure("schemagate upgrade head", lambda: run([BIN, "upgrade", "head", "--url", url, "-q"], cwd=sg(n)),
                        reps=fast),
                measure("alembic upgrade head", lambda: run(ALEMBIC + ["-c", os.path.join(trees[n], "alembic.ini"),
                                                                       "upgrade", "head"], cwd=trees[n],
                                                            env={"BENCH_URL": aurl}), reps=3),
            ]
            if have_sqitch:
                surl = pg.fresh()
                run(["sqitch", "deploy", sqitch_target(surl)], cwd=os.path.join(trees[n], "sqitch"))
                rows.append(measure("sqitch deploy", lambda: run(["sqitch", "deploy", sqitch_target(surl)],
                                                                 cwd=os.path.join(trees[n], "sqitch")), reps=3))
            results["podstart"][n] = interleaved(rows)

        # 2. Apply from empty.
        results["apply"] = {}
        for n in SIZES:
            print(f"apply from empty, {n} migrations")
            t = trees[n]
            # The small tree runs in about a second, where one checkpoint or
            # autovacuum pass moves a median: more runs there. The large one
            # swings by 2x on a busy day: five runs, not three.
            reps = 3 if QUICK else 9 if n <= 200 else 5
            f = pg
            rows = [
                measure("psql, one transaction per migration (floor)",
                        lambda u: run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", u, "-f",
                                       os.path.join(t, "psql-per-migration.sql")]), reps, f),
                measure("schemagate, one transaction per migration",
                        lambda u: run([BIN, "upgrade", "head", "-q", "--url", u], cwd=sg(n)), reps, f),
                measure("psql -1, one transaction (floor)",
                        lambda u: run([PSQL, "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", u, "-f",
                                       os.path.join(t, "psql-single.sql")]), reps, f),
                measure("schemagate --single-transaction",
                        lambda u: run([BIN, "upgrade", "head", "-q", "--single-transaction", "--url", u],
                                      cwd=sg(n)), reps, f),
                measure("alembic, one transaction per migration",
                        lambda u: run(ALEMBIC + ["-c", os.path.join(t, "alembic.ini"), "upgrade", "head"], cwd=t,
                                      env={"BENCH_URL": u}), reps, f),
                measure("alembic, one transaction",
                        lambda u: run(ALEMBIC + ["-c", os.path.join(t, "alembic.ini"), "upgrade", "head"], cwd=t,
                                      env={"BENCH_URL": u, "BENCH_SINGLE": "1"}), reps, f),
            ]
            if have_sqitch:
                rows.append(measure("sqitch deploy (a transaction per change)",
                                    lambda u: run(["sqitch", "deploy", sqitch_target(u)],
                                                  cwd=os.path.join(t, "sqitch")), 1, f))
            results["apply"][n] = interleaved(rows)

        # 3. Replicas racing on an empty database.
        n = SIZES[0]
        print(f"32 replicas racing, {n} migrations")
        upgrade = [BIN, "upgrade", "head", "-q"]
        one = measure("one runner", lambda u: run(upgrade + ["--url", u], cwd=sg(n)), 3, pg)

        def at_once(cmd, cwd=None):
            """Starts 32 copies of cmd together; returns (seconds until all
            exited, their exit codes)."""
            t0 = time.perf_counter()
            procs = [subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for _ in range(32)]
            codes = [p.wait() for p in procs]
            return time.perf_counter() - t0, codes

        def race(url):
            elapsed, codes = at_once(upgrade + ["--url", url], cwd=sg(n))
            once = pg.query(url, "select count(*) = count(distinct revision) and count(*) = %d from schemagate_log "
                                 "where operation = 'upgrade' and status = 'succeeded'" % n)
            if any(codes) or once != "t":
                raise RuntimeError(f"race: exit codes {codes}, exactly once: {once}")
            return elapsed, 0

        def psql_crowd(url):
            elapsed, codes = at_once([PSQL, "-X", "-d", url, "-c", "select 1"])
            if any(codes):
                raise RuntimeError(f"psql crowd: exit codes {codes}")
            return elapsed, 0

        def crowd_at_head(url):
            # The same 32 starts with nothing to apply: what the race costs
            # beyond the migrations themselves (32 processes, 32 backends).
            run(upgrade + ["--url", url], cwd=sg(n))
            elapsed, codes = at_once(upgrade + ["--url", url], cwd=sg(n))
            if any(codes):
                raise RuntimeError(f"32 runners at head: exit codes {codes}")
            return elapsed, 0

        results["race"] = interleaved([one, measure("32 runners at once, until all exited 0", race, 3, pg, True),
                                       measure("for scale: 32 psql 'select 1' at once", psql_crowd, 3, pg, True),
                                       measure("for scale: 32 runners at once at head (nothing to apply)",
                                               crowd_at_head, 3, pg, True)])

        # 4. Offline SQL.
        n = max(SIZES)
        print(f"offline SQL, {n} migrations")
        results["offline"] = interleaved([
            measure("schemagate upgrade head --sql", lambda: run([BIN, "upgrade", "head", "--sql"], cwd=sg(n))),
            measure("alembic upgrade head --sql", lambda: run(ALEMBIC + ["-c", os.path.join(trees[n], "alembic.ini"),
                                                                         "upgrade", "head", "--sql"], cwd=trees[n],
                                                              env={"BENCH_URL": "postgresql://x@localhost/x"}), 3),
        ])
        # 7. Parsing and planning: CPU time of `heads`, which reads, parses,
        # checksums and plans every file; the 5-file run is the process floor.
        n = max(SIZES)
        print(f"parse and plan, {n} files (CPU time)")
        results["parse"] = interleaved([
            measure("heads, 5 files (process start, config)", lambda: cpu([BIN, "heads"], cwd=sg(5)), 20),
            measure(f"heads, {n} files", lambda: cpu([BIN, "heads"], cwd=sg(n)), 20),
        ])
        versions = {
            "schemagate": subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.strip(),
            "alembic": subprocess.run(ALEMBIC + ["--version"], capture_output=True, text=True).stdout.strip(),
            "psql": subprocess.run([PSQL, "--version"], capture_output=True, text=True).stdout.strip(),
            "sqitch": subprocess.run(["sqitch", "--version"], capture_output=True, text=True).stdout.strip()
            if have_sqitch else "not installed",
        }
        report(results, versions)
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def table(rows, floor_name=None):
    floor = next((r for r in rows if floor_name and r["name"].startswith(floor_name)), rows[0])
    out = ["| tool | median | spread | vs floor | peak RSS |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['name']} | {r['median'] * 1000:.1f} ms | {r['min'] * 1000:.1f}-{r['max'] * 1000:.1f} ms | "
                   f"{r['median'] / floor['median']:.2f}x | " +
                   (f"{r['rss'] / 1024:.1f} MiB |" if r["rss"] else "n/a |"))
    return "\n".join(out)


def ratio(rows, a, b):
    ra = next(r for r in rows if r["name"].startswith(a))
    rb = next(r for r in rows if r["name"].startswith(b))
    return rb["median"] / ra["median"]


def paired(rows, a, b):
    """The median of b/a taken round by round: the two ran back to back in
    each round, so a slow minute on the machine slows both and cancels out,
    where it can move one median and not the other."""
    ra = next(r for r in rows if r["name"].startswith(a))
    rb = next(r for r in rows if r["name"].startswith(b))
    return statistics.median(tb / ta for ta, tb in zip(ra["times"], rb["times"]))


def svg(apply):
    sizes = sorted(apply)
    series = {}
    for n in sizes:
        for r in apply[n]:
            series.setdefault(r["name"], []).append((n, r["median"]))
    w, h, pad = 640, 360, 50
    ymax = max(t for pts in series.values() for _, t in pts) * 1.1
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    xs = lambda n: pad + (n - sizes[0]) / max(1, sizes[-1] - sizes[0]) * (w - 2 * pad)  # noqa: E731
    ys = lambda t: h - pad - t / ymax * (h - 2 * pad)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 20 * len(series)}" font-family="sans-serif" font-size="11">',
             f'<text x="{w / 2}" y="18" text-anchor="middle" font-size="13">Apply from empty: seconds vs migrations</text>',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="black"/>']
    for n in sizes:
        parts.append(f'<text x="{xs(n)}" y="{h - pad + 15}" text-anchor="middle">{n}</text>')
    for k in range(5):
        t = ymax * k / 4
        parts.append(f'<text x="{pad - 5}" y="{ys(t) + 4}" text-anchor="end">{t:.1f}</text>')
    for i, (name, pts) in enumerate(series.items()):
        c = colors[i % len(colors)]
        path = " ".join(f"{xs(n):.1f},{ys(t):.1f}" for n, t in pts)
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{path}"/>')
        for n, t in pts:
            parts.append(f'<circle cx="{xs(n):.1f}" cy="{ys(t):.1f}" r="3" fill="{c}"/>')
        parts.append(f'<rect x="{pad}" y="{h + 20 * i - 5}" width="10" height="10" fill="{c}"/>'
                     f'<text x="{pad + 15}" y="{h + 20 * i + 4}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def report(res, versions):
    os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
    lines = ["# Benchmarks", "",
             "Measured by `make bench` (bench/run.py) on one machine in one run; these machines are shared, so "
             "read the ratios, not the absolute times. Median and spread (min-max) over repeated runs. Peak RSS "
             "is each tool's own, from one more untimed run under GNU time (n/a for crowds and single runs).", "",
             f"- Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
             "- Versions: " + "; ".join(f"{k}: {v}" for k, v in versions.items()),
             f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "Reproduce: `make bench` (or `BENCH_QUICK=1 make bench` for a short run).", "",
             f"The psql floor is the psql binary itself ({PSQL}), not Debian's Perl wrapper /usr/bin/psql.", ""]
    for n, rows in res["podstart"].items():
        lines += [f"## Pod start: no-op `upgrade head` at head, {n} migrations", "", table(rows, "psql"), "",
                  f"schemagate takes {ratio(rows, 'psql', 'schemagate'):.2f}x the psql floor's time "
                  f"({paired(rows, 'psql', 'schemagate'):.2f}x round by round); "
                  f"Alembic takes {ratio(rows, 'schemagate', 'alembic'):.1f}x schemagate's time.", ""]
    for n, rows in res["apply"].items():
        lines += [f"## Apply from empty, {n} migrations", "", table(rows, "psql, one transaction per"), "",
                  f"Per migration: schemagate {ratio(rows, 'psql, one', 'schemagate, one'):.2f}x psql "
                  f"({paired(rows, 'psql, one', 'schemagate, one'):.2f}x round by round); "
                  f"one transaction: schemagate {ratio(rows, 'psql -1', 'schemagate --single'):.2f}x psql -1 "
                  f"({paired(rows, 'psql -1', 'schemagate --single'):.2f}x round by round); "
                  f"Alembic {ratio(rows, 'schemagate, one', 'alembic, one transaction per'):.2f}x schemagate.", ""]
    one, race, crowd, at_head = res["race"][:4]
    lines += ["## 32 replicas racing on an empty database", "", table(res["race"]), "",
              f"All 32 done in {race['median'] / one['median']:.2f}x one runner's time; every migration applied "
              "exactly once (checked in schemagate_log). For scale: 32 bare `psql -c 'select 1'` started the same "
              f"way take {crowd['median'] / one['median']:.2f}x one runner's time on their own, the cost of 32 "
              f"processes and 32 server backends starting and exiting on {os.cpu_count()} cores; 32 runners with "
              f"nothing to apply take {at_head['median'] / one['median']:.2f}x. The race costs "
              f"{(race['median'] - at_head['median']) / one['median']:.2f}x one runner's time beyond those 32 "
              "starts: the migrations themselves, applied once.", ""]
    lines += ["## Offline `upgrade head --sql`", "", table(res["offline"]), ""]
    lines += ["## Start-up: `--version`", "", table(res["startup"]), ""]
    few, many = res["parse"]
    lines += ["## Parsing and planning (CPU time, not wall time)", "", table(res["parse"]), "",
              f"Reading, parsing, checksumming and planning the extra files costs "
              f"{(many['median'] - few['median']) * 1000:.1f} ms of CPU.", ""]
    lines += ["![apply time](apply-time.svg)", ""]
    # The operator section comes from bench/operator_bench.py; keep it.
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    if os.path.exists(path):
        old = open(path).read()
        if "\n## Operator" in old:
            lines += [old[old.index("\n## Operator") + 1:].rstrip("\n"), ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(ROOT, "docs", "apply-time.svg"), "w") as f:
        f.write(svg(res["apply"]))
    print("wrote docs/benchmarks.md and docs/apply-time.svg")


if __name__ == "__main__":
    main()
