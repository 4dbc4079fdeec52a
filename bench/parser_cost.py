#!/usr/bin/env python3
"""What linting on PostgreSQL's own parser (libpg_query) costs.

1. Pod start against the previous release: the no-op `upgrade head` of this
   binary and of one built from an earlier commit (by default the last one
   before the parser came in), alternated run by run against the same
   up-to-date throwaway database: wall time (median, p90), CPU (user +
   system) and page faults of each run, and the libraries each binary loads.
   The parser is opened with dlopen only by the commands that parse SQL, so
   the two should not differ.
2. Lint speed: CPU seconds of `schemagate lint` over the realistic
   migrations of bench/lint_corpus.py (the corpus docs/lint.md compares with
   squawk), beside the previous release's lint and `heads` on the same files
   (reading and parsing the files, no SQL parsed).

    bench/parser_cost.py [BIN] [--previous-rev REV | --previous-bin PATH]
                         [--runs N] [--count N] [--lint-runs N] [--no-write]

The previous binary is built in a git worktree outside the checkout
(RelWithDebInfo, as `make build`), which is removed afterwards. Writes two
sections of docs/benchmarks.md, replacing earlier versions of them, or
appended at the end, after the operator section: bench/run.py rewrites the
document but keeps that section and all that follows it.
BENCH_QUICK=1: fewer runs and files.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import lint_corpus  # noqa: E402
from run import Postgres  # noqa: E402  (scripts/throwaway-pg.sh's server, as make bench runs it)
QUICK = os.environ.get("BENCH_QUICK") == "1"
# The last commit before `schemagate lint` moved onto libpg_query.
PREVIOUS_REV = "54e81f3"
POD_START_HEADING = "## Pod start against the previous release"
LINT_HEADING = "## Lint speed (CPU time)"


def child_env():
    env = dict(os.environ)
    for name in ("DATABASE_URL", "ENVIRONMENT", "LD_DEBUG"):
        env.pop(name, None)
    return env


def timed(cmd, cwd, ok=(0,)):
    """Runs cmd; returns its wall seconds and its own resource usage."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=child_env(), stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode not in ok:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {err.read().decode(errors='replace')[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "minflt": usage.ru_minflt,
            "majflt": usage.ru_majflt}


def peak_rss_kib(cmd, cwd, ok=(0,)):
    """Peak RSS under GNU time, which forks first: a child of this Python
    process would report Python's own peak when the tool's is smaller."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name] + cmd, cwd=cwd, env=child_env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if p.returncode not in ok:
            raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}")
        return int(out.read().split()[-1])


def loaded_libraries(cmd, cwd):
    """The shared objects the loader initialised while cmd ran (LD_DEBUG=libs),
    the program's own dependencies and anything opened with dlopen."""
    env = child_env()
    env["LD_DEBUG"] = "libs"
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return sorted(set(re.findall(r"calling init: (\S+)", p.stderr)))


def ldd_count(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if line.strip() and "linux-vdso" not in line)


def build_previous(rev, work):
    """Builds REV's schemagate in a worktree outside the checkout; returns the
    binary, copied into WORK (the worktree and its build are removed)."""
    tree = tempfile.mkdtemp(prefix="schemagate-previous.")
    src, build = os.path.join(tree, "src"), os.path.join(tree, "build")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", rev + "^{commit}"], check=True,
                            capture_output=True, text=True).stdout.strip()
    print(f"building the previous release's schemagate ({commit}); a few minutes", flush=True)
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", src, commit], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        subprocess.run(["bash", os.path.join(src, "scripts", "fetch-libpq-archives.sh")], check=True)
        quiet = {"stdout": subprocess.DEVNULL}
        subprocess.run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True, **quiet)
        subprocess.run(["cmake", "--build", build, "-j" + os.environ.get("JOBS", "2"), "--target", "schemagate"],
                       check=True, **quiet)
        binary = os.path.join(work, f"schemagate-{commit}")
        shutil.copy2(os.path.join(build, "schemagate"), binary)
        return binary, commit
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", src], check=False)
        subprocess.run(["git", "-C", ROOT, "worktree", "prune"], check=False)
        shutil.rmtree(tree, ignore_errors=True)


