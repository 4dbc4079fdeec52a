#!/usr/bin/env python3
"""schemagate against Alembic 1.8.1 on the same revision graphs.

Every graph is written twice, as Alembic scripts and as schemagate SQL files,
each revision recording itself: its upgrade inserts its id into `steps`, its
downgrade '-id'. Each case (a graph and a command sequence) runs through
Alembic in this process (its command-line code, one database) and through the
schemagate binary (another database), and the two are compared after every
command: refused or not (schemagate must then exit 2 or 4, design section 6),
the steps run (the same revisions, each tool's order one the graph allows),
the `Running upgrade/downgrade` lines, the `alembic_version` rows, and at the
end `current`. Offline cases compare the `--sql` scripts (steps, order,
`-- Running` comments, the version rows their writes leave); info cases the
output of heads, branches, history and show.

A case that differs must be listed below, in KNOWN_DIFFERENCES (being fixed)
or DELIBERATE; a listed case that agrees fails the suite too, so the lists
only shrink.

    alembic_differential.py --schemagate BIN --url SUPERUSER_URL --work DIR
        [--jobs 2] [--only SUBSTRING] [--show-differences]

Each job makes two databases on the server the URL names (dropped first if
there). Exit 0 when every case agrees or differs as listed; 1 otherwise, with
a report.
"""

import argparse
import collections
import contextlib
import io
import json
import logging
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
import warnings

import psycopg2  # noqa: E402  (Debian's python3-psycopg2, Alembic's driver here)
from alembic.config import CommandLine, Config  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

# ---------------------------------------------------------------------------
# Graphs: the shapes of Alembic's documentation (tutorial, "Working with
# Branches", "Working with Multiple Bases", "Branch Dependencies") and the
# ones issue reports used. A revision: (id, down_revisions, branch_labels,
# depends_on). `mid` is where the cases that start part-way stand.

Rev = collections.namedtuple("Rev", "id down labels deps")


def rev(rid, down=(), labels=(), deps=()):
    return Rev(rid, tuple(down), tuple(labels), tuple(deps))


# Two branches from one revision ("Working with Branches").
TWO_BRANCHES = [
    rev("1975ea83b712"),
    rev("ae1027a6acf", ["1975ea83b712"]),
    rev("27c6a30d7c24", ["1975ea83b712"]),
    rev("3cac04ae8714", ["27c6a30d7c24"]),
]

GRAPHS = {
    # The tutorial's line.
    "linear": dict(mid="ae1027a6acf", revs=[
        rev("1975ea83b712"),
        rev("ae1027a6acf", ["1975ea83b712"]),
        rev("27c6a30d7c24", ["ae1027a6acf"]),
        rev("3cac04ae8714", ["27c6a30d7c24"]),
    ]),
    # Not merged: two heads.
    "branches": dict(mid="27c6a30d7c24", revs=TWO_BRANCHES),
    # Merged, and a revision after the merge.
    "merge": dict(mid="3cac04ae8714", revs=TWO_BRANCHES + [
        rev("55af2cb1c267", ["ae1027a6acf", "3cac04ae8714"]),
        rev("2a95102259be", ["55af2cb1c267"]),
    ]),
    # Three branches merged at once.
    "merge3": dict(mid="5b2c8d1e", revs=[
        rev("29f859a13ea"),
        rev("4a1b9c0d", ["29f859a13ea"]),
        rev("5b2c8d1e", ["29f859a13ea"]),
        rev("6c3d7e2f", ["29f859a13ea"]),
        rev("7d4e6f30", ["4a1b9c0d", "5b2c8d1e", "6c3d7e2f"]),
    ]),
    # Several bases, one labelled (networking), and a merge of two bases.
    "bases": dict(mid="3782d9986ced", revs=[
        rev("1975ea83b712"),
        rev("ae1027a6acf", ["1975ea83b712"]),
        rev("3782d9986ced", labels=["networking"]),
        rev("109ec7d132bf", ["3782d9986ced"]),
        rev("29f859a13ea"),
        rev("55af2cb1c267"),
        rev("2a95102259be", ["29f859a13ea", "55af2cb1c267"]),
    ]),
    # Branch labels: a labelled branch off the main line, and a label in the
    # middle of a line (Alembic carries it to the revisions below).
    "labels": dict(mid="27c6a30d7c24", revs=[
        rev("1975ea83b712"),
        rev("ae1027a6acf", ["1975ea83b712"]),
        rev("27c6a30d7c24", ["1975ea83b712"], labels=["shoppingcart"]),
        rev("d747a8a8879", ["27c6a30d7c24"]),
        rev("3782d9986ced"),
        rev("109ec7d132bf", ["3782d9986ced"], labels=["networking"]),
        rev("6fa1c2d3e4f5", ["109ec7d132bf"]),
    ]),
    # depends_on across branches (a revision id and a label).
    "depends": dict(mid="ae1027a6acf", revs=[
        rev("3782d9986ced", labels=["networking"]),
        rev("109ec7d132bf", ["3782d9986ced"]),
        rev("1975ea83b712"),
        rev("ae1027a6acf", ["1975ea83b712"]),
        rev("27c6a30d7c24", ["ae1027a6acf"], deps=["109ec7d132bf"]),
        rev("4d1e2f3a4b5c", deps=["networking"]),
    ]),
    # A base that depends on another line (issue 17, point 1).
    "depbase": dict(mid="a1b2c3d4", revs=[
        rev("a1b2c3d4"),
        rev("a2c3d4e5", ["a1b2c3d4"]),
        rev("b1c2d3e4", deps=["a1b2c3d4"]),
    ]),
    # Effective heads: c2 is nobody's down_revision, but e1 depends on it.
    "effective": dict(mid="c1d2e3f4", revs=[
        rev("c1d2e3f4"),
        rev("c2d3e4f5", ["c1d2e3f4"]),
        rev("e1f2a3b4", deps=["c2d3e4f5"]),
        rev("f0a1b2c3", ["e1f2a3b4"]),
    ]),
}

