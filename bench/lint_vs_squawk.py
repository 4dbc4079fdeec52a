#!/usr/bin/env python3
"""`schemagate lint` beside squawk 2.66.0 on the same upgrade statements.

    python3 bench/lint_vs_squawk.py [SCHEMAGATE]
        installs squawk (scripts/install-squawk.sh), lints the bundled
        migrations and the rule corpus (bench/lint_corpus.py) with both tools,
        times both on 1,000 generated migrations, and writes the result into
        docs/lint.md between <!-- findings:begin --> and <!-- findings:end -->.
    python3 bench/lint_vs_squawk.py --check --squawk PATH [SCHEMAGATE]
        writes nothing: checks docs/lint.md's rule table against both tools'
        rules and the real squawk against schemagate on the rule corpus,
        printing "ok: ..." / "FAIL: ..." lines (tests/packaging/lint_squawk_test.sh).

How squawk is run: on each migration's upgrade sections for production as
plain SQL, line numbers kept (lint_corpus.py --sql). Transactional sections
with --assume-in-transaction, because schemagate runs them in a transaction;
transaction:false sections without it, because there each statement commits
on its own. --pg-version=19 throughout: squawk's prefer-repack reports
VACUUM FULL and CLUSTER only for PostgreSQL 19 and later (it suggests REPACK,
new in 19). A finding matches when squawk reports a rule on a line where
schemagate reports one of that rule's counterparts: the rules whose "squawk"
field (schemagate lint --list-rules --format json) names it, and those the
docs/lint.md table adds.
"""
import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import lint_corpus  # noqa: E402

SQUAWK_VERSION = "2.66.0"
# squawk 2.66.0's rules (each accepted by --exclude), and its built-in
# findings (a statement its parser refuses; an unknown name in a
# `-- squawk-ignore` comment), which --exclude does not take.
SQUAWK_RULES = """adding-field-with-default adding-foreign-key-constraint adding-not-nullable-field
adding-required-field adding-serial-primary-key-field ban-char-field
ban-concurrent-index-creation-in-transaction ban-drop-column ban-drop-database ban-drop-not-null
ban-drop-table changing-column-type constraint-missing-not-valid disallowed-unique-constraint
prefer-bigint-over-int prefer-bigint-over-smallint prefer-identity prefer-robust-stmts
prefer-text-field prefer-timestamptz renaming-column renaming-table
require-concurrent-index-creation require-concurrent-index-deletion transaction-nesting
ban-create-domain-with-constraint ban-alter-domain-with-add-constraint ban-truncate-cascade
require-timeout-settings ban-uncommitted-transaction require-enum-value-ordering
require-table-schema identifier-too-long require-concurrent-partition-detach
require-concurrent-reindex prefer-repack ban-duplicate-column-assignments""".split()
SQUAWK_BUILT_IN = ["syntax-error", "unused-ignore"]
SQUAWK_OPT_IN = ["require-table-schema"]
# The names squawk's JSON gives some findings, and the rule they belong to.
SQUAWK_REPORTED_AS = {
    "prefer-timestamp-tz": "prefer-timestamptz",
    "require-lock-timeout": "require-timeout-settings",
    "require-statement-timeout": "require-timeout-settings",
}
SQUAWK_FLAGS = ["--reporter", "json", "--pg-version=19"]

# Where squawk reports a rule and schemagate none of its counterparts, and
# why: (squawk's name for the finding, a regex the statement's line matches
# or None for any line, why, whose gap). The entries with a regex are
# statements of the rule corpus: --check fails when one no longer differs,
# so the list stays true. Those without one explain the bundled migrations
# and are not used by --check (they would excuse a real miss there).
DIFFERENCES = [
    ("changing-column-type", r"TYPE text;",
     "varchar(20) to text is a catalog-only change (no rewrite, no scan), which schemagate tells "
     "apart from the column's type in the earlier migration; squawk reports every type change",
     "deliberate"),
    ("unused-ignore", r"-- squawk-ignore no-such-rule",
     "squawk's own ignore comment, which schemagate does not read; schemagate reports its own "
     "lint-ignore naming an unknown rule (the line above) as invalid-lint-ignore",
     "deliberate"),
    ("require-statement-timeout", None,
     "schemagate has no statement_timeout rule; the runner's statement_timeout setting "
     "(--statement-timeout) bounds migration SQL",
     "deliberate"),
    ("require-lock-timeout", None,
     "squawk reports a file's first statement that takes any lock, new objects and SHARE UPDATE "
     "EXCLUSIVE included; schemagate reports every statement that queues an ACCESS EXCLUSIVE lock on "
     "an existing table",
     "deliberate"),
]