def project(work, name):
    """A directory for both binaries to run in: schemagate.yaml and an empty
    migrations/versions/. Returns both paths."""
    d = os.path.join(work, name)
    versions = os.path.join(d, "migrations", "versions")
    os.makedirs(versions)
    with open(os.path.join(d, "schemagate.yaml"), "w") as f:
        f.write("script_location: migrations\n")
    return d, versions


def summary(samples, key):
    xs = sorted(s[key] for s in samples)
    return {"median": statistics.median(xs), "p90": statistics.quantiles(xs, n=10)[-1] if len(xs) > 1 else xs[0]}


def pod_start(work, pg, binaries, runs):
    """The no-op upgrade head of each binary, alternated, on the bundled
    migrations and on 1,000 generated ones (bench/gen.py)."""
    gen = os.path.join(work, "gen1000")
    subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), gen, "1000"], check=True)
    bundled, versions = project(work, "bundled")
    shutil.copytree(os.path.join(ROOT, "migrations", "versions"), versions, dirs_exist_ok=True)
    workloads = [(f"the bundled migrations ({len(os.listdir(versions))})", bundled),
                 ("1,000 generated migrations (bench/gen.py)", os.path.join(gen, "schemagate"))]
    out = []
    for label, cwd in workloads:
        url = pg.fresh()
        cmd = lambda b: [b, "upgrade", "head", "-q", "--url", url]  # noqa: E731
        timed(cmd(binaries[0][1]), cwd)  # the real work, once
        before = pg.query(url, "select string_agg(version_num, ',') from alembic_version")
        for _, b in binaries:  # warm caches, and both agree there is nothing to do
            for _ in range(3):
                timed(cmd(b), cwd)
        samples = [[] for _ in binaries]
        print(f"pod start, {label}: {runs} runs of each, alternated", flush=True)
        for r in range(runs):
            # Alternate who goes first, so neither always follows the other.
            order = range(len(binaries)) if r % 2 == 0 else reversed(range(len(binaries)))
            for k in order:
                samples[k].append(timed(cmd(binaries[k][1]), cwd))
        after = pg.query(url, "select string_agg(version_num, ',') from alembic_version")
        if after != before:
            raise RuntimeError(f"the no-op changed the version table: {before} -> {after}")
        rows = []
        for k, (name, b) in enumerate(binaries):
            rows.append({"name": name, "samples": samples[k], "wall": summary(samples[k], "wall"),
                         "cpu": summary(samples[k], "cpu"), "minflt": summary(samples[k], "minflt"),
                         "majflt": summary(samples[k], "majflt"),
                         "rss": statistics.median(peak_rss_kib(cmd(b), cwd) for _ in range(5)),
                         "libs": loaded_libraries(cmd(b), cwd), "ldd": ldd_count(b)})
        for row in rows:
            print(f"  {row['name']:<32} wall median {row['wall']['median'] * 1000:6.1f} ms  "
                  f"p90 {row['wall']['p90'] * 1000:6.1f} ms  cpu {row['cpu']['median'] * 1000:5.1f} ms  "
                  f"faults {row['minflt']['median']:.0f}  libs {len(row['libs'])}", flush=True)
        out.append((label, rows))
    return out