CREATE_DATE = "2024-01-01 00:00:00"


def message(r):
    return "add " + r.id


def write_trees(work, name, graph):
    """Writes the graph for both tools; returns (alembic dir, schemagate dir)."""
    root = os.path.join(work, name)
    adir, sdir = os.path.join(root, "alembic"), os.path.join(root, "schemagate")
    os.makedirs(os.path.join(adir, "versions"), exist_ok=True)
    os.makedirs(os.path.join(sdir, "migrations", "versions"), exist_ok=True)
    with open(os.path.join(adir, "env.py"), "w") as f:
        f.write(ENV_PY)
    with open(os.path.join(adir, "script.py.mako"), "w") as f:
        f.write("")
    with open(os.path.join(sdir, "schemagate.yaml"), "w") as f:
        f.write("script_location: migrations\n")

    def py(values, single_as_str=True):
        if not values:
            return "None"
        if len(values) == 1 and single_as_str:
            return repr(values[0])
        return "(" + "".join(repr(v) + ", " for v in values) + ")"

    for r in graph["revs"]:
        with open(os.path.join(adir, "versions", r.id + "_rev.py"), "w") as f:
            f.write('"""%s\n\nRevision ID: %s\nRevises: %s\nCreate Date: %s\n\n"""\n'
                    % (message(r), r.id, ", ".join(r.down), CREATE_DATE))
            f.write("revision = %r\ndown_revision = %s\nbranch_labels = %s\ndepends_on = %s\n\n"
                    % (r.id, py(r.down), py(r.labels, False), py(r.deps)))
            f.write("from alembic import op\n\n\n"
                    "def upgrade():\n    op.execute(\"INSERT INTO steps (s) VALUES ('%s')\")\n\n\n"
                    "def downgrade():\n    op.execute(\"INSERT INTO steps (s) VALUES ('-%s')\")\n"
                    % (r.id, r.id))
        with open(os.path.join(sdir, "migrations", "versions", r.id + "_rev.sql"), "w") as f:
            f.write("-- revision: %s\n-- down_revision: %s\n-- branch_labels: %s\n-- depends_on: %s\n"
                    "-- create_date: %s\n-- message: %s\n\n"
                    "-- migrate:upgrade\nINSERT INTO steps (s) VALUES ('%s');\n\n"
                    "-- migrate:downgrade\nINSERT INTO steps (s) VALUES ('-%s');\n"
                    % (r.id, ", ".join(r.down), ", ".join(r.labels), ", ".join(r.deps), CREATE_DATE,
                       message(r), r.id, r.id))
    return adir, sdir


# The engine comes from the driver (one per run, no pool: each command gets
# its own connection, as the command line would).
ENV_PY = """\
from alembic import context

config = context.config
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with config.attributes["engine"].connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"""