# Why schemagate reports a statement squawk does not, where the rule's
# "squawk" field alone does not say: (schemagate rule, regex on the line, why).
SCHEMAGATE_ONLY = [
    ("transaction-control", r"^(BEGIN|COMMIT)\b",
     "squawk, told the file runs outside a transaction, takes a BEGIN ... COMMIT pair; schemagate "
     "reports every transaction statement in a migration"),
    ("table-rewrite", r"SET (UN)?LOGGED", "squawk has no rule for SET LOGGED / UNLOGGED"),
    ("table-rewrite", r"serial", "a serial column added to a table with rows fills every row from its "
     "sequence, a rewrite; squawk reports only the type (prefer-identity)"),
]

BEGIN, END = "<!-- findings:begin -->", "<!-- findings:end -->"
TABLE_HEADER = "| squawk rule | schemagate rule(s) | note |"


# --- running the tools

def run(cmd, cwd=None):
    """(stdout, exit code, user+sys CPU seconds) of one process."""
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        out.seek(0)
        return out.read().decode(), os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def schemagate_rules(schemagate):
    text, code, _ = run([schemagate, "lint", "--list-rules", "--format", "json"])
    if code != 0:
        sys.exit(f"{schemagate} lint --list-rules failed")
    return {r["rule"]: [s.strip() for s in r["squawk"].split(",") if s.strip()] for r in json.loads(text)}


def lint_schemagate(schemagate, root):
    """[(file name, line, rule)] and CPU seconds; `root` holds migrations/."""
    text, code, cpu = run([schemagate, "lint", "--script-location", "migrations", "--format", "json",
                           "--log-format", "text"], cwd=root)
    if code not in (0, 4):
        sys.exit(f"schemagate lint failed in {root} (exit {code})")
    report = json.loads(text)
    return [(os.path.basename(f["file"]), f["line"], f["rule"]) for f in report["findings"]], cpu


def lint_squawk(squawk, sql_dir, include=()):
    """[(file name, line, squawk's name for the finding)] and CPU seconds, for
    the files lint_corpus.write_squawk_sql wrote under `sql_dir`."""
    findings, cpu = [], 0.0
    extra = [f"--include={','.join(include)}"] if include else []
    for sub, flags in (("transactional", ["--assume-in-transaction"]), ("no-transaction", [])):
        where = os.path.join(sql_dir, sub)
        files = sorted(f for f in os.listdir(where) if f.endswith(".sql"))
        if not files:
            continue
        text, code, used = run([squawk] + SQUAWK_FLAGS + flags + extra + files, cwd=where)
        if code not in (0, 1):
            sys.exit(f"squawk failed on {where} (exit {code})")
        cpu += used
        # squawk's lines count from 0.
        findings += [(f["file"], f["line"] + 1, f["rule_name"]) for f in json.loads(text)]
    return findings, cpu


# --- docs/lint.md's rule table

def doc_table(doc_text):
    """[(squawk ids, schemagate ids, row)] of the table under TABLE_HEADER."""
    lines = doc_text.split("\n")
    try:
        start = lines.index(TABLE_HEADER)
    except ValueError:
        return None
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        ids = lambda cell: re.findall(r"`([a-z0-9-]+)`", cell)  # noqa: E731
        rows.append((ids(cells[0]), ids(cells[1]) if len(cells) > 1 else [], line))
    return rows