def lint_speed(work, binaries, count, runs):
    d, versions = project(work, "lint")
    statements = lint_corpus.write_realistic(versions, count)
    findings = {}
    for name, b in binaries:
        p = subprocess.run([b, "lint", "--format", "json"], cwd=d, env=child_env(), capture_output=True, text=True)
        if p.returncode not in (0, 4):
            raise RuntimeError(f"{name} lint exited {p.returncode}: {p.stderr[-2000:]}")
        report = json.loads(p.stdout)
        findings[name] = (report["errors"], report["warnings"])
    cmds = [(f"{name}: lint", [b, "lint"], (0, 4)) for name, b in binaries]
    cmds.append((f"{binaries[0][0]}: heads (reading the files, no SQL parsed)", [binaries[0][1], "heads"], (0,)))
    samples = [[] for _ in cmds]
    print(f"lint, {count} migrations ({statements} upgrade statements): {runs} runs of each", flush=True)
    for _ in range(runs):
        for k, (_, cmd, ok) in enumerate(cmds):
            samples[k].append(timed(cmd, d, ok))
    rows = []
    for k, (name, cmd, ok) in enumerate(cmds):
        rows.append({"name": name, "cpu": summary(samples[k], "cpu"), "wall": summary(samples[k], "wall"),
                     "cpu_min": min(s["cpu"] for s in samples[k]), "cpu_max": max(s["cpu"] for s in samples[k]),
                     "rss": peak_rss_kib(cmd, d, ok)})
        print(f"  {name:<60} cpu median {rows[-1]['cpu']['median']:.3f} s  "
              f"wall {rows[-1]['wall']['median']:.3f} s", flush=True)
    return {"count": count, "statements": statements, "runs": runs, "rows": rows, "findings": findings}


def ms(x):
    return f"{x * 1000:.1f} ms"