# ---------------------------------------------------------------------------
# Cases, generated from each graph.

Case = collections.namedtuple("Case", "id graph kind commands")


def labels_of(graph):
    return [label for r in graph["revs"] for label in r.labels]


def targets(graph):
    ids = [r.id for r in graph["revs"]]
    heads = [i for i in ids if not any(i in r.down for r in graph["revs"])]
    out = ["head", "heads", "base", "+1", "+2", "-1", "-2", "base+1", "base+2", "head-1"]
    out += ids
    out += [ids[0][:4], ids[0][:3], ids[-1][:2]]
    out += [ids[0] + "+1", heads[-1] + "-1"]
    child = next((r for r in graph["revs"] if r.down), None)
    if child is not None:
        out += [child.down[0] + "@" + child.id, child.down[0][:4] + "@head", child.id + "@base"]
    for n, label in enumerate(labels_of(graph)):
        out += [label + "@head", label + "@base", label + "@+1", label + "@-1"]
        if n == 0:
            on_line = next(r.id for r in graph["revs"] if label in r.labels)
            out += [label + "@heads", label + "@head-1", label + "@base+1", label, label[:5],
                    label + "@" + on_line[:4]]
    out += ["zzzz9"]
    seen = set()
    return [t for t in out if not (t in seen or seen.add(t))]


RELATIVE = re.compile(r"[+-]|.*@")


def cases():
    out = []
    for name, graph in GRAPHS.items():
        ids = [r.id for r in graph["revs"]]
        mid = graph["mid"]
        ts = targets(graph)

        def add(kind, *commands):
            out.append(Case(name + ": " + " ; ".join(" ".join(c) for c in commands), name, kind,
                            [list(c) for c in commands]))

        for t in ts:
            add("db", ("upgrade", t))
        for t in ts:
            add("db", ("upgrade", "heads"), ("downgrade", t))
        for t in ts:
            if RELATIVE.match(t) or t in ("heads", "base"):
                add("db", ("upgrade", mid), ("upgrade", t))
                add("db", ("upgrade", mid), ("downgrade", t))
        for t in ["heads", "base"] + ids + [label + "@head" for label in labels_of(graph)]:
            add("db", ("stamp", t), ("upgrade", "heads"))
        add("db", ("upgrade", mid), ("stamp", "heads"), ("downgrade", "base"))
        add("db", ("upgrade", mid), ("stamp", "--purge", ids[-1]))
        for t in ["heads"] + ids:
            add("offline", ("upgrade", "--sql", "base:" + t))
        add("offline", ("upgrade", "--sql", mid + ":heads"))
        add("offline", ("downgrade", "--sql", "heads:base"))
        add("offline", ("downgrade", "--sql", ids[-1] + ":base"))
        for c in (["heads"], ["heads", "-v"], ["branches"], ["branches", "-v"], ["history"],
                  ["history", "-v"], ["history", "-r", mid + ":"], ["history", "-r", ":" + mid],
                  ["history", "-r", ids[-1] + ":" + ids[0]], ["history", "-r", "heads:" + ids[0]]):
            add("info", c)
        for t in ids + labels_of(graph) + ["heads"]:
            add("info", ("show", t))
    return out


# ---------------------------------------------------------------------------
# Running one tool.

Outcome = collections.namedtuple("Outcome", "rc out progress rows steps detail")


class AlembicRunner:
    """Alembic's command line, in this process, against one database."""

    def __init__(self, url):
        self.url = url
        self.cl = CommandLine(prog="alembic")
        self.engine = create_engine(url, poolclass=NullPool)
        self.db = psycopg2.connect(url)
        self.db.autocommit = True
        self.records = []
        handler = logging.Handler()
        handler.emit = lambda record: self.records.append(record.getMessage())
        logger = logging.getLogger("alembic")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    def reset(self):
        with self.db.cursor() as c:
            c.execute("SELECT reset_state()")

    def run(self, adir, args):
        cl = self.cl
        out = io.StringIO()
        del self.records[:]
        rc = 0
        detail = ""
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
            warnings.simplefilter("always")
            try:
                options = cl.parser.parse_args(args)
                cfg = Config(stdout=out, output_buffer=out, cmd_opts=options,
                             attributes={"engine": self.engine})
                cfg.set_main_option("script_location", adir)
                cfg.set_main_option("sqlalchemy.url", self.url)
                cl.run_cmd(cfg, options)
            except SystemExit as e:
                rc = 255 if e.code == -1 else int(e.code or 0)
            except Exception as e:  # Alembic itself failed, as its command line would show
                rc = 1
                detail = "%s: %s" % (type(e).__name__, e)
        for w in caught:
            detail += " warning: %s" % w.message
        text = out.getvalue()
        if rc != 0 and not detail:
            detail = text.strip()
        # Stamps: schemagate says "Stamped A -> B" once (README).
        progress = [m for m in self.records if m.startswith("Running ") and not m.startswith("Running stamp_")]
        return text, rc, progress, detail.strip()