def counterparts(rules, table):
    """squawk id -> the schemagate rules that cover it: the "squawk" fields,
    plus what the doc table's row for it names."""
    mapping = collections.defaultdict(set)
    for rule, squawk_ids in rules.items():
        for s in squawk_ids:
            mapping[s].add(rule)
    for squawk_ids, sg_ids, _ in table:
        for s in squawk_ids:
            mapping[s].update(sg_ids)
    return mapping


def no_counterpart(table):
    """The squawk rules the doc table gives no schemagate rule."""
    return {s for squawk_ids, sg_ids, _ in table if not sg_ids for s in squawk_ids}


def check_table(rules, table, out):
    squawk_in_doc = {s for squawk_ids, _, _ in table for s in squawk_ids}
    sg_in_doc = {r for _, sg_ids, _ in table for r in sg_ids}
    for rule in rules:
        out(rule in sg_in_doc, f"schemagate rule {rule} has a row in docs/lint.md")
    named = {s for ids in rules.values() for s in ids}
    for s in sorted(set(SQUAWK_RULES) | set(SQUAWK_BUILT_IN) | named):
        out(s in squawk_in_doc, f"squawk rule {s} has a row in docs/lint.md")
    for s in sorted(named - set(SQUAWK_RULES) - set(SQUAWK_BUILT_IN)):
        out(False, f"a \"squawk\" field names {s}, which is no squawk {SQUAWK_VERSION} rule")
    doc_map = counterparts({}, table)
    for rule, squawk_ids in rules.items():
        for s in squawk_ids:
            out(rule in doc_map.get(s, ()), f"docs/lint.md's row for {s} names {rule} (its \"squawk\" field)")
    for squawk_ids, sg_ids, _ in table:
        for s in squawk_ids:
            for rule in sg_ids:
                if s not in rules.get(rule, ()):
                    print(f"note: docs/lint.md's row for {s} also names {rule}, whose \"squawk\" field does not")
    for s in sorted(no_counterpart(table)):
        mapped = sorted(r for r, ids in rules.items() if s in ids)
        out(not mapped, f"{s}, documented without a counterpart, is named by no \"squawk\" field"
            + (f" (named by {', '.join(mapped)})" if mapped else ""))


# --- comparing findings

def explain(name, line_text, use_generic):
    for reported, pattern, why, whose in DIFFERENCES:
        if reported != name:
            continue
        if pattern is None and not use_generic:
            continue
        if pattern is None or re.search(pattern, line_text):
            return (reported, pattern), why, whose
    return None, None, None


def compare(sg, sq, mapping, missing_ok, sources, use_generic=True):
    """Per line: squawk's rules, schemagate's rules, and the differences:
    {(file, line): {"squawk": [...], "schemagate": [...], "squawk_only": [(rule, why, whose, key)],
    "schemagate_only": [rule]}}."""
    rows = collections.defaultdict(lambda: {"squawk": [], "schemagate": [], "squawk_only": [],
                                            "schemagate_only": []})
    for file, line, rule in sg:
        if rule not in rows[(file, line)]["schemagate"]:
            rows[(file, line)]["schemagate"].append(rule)
    for file, line, name in sq:
        if name not in rows[(file, line)]["squawk"]:
            rows[(file, line)]["squawk"].append(name)
    for (file, line), row in rows.items():
        text = sources.get(file, [])[line - 1] if line - 1 < len(sources.get(file, [])) else ""
        covered = set()
        for name in row["squawk"]:
            rule = SQUAWK_REPORTED_AS.get(name, name)
            parts = mapping.get(rule, set())
            covered |= parts
            if rule in missing_ok:
                row["squawk_only"].append((name, "no schemagate counterpart (see the rule table)", "none", None))
            elif not parts & set(row["schemagate"]):
                key, why, whose = explain(name, text, use_generic)
                row["squawk_only"].append((name, why, whose, key))
        row["schemagate_only"] = [r for r in row["schemagate"] if r not in covered]
        row["text"] = text
    return rows


