#!/usr/bin/env python3
"""Generates the same N migrations for schemagate, Alembic, sqitch and psql.

Each migration creates a table with an index; every tenth also creates a
plpgsql function. The SQL is identical across tools; only the packaging
differs.
"""
import os
import sys


def upgrade_sql(i):
    stmts = [
        f"CREATE TABLE t_{i:05d} (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now())",
        f"CREATE INDEX ix_t_{i:05d}_name ON t_{i:05d} (name)",
    ]
    if i % 10 == 0:
        stmts.append(
            f"CREATE FUNCTION f_{i:05d}(x int) RETURNS int AS $$ BEGIN RETURN x + {i}; END; $$ LANGUAGE plpgsql")
    return stmts


def downgrade_sql(i):
    stmts = []
    if i % 10 == 0:
        stmts.append(f"DROP FUNCTION f_{i:05d}(int)")
    stmts.append(f"DROP TABLE t_{i:05d}")
    return stmts


def main(out, n):
    sg = os.path.join(out, "schemagate", "migrations", "versions")
    al = os.path.join(out, "alembic", "versions")
    sq = os.path.join(out, "sqitch")
    for d in (sg, al, os.path.join(sq, "deploy"), os.path.join(sq, "revert"), os.path.join(sq, "verify")):
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(out, "schemagate", "schemagate.yaml"), "w") as f:
        f.write("script_location: migrations\n")
    with open(os.path.join(out, "alembic.ini"), "w") as f:
        f.write("[alembic]\nscript_location = alembic\n")
    with open(os.path.join(out, "alembic", "env.py"), "w") as f:
        f.write(
            "import os\nfrom alembic import context\nfrom sqlalchemy import create_engine\n"
            "if context.is_offline_mode():\n"
            "    context.configure(url=os.environ['BENCH_URL'], literal_binds=True)\n"
            "    with context.begin_transaction():\n"
            "        context.run_migrations()\n"
            "else:\n"
            "  engine = create_engine(os.environ['BENCH_URL'])\n"
            "  with engine.connect() as connection:\n"
            "    context.configure(connection=connection, transaction_per_migration=os.environ.get('BENCH_SINGLE') != '1')\n"
            "    with context.begin_transaction():\n"
            "        context.run_migrations()\n")
    plan = ["%syntax-version=1.0.0", "%project=bench", ""]
    per_tx, single = [], ["BEGIN;"]
    for i in range(1, n + 1):
        rid = f"{i:05d}"
        down = "" if i == 1 else f"{i - 1:05d}"
        up, dn = upgrade_sql(i), downgrade_sql(i)
        with open(os.path.join(sg, f"{rid}_t{rid}.sql"), "w") as f:
            f.write(f"-- revision: {rid}\n-- down_revision: {down}\n-- message: t{rid}\n\n-- migrate:upgrade\n")
            f.write("".join(s + ";\n" for s in up))
            f.write("\n-- migrate:downgrade\n" + "".join(s + ";\n" for s in dn))
        with open(os.path.join(al, f"{rid}_t{rid}.py"), "w") as f:
            f.write(f"revision = '{rid}'\ndown_revision = {repr(down) if down else None}\n"
                    "branch_labels = None\ndepends_on = None\nfrom alembic import op\n\n"
                    "def upgrade():\n" + "".join(f"    op.execute({s!r})\n" for s in up) +
                    "\ndef downgrade():\n" + "".join(f"    op.execute({s!r})\n" for s in dn))
        with open(os.path.join(sq, "deploy", f"t{rid}.sql"), "w") as f:
            f.write("BEGIN;\n" + "".join(s + ";\n" for s in up) + "COMMIT;\n")
        with open(os.path.join(sq, "revert", f"t{rid}.sql"), "w") as f:
            f.write("BEGIN;\n" + "".join(s + ";\n" for s in dn) + "COMMIT;\n")
        with open(os.path.join(sq, "verify", f"t{rid}.sql"), "w") as f:
            f.write(f"SELECT 1 FROM t_{rid} WHERE false;\n")
        plan.append(f"t{rid} 2024-01-01T00:00:00Z bench <bench@example.invalid> # t{rid}")
        per_tx.append("BEGIN;\n" + "".join(s + ";\n" for s in up) +
                      ("INSERT INTO alembic_version VALUES ('%s');\n" % rid if i == 1 else
                       "UPDATE alembic_version SET version_num = '%s' WHERE version_num = '%s';\n" % (rid, down)) +
                      "COMMIT;\n")
        single.extend(s + ";" for s in up)
        single.append("INSERT INTO alembic_version VALUES ('%s');" % rid if i == 1 else
                      "UPDATE alembic_version SET version_num = '%s' WHERE version_num = '%s';" % (rid, down))
    with open(os.path.join(sq, "sqitch.plan"), "w") as f:
        f.write("\n".join(plan) + "\n")
    with open(os.path.join(sq, "sqitch.conf"), "w") as f:
        f.write("[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n")
    create = ("CREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(32) NOT NULL, "
              "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));\n")
    with open(os.path.join(out, "psql-per-migration.sql"), "w") as f:
        f.write(create + "".join(per_tx))
    with open(os.path.join(out, "psql-single.sql"), "w") as f:
        f.write(create + "\n".join(single) + "\nCOMMIT;\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
