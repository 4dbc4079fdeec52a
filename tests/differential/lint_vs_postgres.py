#!/usr/bin/env python3
"""What `schemagate lint` says statements do, against what PostgreSQL does:
the locks each takes (`--format json`), and whether it rewrites the table.

A release's migration (0001) makes tables, indexes, foreign keys, a
trigger, a materialized view and a partitioned table; the next one (0002)
holds one probe statement, and schemagate lints it (with 0001 before it, as
`lint 0002` reads the migrations in order). The probe then runs on the real
server inside a plpgsql block that reads `pg_locks` for its own backend and
rolls the statement back, so every probe starts from 0001's schema.

For each lock probe:
- every relation lint names must be locked by PostgreSQL in exactly that mode
  (the strongest mode PostgreSQL holds on it);
- every relation PostgreSQL locks in SHARE mode or stronger (a lock that
  stops the app's writes) must be named by lint. Weaker locks lint leaves out
  on purpose (the ACCESS SHARE of a table a view reads, say).

For each rewrite probe, lint reports a rewrite (`table-rewrite`,
`column-type-change` or `rewrite-maintenance`) exactly when PostgreSQL gives
the table a new file (its `relfilenode` changes): type changes that are
binary-coercible, constant and stable defaults are not rewrites; volatile
defaults, identity and stored generated columns, narrowing types are.

Statements that cannot run inside a transaction (VACUUM, CONCURRENTLY) are
not probed here, nor DROP ... CASCADE (lint cannot know what depends on a
table; the views PostgreSQL drops with it are locked too).

    lint_vs_postgres.py --schemagate BIN --url SUPERUSER_URL --work DIR

Exit 0 when lint and PostgreSQL agree on every probe; 1 with a report.
"""

import argparse
import json
import os
import subprocess
import sys

import psycopg2

BASE = """\
CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);
CREATE UNIQUE INDEX ux_users_name ON users (name);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, amount numeric(10,2), note varchar(20),
  qty int, label text, placed timestamptz,
  CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID,
  CONSTRAINT chk_amount CHECK (amount >= 0) NOT VALID);
CREATE INDEX ix_orders_user ON orders (user_id);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER trg_orders BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE MATERIALIZED VIEW mv_users AS SELECT id, email FROM users;
CREATE UNIQUE INDEX ux_mv_users ON mv_users (id);
CREATE VIEW v_orders AS SELECT id FROM orders;
CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 (id bigint, at date);
CREATE TABLE audit (id bigint);
CREATE TABLE legacy (id bigint, user_id bigint REFERENCES users (id));
"""

PROBES = [
    "ALTER TABLE orders ADD COLUMN extra int;",
    "ALTER TABLE orders ADD COLUMN buyer bigint REFERENCES users (id);",
    "ALTER TABLE orders ADD CONSTRAINT fk_orders_user2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
    "ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_user;",
    "ALTER TABLE orders VALIDATE CONSTRAINT chk_amount;",
    "ALTER TABLE orders ADD CONSTRAINT chk_note CHECK (note <> '') NOT VALID;",
    "ALTER TABLE users ADD CONSTRAINT uq_users_name UNIQUE USING INDEX ux_users_name;",
    "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
    "ALTER TABLE orders ALTER COLUMN note TYPE text;",
    "ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'none';",
    "ALTER TABLE orders ALTER COLUMN note SET STATISTICS 200;",
    "ALTER TABLE orders ALTER COLUMN amount SET (n_distinct = 10);",
    "ALTER TABLE orders SET (fillfactor = 90);",
    "ALTER TABLE orders DISABLE TRIGGER trg_orders;",
    "ALTER TABLE orders CLUSTER ON ix_orders_user;",
    "ALTER TABLE orders SET UNLOGGED;",
    "ALTER TABLE orders DROP COLUMN note;",
    "ALTER TABLE orders DROP CONSTRAINT chk_amount;",
    "ALTER TABLE orders DROP CONSTRAINT fk_orders_user;",
    "ALTER TABLE orders RENAME COLUMN note TO remark;",
    "ALTER TABLE orders RENAME TO purchases;",
    "ALTER INDEX ix_orders_user RENAME TO ix_orders_buyer;",
    "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
    "ALTER TABLE events DETACH PARTITION events_2025;",
    "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');",
    "CREATE TABLE payments (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));",
    "CREATE INDEX ix_orders_amount ON orders (amount);",
    "CREATE UNIQUE INDEX ux_users_email ON users (email);",
    "CREATE TRIGGER trg_orders_2 BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION touch();",
    "CREATE VIEW v_users AS SELECT id FROM users;",
    "COMMENT ON TABLE orders IS 'what was bought';",
    "DROP INDEX ix_orders_user;",
    "DROP TRIGGER trg_orders ON orders;",
    "DROP VIEW v_orders;",
    "DROP MATERIALIZED VIEW mv_users;",
    "DROP TABLE audit;",
    "DROP TABLE legacy;",
    "ALTER TABLE legacy DROP CONSTRAINT legacy_user_id_fkey;",
    "TRUNCATE audit;",
    "LOCK TABLE audit IN SHARE MODE;",
    "LOCK TABLE audit IN ROW EXCLUSIVE MODE;",
    "UPDATE orders SET note = 'x' WHERE id < 10;",
    "DELETE FROM audit WHERE id < 10;",
    "INSERT INTO audit (id) VALUES (1);",
    "CLUSTER orders USING orders_pkey;",
    "REINDEX TABLE audit;",
    "REINDEX INDEX ix_orders_user;",
    "REFRESH MATERIALIZED VIEW mv_users;",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY mv_users;",
    "ANALYZE orders;",
]