class SchemagateRunner:
    """The schemagate binary, a process per command, against another database."""

    def __init__(self, binary, url):
        self.binary = binary
        self.url = url
        self.db = psycopg2.connect(url)
        self.db.autocommit = True
        self.record = None
        out_dir = os.environ.get("SCHEMAGATE_TEST_OUTPUT_DIR")
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            self.record = os.path.join(out_dir, "outputs-%d-differential.log" % os.getpid())

    def reset(self):
        with self.db.cursor() as c:
            c.execute("SELECT reset_state()")

    def run(self, sdir, args):
        argv = [self.binary] + list(args)
        if not (len(args) > 1 and args[1] == "--sql") and args[0] not in ("heads", "branches", "history", "show"):
            argv += ["--url", self.url]
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        env.pop("ENVIRONMENT", None)
        p = subprocess.run(argv + ["--log-format", "json"], cwd=sdir, env=env, capture_output=True,
                           text=True, timeout=120)
        if self.record:
            with open(self.record, "a") as f:
                f.write("### schemagate %s (exit %d)\n%s%s\n" % (args[0], p.returncode, p.stdout, p.stderr))
        progress, errors = [], []
        for line in p.stderr.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                errors.append(line)
                continue
            msg = entry.get("msg", "")
            if msg.startswith("Running "):
                progress.append(re.sub(r" \(\d+ ms\)$", "", msg))
            elif entry.get("level") in ("error", "warning"):
                errors.append(msg)
        return p.stdout, p.returncode, progress, " ".join(errors)


# One round trip each: the steps run and the version rows; a fresh start.
STATE_SQL = """
CREATE TABLE steps (n serial PRIMARY KEY, s text NOT NULL);
CREATE FUNCTION read_state(OUT steps text[], OUT rows text[]) LANGUAGE plpgsql AS $$
BEGIN
  steps := ARRAY(SELECT s FROM steps ORDER BY n);
  rows := '{}';
  IF to_regclass('alembic_version') IS NOT NULL THEN
    EXECUTE 'SELECT ARRAY(SELECT version_num::text FROM alembic_version ORDER BY 1)' INTO rows;
  END IF;
END $$;
CREATE FUNCTION reset_state() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DROP TABLE IF EXISTS alembic_version, schemagate_log;
  DELETE FROM steps;
END $$;
"""


def state(db):
    with db.cursor() as c:
        c.execute("SELECT * FROM read_state()")
        steps, rows = c.fetchone()
    return steps, rows


def run_side(runner, trees, side, selected, results):
    """Runs every selected case through one tool; results[case id] = [Outcome...]."""
    for case in selected:
        d = trees[case.graph][side]
        if case.kind != "db":
            out, rc, progress, detail = runner.run(d, case.commands[0])
            results[case.id] = [Outcome(rc, out, progress, None, None, detail)]
            continue
        runner.reset()
        outcomes = []
        seen = 0
        for command in case.commands + [["current"]]:
            out, rc, progress, detail = runner.run(d, command)
            steps, rows = state(runner.db)
            outcomes.append(Outcome(rc, out, progress, rows, steps[seen:], detail))
            seen = len(steps)
        results[case.id] = outcomes