def read_sources(versions):
    sources = {}
    for name in os.listdir(versions):
        if name.endswith(".sql"):
            with open(os.path.join(versions, name)) as f:
                sources[name] = f.read().split("\n")
    return sources


def corpus(tmp, name, build):
    """Writes a corpus (build(versions dir)) and its squawk SQL; returns (root, sql dir)."""
    root = os.path.join(tmp, name)
    versions = os.path.join(root, "migrations", "versions")
    os.makedirs(versions)
    build(versions)
    sql = os.path.join(tmp, name + "-sql")
    lint_corpus.write_squawk_sql(versions, sql)
    return root, sql


def copy_bundled(versions):
    source = os.path.join(ROOT, "migrations", "versions")
    for name in sorted(os.listdir(source)):
        with open(os.path.join(source, name)) as f, open(os.path.join(versions, name), "w") as g:
            g.write(f.read())


# --- --check

def check(args):
    results = []

    def out(good, what):
        results.append(good)
        print(("ok: " if good else "FAIL: ") + what)

    text, _, _ = run([args.squawk, "--version"])
    out(text.strip() == f"squawk {SQUAWK_VERSION}", f"squawk --version says {SQUAWK_VERSION} ({text.strip()!r})")
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.sql")
        open(empty, "w").close()
        _, code, _ = run([args.squawk, "--exclude=" + ",".join(SQUAWK_RULES), empty])
        out(code == 0, f"squawk {SQUAWK_VERSION} knows every rule of the list (--exclude takes them all)")

        rules = schemagate_rules(args.schemagate)
        with open(args.doc) as f:
            table = doc_table(f.read())
        out(table is not None, f"{os.path.relpath(args.doc, ROOT)} has the rule table ({TABLE_HEADER})")
        if table is None:
            return results
        check_table(rules, table, out)

        root, sql = corpus(tmp, "rules", lint_corpus.write_rule_corpus)
        sg, _ = lint_schemagate(args.schemagate, root)
        sq, _ = lint_squawk(args.squawk, sql, include=SQUAWK_OPT_IN)
        sources = read_sources(os.path.join(root, "migrations", "versions"))
        rows = compare(sg, sq, counterparts(rules, table), no_counterpart(table), sources,
                       use_generic=False)
        seen = set()
        for (file, line), row in sorted(rows.items()):
            for name, why, whose, key in row["squawk_only"]:
                if whose == "none":
                    continue
                if key is None:
                    out(False, f"{file}:{line}: squawk reports {name}, schemagate none of its counterparts "
                        f"(schemagate: {', '.join(row['schemagate']) or 'nothing'}): {row['text'].strip()}")
                else:
                    seen.add(key)
        bad = [r for r in rows.values() for name, _, whose, key in r["squawk_only"] if whose != "none" and key is None]
        out(not bad, "every squawk finding on the rule corpus has a schemagate counterpart on its line, "
            "a documented no-counterpart rule or a listed difference")
        for reported, pattern, _, _ in DIFFERENCES:
            if pattern is not None:
                out((reported, pattern) in seen,
                    f"the listed difference {reported} on /{pattern}/ still occurs on the rule corpus")
        fired_sg = {r for _, _, r in sg}
        for rule in rules:
            out(rule in fired_sg, f"the rule corpus triggers schemagate's {rule}")
        fired_sq = {SQUAWK_REPORTED_AS.get(n, n) for _, _, n in sq}
        for s in SQUAWK_RULES + SQUAWK_BUILT_IN:
            out(s in fired_sq, f"the rule corpus triggers squawk's {s}")
    return results


# --- the findings section of docs/lint.md

def cell(items):
    return ", ".join(f"`{i}`" for i in items) if items else "—"