REWRITE_PROBES = [
    "ALTER TABLE orders ALTER COLUMN note TYPE varchar(40);",
    "ALTER TABLE orders ALTER COLUMN note TYPE varchar;",
    "ALTER TABLE orders ALTER COLUMN note TYPE text;",
    "ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);",
    "ALTER TABLE orders ALTER COLUMN label TYPE varchar(50);",
    "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);",
    "ALTER TABLE orders ALTER COLUMN amount TYPE numeric;",
    "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,4);",
    "ALTER TABLE orders ALTER COLUMN qty TYPE bigint;",
    "ALTER TABLE orders ALTER COLUMN user_id TYPE int;",
    "ALTER TABLE orders ALTER COLUMN placed TYPE timestamptz(3);",
    "ALTER TABLE orders ADD COLUMN a int DEFAULT 0;",
    "ALTER TABLE orders ADD COLUMN b text DEFAULT 'x' NOT NULL;",
    "ALTER TABLE orders ADD COLUMN c timestamptz DEFAULT now();",
    "ALTER TABLE orders ADD COLUMN d float8 DEFAULT random();",
    "ALTER TABLE orders ADD COLUMN e uuid DEFAULT gen_random_uuid();",
    "ALTER TABLE orders ADD COLUMN f bigserial;",
    "ALTER TABLE orders ADD COLUMN g bigint GENERATED ALWAYS AS IDENTITY;",
    "ALTER TABLE orders ADD COLUMN h numeric GENERATED ALWAYS AS (amount * 2) STORED;",
    "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
    "ALTER TABLE orders ADD CONSTRAINT chk_qty CHECK (qty > 0);",
    "ALTER TABLE orders SET UNLOGGED;",
    "ALTER TABLE orders DROP COLUMN note;",
    "CLUSTER orders USING orders_pkey;",
]

REWRITE_RULES = {"table-rewrite", "column-type-change", "rewrite-maintenance"}

# Runs one statement in a subtransaction, reads this backend's relation
# locks, and rolls the statement back (raising inside the block). Relations
# are named as they were before the statement (a dropped or renamed table
# keeps the name lint knows it by), with whether each is an index and, if so,
# its table; relations the statement created are left out (nothing waits on
# them).
PROBE_FUNCTION = """
CREATE FUNCTION pg_temp.probe(statement text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  held text;
  rewritten text;
  oids oid[];
  names text[];
  tables text[];
  files oid[];
BEGIN
  SELECT array_agg(c.oid), array_agg(c.relname),
         array_agg(coalesce((SELECT t.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                              WHERE i.indexrelid = c.oid), '-')),
         array_agg(c.relfilenode)
    INTO oids, names, tables, files
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace;
  BEGIN
    EXECUTE statement;
    SELECT coalesce(string_agg(names[k] || '=' || tables[k] || '=' || l.mode, ' '), '')
      INTO held
      FROM pg_locks l JOIN generate_subscripts(oids, 1) AS k ON oids[k] = l.relation
     WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted;
    SELECT coalesce(string_agg(names[k], ' '), '')
      INTO rewritten
      FROM pg_class c JOIN generate_subscripts(oids, 1) AS k ON oids[k] = c.oid
     WHERE c.relkind IN ('r', 'm') AND c.relfilenode <> files[k];
    RAISE EXCEPTION USING ERRCODE = 'SG001', MESSAGE = 'rollback';
  EXCEPTION WHEN SQLSTATE 'SG001' THEN
    RETURN held || '|' || rewritten;
  END;
END
$f$;
"""