def run_shard(shard):
    """Runs some cases through both tools, each on a database of its own;
    returns (Alembic's outcomes, schemagate's, seconds each side took)."""
    args, trees, selected, index = shard
    started = time.monotonic()
    urls = {}
    admin = psycopg2.connect(args.url)
    admin.autocommit = True
    for side in ("alembic", "schemagate"):
        name = "sg_differential_%s_%d" % (side, index)
        with admin.cursor() as c:
            c.execute("DROP DATABASE IF EXISTS %s" % name)
            c.execute("CREATE DATABASE %s" % name)
        urls[side] = with_database(args.url, name)
        with psycopg2.connect(urls[side]) as db, db.cursor() as c:
            c.execute(STATE_SQL)
    admin.close()
    alembic, schemagate = AlembicRunner(urls["alembic"]), SchemagateRunner(args.schemagate, urls["schemagate"])
    a_results, s_results, took, failure = {}, {}, {}, []

    # schemagate's side waits on processes, Alembic's holds the interpreter:
    # side by side they take the time of the slower.
    def run_schemagate():
        try:
            run_side(schemagate, trees, "schemagate", selected, s_results)
        except Exception as e:  # raised below
            failure.append(e)
        took["schemagate"] = time.monotonic() - started

    worker = threading.Thread(target=run_schemagate)
    worker.start()
    run_side(alembic, trees, "alembic", selected, a_results)
    took["Alembic"] = time.monotonic() - started
    worker.join()
    if failure:
        raise failure[0]
    return a_results, s_results, took


def with_database(url, name):
    """`url` with its database replaced by `name`."""
    scheme, rest = url.split("://", 1)
    authority, _, tail = rest.partition("/")
    query = tail.partition("?")[2]
    return "%s://%s/%s%s" % (scheme, authority, name, "?" + query if query else "")


# ---------------------------------------------------------------------------
# Comparing.

def normalise_line(line):
    # Sets Alembic prints in hash order: branch labels "(a, b)", "Branches
    # into:", "Branch names:". Sorted on both sides.
    line = re.sub(r"\(([^()]*, [^()]*)\)", lambda m: "(" + ", ".join(sorted(m.group(1).split(", "))) + ")", line)
    m = re.match(r"^(Branches into|Branch names): (.*)$", line)
    if m:
        line = m.group(1) + ": " + ", ".join(sorted(m.group(2).split(", ")))
    if line.startswith("Path: "):
        line = "Path: -"
    return line


def entries(text):
    """Splits info output into order-free entries: `Rev:` blocks, blank-line
    separated blocks, or lines; each normalised, children sorted."""
    lines = [normalise_line(l.rstrip("\n")) for l in text.splitlines()]
    # What schemagate's files have and Alembic's do not: the checksum and the
    # sections (README, Differences from Alembic).
    lines = [l for l in lines if not (l.startswith("    Checksum: ") or l.startswith("    Section "))]
    if any(l.startswith("Rev: ") for l in lines):
        blocks, cur = [], None
        for l in lines:
            if l.startswith("Rev: "):
                cur = [l]
                blocks.append(cur)
            elif cur is not None:
                cur.append(l)
    elif any(l.strip().startswith("-> ") for l in lines):
        blocks, cur = [], []
        for l in lines + [""]:
            if l == "":
                if cur:
                    blocks.append(cur)
                cur = []
            else:
                cur.append(l)
    else:
        return sorted(l for l in lines if l)
    out = []
    for b in blocks:
        while b and b[-1].strip() == "":
            b.pop()
        children = sorted(l for l in b if l.lstrip().startswith("-> "))
        out.append("\n".join([l for l in b if not l.lstrip().startswith("-> ")] + children))
    return sorted(out)


def parents_of(graph):
    """Everything a revision needs before it: down_revisions and depends_on
    (labels resolved)."""
    by_label = {label: r.id for r in graph["revs"] for label in r.labels}
    return {r.id: set(r.down) | {by_label.get(d, d) for d in r.deps} for r in graph["revs"]}


def order_problem(graph, steps):
    """Why `steps` is not an order the graph allows, or ''."""
    parents = parents_of(graph)
    pos = {s: i for i, s in enumerate(steps)}
    for s in steps:
        rid = s.lstrip("-")
        for p in parents.get(rid, ()):
            if s.startswith("-"):
                if "-" + p in pos and pos["-" + p] < pos[s]:
                    return "%s reverted before %s, which needs it" % (p, rid)
            elif p in pos and pos[p] > pos[s]:
                return "%s applied before %s, which it needs" % (rid, p)
    return ""