def pod_start_section(results, runs, binaries, versions, built):
    previous = binaries[1][0] + (", built from that commit as `make build` builds" if built else "")
    lines = [POD_START_HEADING, "",
             f"`python3 bench/parser_cost.py` (part of `make bench`): the no-op `upgrade head` of this build "
             f"({versions[0]}) and of the {previous}, {runs} runs each, alternated run by run against the same "
             "up-to-date database, so a busy moment on the shared machine hits both. CPU is user + system; page "
             "faults are minor faults (major ones in brackets); peak RSS from 5 more runs under GNU time. "
             f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
             f"{os.cpu_count()} cores.", ""]
    for label, rows in results:
        cur, prev = rows
        lines += [f"{label[0].upper()}{label[1:]}:", "",
                  "| binary | wall median | wall p90 | CPU median | CPU p90 | page faults | peak RSS |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for row in rows:
            lines.append(f"| {row['name']} | {ms(row['wall']['median'])} | {ms(row['wall']['p90'])} | "
                         f"{ms(row['cpu']['median'])} | {ms(row['cpu']['p90'])} | "
                         f"{row['minflt']['median']:.0f} ({row['majflt']['median']:.0f}) | "
                         f"{row['rss'] / 1024:.1f} MiB |")
        paired = statistics.median(c["wall"] / p["wall"] for c, p in zip(cur["samples"], prev["samples"]))
        lines += ["", f"This build takes {cur['wall']['median'] / prev['wall']['median']:.2f}x the previous "
                      f"release's wall time ({paired:.2f}x round by round), "
                      f"{cur['cpu']['median'] / prev['cpu']['median']:.2f}x its CPU and "
                      f"{cur['minflt']['median'] / prev['minflt']['median']:.2f}x its page faults.", ""]
    cur, prev = results[0][1]
    parser = [lib for lib in cur["libs"] if "pg_query" in lib]
    lines += [f"Libraries: `ldd` lists {cur['ldd']} for this build and {prev['ldd']} for the previous one; "
              f"during the no-op the loader initialised {len(cur['libs'])} and {len(prev['libs'])} "
              "(LD_DEBUG=libs, the dynamic loader and libc included), "
              + ("libpg_query among them." if parser else "libpg_query not among them."), ""]
    return lines


def lint_section(lint, binaries):
    rows = lint["rows"]
    cur = rows[0]
    lines = [LINT_HEADING, "",
             f"`python3 bench/parser_cost.py`: `schemagate lint` over the {lint['count']:,} migrations of "
             f"`python3 bench/lint_corpus.py OUT --count {lint['count']}` ({lint['statements']:,} upgrade "
             f"statements, about {lint['statements'] / lint['count']:.0f} each: tables, columns, indexes "
             "(`CONCURRENTLY` in `transaction:false` sections), functions and triggers, views, batched data "
             "changes, constraints added `NOT VALID` and validated later; now and then a statement a rule "
             f"reports), each command run {lint['runs']} times in turn; CPU is user + system. Both lints run "
             "with their own rules, so their findings differ.", "",
             "| command | CPU median | CPU spread | wall median | peak RSS |", "|---|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['name']} | {row['cpu']['median']:.3f} s | {row['cpu_min']:.3f}-{row['cpu_max']:.3f} s | "
                     f"{row['wall']['median']:.3f} s | {row['rss'] / 1024:.1f} MiB |")
    found = "; ".join(f"{name}: {e} errors, {w} warnings" for name, (e, w) in lint["findings"].items())
    per = (cur["cpu"]["median"] - rows[-1]["cpu"]["median"]) / lint["statements"] * 1e6
    goal = (" (goal: under 1 s, " + ("met" if cur["cpu"]["median"] < 1.0 else "not met") + ")"
            if lint["count"] == 1000 else "")
    lines += ["", f"Linting {lint['count']:,} migrations takes {cur['cpu']['median']:.2f} s of CPU{goal}, "
                  f"{cur['cpu']['median'] / rows[1]['cpu']['median']:.1f}x the previous "
                  f"release's lint, {per:.0f} µs a statement beyond reading the files. Findings: {found}.", ""]
    return lines


def write_sections(sections):
    """Replaces each section (from its heading to the next `## `) in
    docs/benchmarks.md, or appends it at the end."""
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    doc = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    for heading, lines in sections:
        text = "\n".join(lines).rstrip("\n") + "\n"
        at = doc.find("\n" + heading + "\n")
        if at < 0:
            doc = doc.rstrip("\n") + "\n\n" + text
        else:
            end = doc.find("\n## ", at + 1)
            doc = doc[:at + 1] + text + ("\n" + doc[end + 1:] if end >= 0 else "")
    with open(path, "w") as f:
        f.write(doc)
    print("wrote docs/benchmarks.md")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary", nargs="?", default=os.path.join(ROOT, "build", "schemagate"))
    ap.add_argument("--previous-rev", default=PREVIOUS_REV, help="commit to build the previous release from")
    ap.add_argument("--previous-bin", help="an already built previous release (skips the build)")
    ap.add_argument("--runs", type=int, default=20 if QUICK else 200, help="no-op runs of each binary")
    ap.add_argument("--count", type=int, default=200 if QUICK else 1000, help="migrations to lint")
    ap.add_argument("--lint-runs", type=int, default=3 if QUICK else 7)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    current = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="schemagate-parser-bench.")
    os.chmod(work, 0o755)
    pg = None
    try:
        if args.previous_bin:
            previous, label = os.path.abspath(args.previous_bin), "previous release"
        else:
            previous, commit = build_previous(args.previous_rev, work)
            label = f"previous release ({commit})"
        binaries = [("this build", current), (label, previous)]
        versions = [subprocess.run([b, "--version"], capture_output=True, text=True).stdout.strip() for _, b in
                    binaries]
        pg = Postgres(work)
        results = pod_start(work, pg, binaries, args.runs)
        lint = lint_speed(work, binaries, args.count, args.lint_runs)
        built = not args.previous_bin
        sections = [(POD_START_HEADING, pod_start_section(results, args.runs, binaries, versions, built)),
                    (LINT_HEADING, lint_section(lint, binaries))]
        for _, lines in sections:
            print("\n".join(lines))
        if not args.no_write:
            write_sections(sections)
    finally:
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