# PostgreSQL's lock mode names, weakest first, as pg_locks shows them and as lint writes them.
MODES = ["AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
         "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]
LINT_MODES = ["ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
              "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"]
BLOCKS_WRITES = MODES.index("ShareLock")

HEADER = "-- revision: 0002\n-- down_revision: 0001\n\n-- migrate:upgrade\n"


def relation_name(text):
    """public.orders, "orders" -> orders."""
    name = text.split(".")[-1]
    return name.strip('"')


def run_on_postgres(cur, statement):
    """{relation: strongest mode} and {index: its table} for what `statement`
    locked, and the tables it rewrote."""
    cur.execute("SELECT pg_temp.probe(%s)", (statement,))
    locks, rewritten = cur.fetchone()[0].split("|")
    strongest, table_of = {}, {}
    for item in locks.split():
        rel, table, mode = item.split("=")
        if table != "-":
            table_of[rel] = table
        if rel not in strongest or MODES.index(mode) > MODES.index(strongest[rel]):
            strongest[rel] = mode
    return strongest, table_of, set(rewritten.split())


def claimed_by_lint(report, line):
    claimed = {}
    for s in report["statements"]:
        if s["line"] != line:
            continue
        for lock in s["locks"]:
            claimed[relation_name(lock["relation"])] = MODES[LINT_MODES.index(lock["mode"])]
    return claimed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--schemagate", required=True)
    p.add_argument("--url", required=True, help="a superuser's URL: the script makes its database there")
    p.add_argument("--work", required=True)
    args = p.parse_args()

    admin = psycopg2.connect(args.url)
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute("DROP DATABASE IF EXISTS sg_lint_vs_postgres")
        c.execute("CREATE DATABASE sg_lint_vs_postgres")
    admin.close()
    url = args.url.rsplit("/", 1)[0] + "/sg_lint_vs_postgres"

    versions = os.path.join(args.work, "migrations", "versions")
    os.makedirs(versions, exist_ok=True)
    with open(os.path.join(versions, "0001_base.sql"), "w") as f:
        f.write("-- revision: 0001\n-- down_revision:\n\n-- migrate:upgrade\n" + BASE)
    line = HEADER.count("\n") + 1

    def schemagate(*command):
        return subprocess.run([args.schemagate, *command, "--script-location", os.path.join(args.work, "migrations"),
                               "--url", url, "--log-format", "text"], capture_output=True, text=True)

    up = schemagate("upgrade", "0001")
    if up.returncode != 0:
        sys.exit("upgrade 0001 failed: " + up.stderr)

    def lint(statement):
        with open(os.path.join(versions, "0002_probe.sql"), "w") as f:
            f.write(HEADER + statement + "\n")
        run = schemagate("lint", "0002", "--format", "json")
        if run.returncode not in (0, 4):
            sys.exit("lint failed (exit %d) on %s: %s" % (run.returncode, statement, run.stderr))
        return json.loads(run.stdout)

    conn = psycopg2.connect(url)
    conn.autocommit = True
    problems = []
    with conn.cursor() as cur:
        cur.execute(PROBE_FUNCTION)

        def on_postgres(statement):
            """run_on_postgres's answer, or None with the refusal recorded as a problem."""
            try:
                return run_on_postgres(cur, statement)
            except psycopg2.Error as e:
                problems.append("%s\n    PostgreSQL refused the probe: %s" % (statement, e.pgerror or e))
                return None

        for statement in PROBES:
            result = on_postgres(statement)
            if result is None:
                continue
            held, table_of, _ = result
            claimed = claimed_by_lint(lint(statement), line)
            wrong = []
            for rel, mode in sorted(claimed.items()):
                if rel.startswith("indexes of "):
                    # REINDEX's per-index locks: each index of the table.
                    table = rel[len("indexes of "):]
                    indexes = [i for i, t in table_of.items() if t == table]
                    off = [i for i in indexes if held.get(i) != mode]
                    if off:
                        wrong.append("lint says %s %s, PostgreSQL holds %s" %
                                     (rel, mode, ", ".join("%s %s" % (i, held.get(i)) for i in off)))
                elif held.get(rel) != mode:
                    wrong.append("lint says %s %s, PostgreSQL holds %s" % (rel, mode, held.get(rel, "no lock")))
            for rel, mode in sorted(held.items()):
                # Index locks count only where lint speaks of the index; the
                # lock that matters to the app is on the table.
                if rel in claimed or rel in table_of or MODES.index(mode) < BLOCKS_WRITES:
                    continue
                wrong.append("PostgreSQL holds %s %s, lint names no lock on it" % (rel, mode))
            if wrong:
                problems.append("%s\n    %s" % (statement, "\n    ".join(wrong)))
        lock_problems = len(problems)
        rewrites = 0
        for statement in REWRITE_PROBES:
            result = on_postgres(statement)
            if result is None:
                continue
            rewritten = result[2]
            rewrites += bool(rewritten)
            said = sorted({f["rule"] for f in lint(statement)["findings"] if f["line"] == line} & REWRITE_RULES)
            if bool(said) != bool(rewritten):
                problems.append("%s\n    lint says %s, PostgreSQL %s" % (
                    statement, "rewrite (" + ", ".join(said) + ")" if said else "no rewrite",
                    "rewrote " + ", ".join(sorted(rewritten)) if rewritten else "rewrote nothing"))
    conn.close()

    for p_ in problems:
        print("DIFFERS  " + p_)
    print("%d lock probes: %d agree with PostgreSQL, %d differ" %
          (len(PROBES), len(PROBES) - lock_problems, lock_problems))
    print("%d rewrite probes (%d rewrite the table): %d agree with PostgreSQL, %d differ" %
          (len(REWRITE_PROBES), rewrites, len(REWRITE_PROBES) - (len(problems) - lock_problems),
           len(problems) - lock_problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