def abbreviate(text, width=70):
    text = " ".join(text.split())
    if len(text) > width:
        text = text[:width - 1] + "…"
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def schemagate_only_why(rule, text, rules):
    for r, pattern, why in SCHEMAGATE_ONLY:
        if r == rule and re.search(pattern, text):
            return why
    if not rules.get(rule):
        return "squawk has no such rule"
    return "squawk's " + ", ".join(f"`{s}`" for s in rules[rule]) + " does not report it here"


def render_corpus(title, intro, rows, sg, sq, rules):
    lines = [f"### {title}", "", intro, "",
             "| line | statement | squawk | schemagate | differences |", "|---|---|---|---|---|"]
    notes = {}  # text -> letter, in order of first use

    def note(text):
        if text not in notes:
            notes[text] = "abcdefghijklmnopqrstuvwxyz"[len(notes)]
        return f"({notes[text]})"

    squawk_only, sg_only = 0, 0
    for (file, line), row in sorted(rows.items()):
        diff = []
        for name, why, whose, _ in row["squawk_only"]:
            if whose == "none":
                diff.append(f"squawk only: `{name}` " + note("no schemagate counterpart, on purpose (see the table above)"))
            else:
                diff.append(f"squawk only: `{name}` " + note(f"{whose}: {why}" if why else "unexplained"))
        for rule in row["schemagate_only"]:
            diff.append(f"schemagate only: `{rule}` " + note(schemagate_only_why(rule, row["text"], rules)))
        squawk_only += bool(row["squawk_only"])
        sg_only += bool(row["schemagate_only"])
        lines.append(f"| {file}:{line} | {abbreviate(row['text'])} | {cell(row['squawk'])} | "
                     f"{cell(row['schemagate'])} | {'; '.join(diff) if diff else 'same'} |")
    lines.append("")
    lines += [f"({letter}) {text}.  " for text, letter in notes.items()]
    if notes:
        lines[-1] = lines[-1].rstrip()
        lines.append("")
    both = sum(1 for r in rows.values() if r["squawk"] and r["schemagate"])
    count = lambda n, what: f"{n} {what}" + ("" if n == 1 else "s")  # noqa: E731
    lines.append(
        f"Totals: squawk {count(len(sq), 'finding')} on {count(sum(1 for r in rows.values() if r['squawk']), 'line')}, "
        f"schemagate {count(len(sg), 'finding')} on "
        f"{count(sum(1 for r in rows.values() if r['schemagate']), 'line')}; "
        f"{count(both, 'line')} flagged by both; {count(squawk_only, 'line')} where squawk reports a rule "
        f"and schemagate none of its counterparts; {count(sg_only, 'line')} where schemagate reports a "
        "rule and squawk none of its counterparts.")
    return lines


def speed(schemagate, squawk, tmp, count, runs=5):
    stats = {}

    def build(versions):
        stats["statements"] = lint_corpus.write_realistic(versions, count)

    root, sql = corpus(tmp, "speed", build)
    stats["load"] = os.getloadavg()[0]
    sg_cpu, sq_cpu = [], []
    for _ in range(runs):
        sg, cpu = lint_schemagate(schemagate, root)
        sg_cpu.append(cpu)
        sq, cpu = lint_squawk(squawk, sql)
        sq_cpu.append(cpu)
    return (stats, statistics.median(sg_cpu), sg_cpu, len(sg), statistics.median(sq_cpu), sq_cpu,
            len(sq))