def offline_summary(graph, text):
    """An offline script as (steps, '-- Running' comments, version rows its
    writes leave, problems)."""
    steps, comments, rows, problems = [], [], set(), []
    touched = set()  # rows the script wrote; others it changes were there before it
    for raw in re.split(r";\s*\n", text):
        stmt = "\n".join(l for l in raw.splitlines() if not l.startswith("--")).strip()
        comments += [l for l in raw.splitlines() if l.startswith("-- Running ")]
        m = re.match(r"INSERT INTO steps \(s\) VALUES \('([^']*)'\)", stmt)
        if m:
            steps.append(m.group(1))
            continue
        m = re.match(r"INSERT INTO (?:\w+\.)?alembic_version \(version_num\) VALUES \('([^']*)'\)", stmt)
        if m:
            rows.add(m.group(1))
            touched.add(m.group(1))
            continue
        m = re.match(r"UPDATE (?:\w+\.)?alembic_version SET version_num='([^']*)' WHERE "
                     r"(?:\w+\.)?(?:alembic_version\.)?version_num = '([^']*)'", stmt)
        if m:
            if m.group(2) not in rows and m.group(2) in touched:
                problems.append("UPDATE of a row that is not there: " + m.group(2))
            rows.discard(m.group(2))
            rows.add(m.group(1))
            touched.update(m.groups())
            continue
        m = re.match(r"DELETE FROM (?:\w+\.)?alembic_version WHERE (?:\w+\.)?(?:alembic_version\.)?"
                     r"version_num = '([^']*)'", stmt)
        if m:
            if m.group(1) not in rows and m.group(1) in touched:
                problems.append("DELETE of a row that is not there: " + m.group(1))
            rows.discard(m.group(1))
            touched.add(m.group(1))
    return steps, sorted(comments), sorted(rows), problems


def compare(case, graph, a, s):
    """The differences between Alembic's outcomes `a` and schemagate's `s`,
    as lines; [] when they agree."""
    diffs = []
    for i, (ao, so) in enumerate(zip(a, s)):
        cmd = " ".join((case.commands + [["current"]])[i])
        where = "`%s`: " % cmd
        if (ao.rc != 0) != (so.rc != 0):
            diffs.append(where + "Alembic %s, schemagate %s" % (
                "refuses (%s)" % ao.detail if ao.rc else "succeeds",
                "refuses (exit %d: %s)" % (so.rc, so.detail) if so.rc else "succeeds"))
            break
        if so.rc not in (0, 2, 4):
            diffs.append(where + "schemagate exits %d (a refusal is 2 or 4): %s" % (so.rc, so.detail))
        if case.kind == "info":
            # Both refusing agree; Alembic prints its FAILED line to stdout, schemagate its error to stderr.
            if ao.rc == 0 and entries(ao.out) != entries(so.out):
                diffs.append(where + "output differs\n--- Alembic\n%s--- schemagate\n%s" % (ao.out, so.out))
            continue
        if case.kind == "offline":
            if ao.rc == 0:
                at, st = offline_summary(graph, ao.out), offline_summary(graph, so.out)
                if sorted(at[0]) != sorted(st[0]):
                    diffs.append(where + "steps %s, schemagate %s" % (at[0], st[0]))
                for name, summary in (("schemagate", st), ("Alembic", at)):
                    why = order_problem(graph, summary[0])
                    if why:
                        diffs.append(where + name + "'s order " + " ".join(summary[0]) + ": " + why)
                    if summary[3]:
                        diffs.append(where + name + ": " + "; ".join(summary[3]))
                if at[1] != st[1]:
                    diffs.append(where + "comments %s, schemagate %s" % (at[1], st[1]))
                if at[2] != st[2]:
                    diffs.append(where + "the writes leave %s, schemagate's %s" % (at[2], st[2]))
            continue
        if sorted(ao.steps) != sorted(so.steps):
            diffs.append(where + "steps: Alembic %s, schemagate %s" % (" ".join(ao.steps), " ".join(so.steps)))
        for name, o in (("schemagate", so), ("Alembic", ao)):
            why = order_problem(graph, o.steps)
            if why:
                diffs.append(where + "%s's order %s: %s" % (name, " ".join(o.steps), why))
        if ao.rows != so.rows:
            diffs.append(where + "alembic_version: Alembic %s, schemagate %s" % (ao.rows, so.rows))
        if sorted(ao.progress) != sorted(so.progress):
            diffs.append(where + "progress lines: Alembic %s, schemagate %s" % (ao.progress, so.progress))
        if cmd == "current" and entries(ao.out) != entries(so.out):
            diffs.append(where + "Alembic prints %r, schemagate %r" % (ao.out, so.out))
        if "warning" in ao.detail and ao.rc == 0:
            diffs.append(where + "Alembic warns:" + ao.detail.split("warning:", 1)[1])
    return diffs