def write(args):
    squawk = args.squawk or subprocess.run(["bash", os.path.join(ROOT, "scripts", "install-squawk.sh")],
                                           check=True, capture_output=True, text=True).stdout.strip()
    rules = schemagate_rules(args.schemagate)
    with open(args.doc) as f:
        doc = f.read()
    table = doc_table(doc)
    if table is None:
        sys.exit(f"{args.doc} has no rule table")
    mapping, missing_ok = counterparts(rules, table), no_counterpart(table)
    out = [BEGIN, "",
           f"Written by `python3 bench/lint_vs_squawk.py` (squawk {SQUAWK_VERSION}, "
           "`" + " ".join(SQUAWK_FLAGS) + "`, `--assume-in-transaction` on transactional sections; "
           "schemagate `lint --format json`). A line's findings match when squawk's rule and one of its "
           "schemagate counterparts (the table above) are both reported there.", ""]
    with tempfile.TemporaryDirectory() as tmp:
        root, sql = corpus(tmp, "bundled", copy_bundled)
        sg, _ = lint_schemagate(args.schemagate, root)
        sq, _ = lint_squawk(squawk, sql)
        rows = compare(sg, sq, mapping, missing_ok, read_sources(os.path.join(root, "migrations", "versions")))
        out += render_corpus("The bundled migrations", "`migrations/versions/`, as shipped.", rows, sg, sq,
                             rules)
        out.append("")
        root, sql = corpus(tmp, "rules", lint_corpus.write_rule_corpus)
        sg, _ = lint_schemagate(args.schemagate, root)
        sq, _ = lint_squawk(squawk, sql, include=SQUAWK_OPT_IN)
        rows = compare(sg, sq, mapping, missing_ok, read_sources(os.path.join(root, "migrations", "versions")))
        out += render_corpus(
            "The rule corpus",
            "`python3 bench/lint_corpus.py OUT`: 0001 creates the tables, then one statement per line "
            "that a rule of either tool reports, then safe statements (0006 to 0008: concurrent index work, "
            "NOT VALID validated in a later migration, USING INDEX, a catalog-only type change, a DROP "
            "TABLE under both tools' ignore comments), which schemagate does not report. "
            f"squawk also with `--include={','.join(SQUAWK_OPT_IN)}`; the tables are schema-qualified "
            "but in one statement, so that rule reports once.", rows, sg, sq, rules)
        out.append("")
        stats, sg_med, sg_all, sg_n, sq_med, sq_all, sq_n = speed(args.schemagate, squawk, tmp, args.count)
    fmt = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    out += ["### CPU time", "",
            f"`python3 bench/lint_corpus.py OUT --count {args.count}`: {args.count} generated migrations, "
            f"{stats['statements']} upgrade statements (tables, columns, indexes, functions and triggers, views, "
            "data changes, constraints added NOT VALID and validated later, enum types; now and then a "
            "statement a rule reports). User+system CPU seconds of each process "
            f"(`getrusage`), median of {len(sg_all)} runs; squawk is its native binary, run twice "
            "(transactional and transaction:false files), both runs counted. "
            f"{os.cpu_count()} CPUs, 1-minute load average {stats['load']:.1f} before the runs.", "",
            "| tool | CPU seconds (median) | runs | findings |", "|---|---|---|---|",
            f"| `schemagate lint` | {sg_med:.2f} | {fmt(sg_all)} | {sg_n} |",
            f"| squawk {SQUAWK_VERSION} | {sq_med:.2f} | {fmt(sq_all)} | {sq_n} |", "",
            f"Goal, `schemagate lint` of 1,000 migrations in under 1 s of CPU: "
            + ("met" if sg_med < 1.0 else "not met") + f" ({sg_med:.2f} s).", "", END]
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + "\n".join(out) + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + "\n".join(out) + "\n"
    with open(args.doc, "w") as f:
        f.write(doc)
    print(f"wrote {args.doc}: schemagate {sg_med:.2f} s, squawk {sq_med:.2f} s CPU on {args.count} migrations")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schemagate", nargs="?", default=os.path.join(ROOT, "build", "schemagate"))
    parser.add_argument("--check", action="store_true", help="check only, write nothing")
    parser.add_argument("--squawk", help="the squawk binary (default: what scripts/install-squawk.sh prints)")
    parser.add_argument("--doc", default=os.path.join(ROOT, "docs", "lint.md"))
    parser.add_argument("--count", type=int, default=1000, help="migrations for the CPU time (default 1000)")
    args = parser.parse_args(argv)
    args.schemagate = os.path.abspath(args.schemagate)
    if args.check:
        if not args.squawk:
            parser.error("--check needs --squawk")
        return 0 if all(check(args)) else 1
    write(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