# ---------------------------------------------------------------------------
# The cases that differ on purpose, and those still being fixed (issue 17,
# points 1-5). Exact case ids.

SEVERAL_HEADS = ("a relative downgrade with several heads: Alembic picks one by row order and warns that "
                 "it will stop allowing it; schemagate refuses and names the heads (README)")
ALEMBIC_FAILS = "Alembic 1.8.1 fails with an AssertionError; schemagate answers"

DELIBERATE = {
    "branches: upgrade heads ; downgrade -1": SEVERAL_HEADS,
    "branches: upgrade heads ; downgrade -2": SEVERAL_HEADS,
    "bases: upgrade heads ; downgrade -1": SEVERAL_HEADS,
    "bases: upgrade heads ; downgrade -2": SEVERAL_HEADS,
    "labels: upgrade heads ; downgrade -1": SEVERAL_HEADS,
    "labels: upgrade heads ; downgrade -2": SEVERAL_HEADS,
    "depends: upgrade heads ; downgrade -1": SEVERAL_HEADS,
    "depbase: upgrade heads ; downgrade -1": SEVERAL_HEADS,
    # REV-1 where REV is a base that depends on another line.
    "depends: upgrade 4d1e2f3a4b5c-1": ALEMBIC_FAILS,
    "depbase: upgrade b1c2d3e4-1": ALEMBIC_FAILS,
    # A history range from a revision with an effective head above it.
    "effective: history -r c1d2e3f4:": ALEMBIC_FAILS,
}

KNOWN_DIFFERENCES = {
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--schemagate", required=True)
    p.add_argument("--url", required=True, help="a superuser's URL: the suite makes its databases there")
    p.add_argument("--jobs", type=int, default=4, help="cases run in this many processes")
    p.add_argument("--work", required=True)
    p.add_argument("--only", help="run the cases whose id contains this")
    p.add_argument("--show-differences", action="store_true",
                   help="print every differing case id as a Python literal (to maintain the lists)")
    args = p.parse_args()

    started = time.monotonic()
    trees = {}
    for name, graph in GRAPHS.items():
        adir, sdir = write_trees(args.work, name, graph)
        trees[name] = {"alembic": adir, "schemagate": sdir}
    selected = [c for c in cases() if not args.only or args.only in c.id]
    ids = [c.id for c in selected]
    assert len(ids) == len(set(ids)), "case ids must be unique"

    jobs = max(1, min(args.jobs, len(selected)))
    shards = [(args, trees, selected[i::jobs], i) for i in range(jobs)]
    if jobs == 1:
        done = [run_shard(shards[0])]
    else:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            done = pool.map(run_shard, shards)
    a_results, s_results, took = {}, {}, collections.Counter()
    for a, s, t in done:
        a_results.update(a)
        s_results.update(s)
        for side, seconds in t.items():
            took[side] = max(took[side], seconds)

    listed = dict(DELIBERATE)
    listed.update(KNOWN_DIFFERENCES)
    problems, differing, counts = [], [], collections.Counter()
    for case in selected:
        diffs = compare(case, GRAPHS[case.graph], a_results[case.id], s_results[case.id])
        counts[case.kind] += 1
        if diffs:
            differing.append(case.id)
        if diffs and case.id not in listed:
            problems.append("DIFFERS  %s\n    %s" % (case.id, "\n    ".join(d.replace("\n", "\n    ") for d in diffs)))
        elif not diffs and case.id in listed:
            problems.append("AGREES   %s\n    listed as a difference (%s); remove it from the list"
                            % (case.id, listed[case.id]))
    if not args.only:
        for stale in sorted(set(listed) - set(ids)):
            problems.append("UNKNOWN  %s\n    listed, but no such case" % stale)
    elapsed = time.monotonic() - started
    for line in problems:
        print(line)
    if args.show_differences:
        for cid in differing:
            print("    %r: \"\"," % cid)
    known = sum(1 for c in differing if c in KNOWN_DIFFERENCES)
    deliberate = sum(1 for c in differing if c in DELIBERATE)
    print("%d cases (%s) in %.1f s (%s): %d agree, %d known differences, %d deliberate, %d problems"
          % (len(selected), ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items())), elapsed,
             ", ".join("%s side %.1f s" % kv for kv in sorted(took.items())),
             len(selected) - len(differing), known, deliberate, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
