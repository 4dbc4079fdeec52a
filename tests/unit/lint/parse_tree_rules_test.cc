// The rules that need PostgreSQL's parse tree: rewrites, maintenance,
// explicit locks, data changes, syntax, the locks each statement takes,
// and type changes told apart by what earlier migrations created.
#include <gtest/gtest.h>

#include <algorithm>

#include "lint/lint.h"

namespace schemagate {
namespace {

constexpr const char* kUp = "-- migrate:upgrade\n";
constexpr const char* kUpNoTx = "-- migrate:upgrade transaction:false\n";
constexpr const char* kTimeout = "SET LOCAL lock_timeout = '5s';\n";

std::string File(const std::string& revision, const std::string& sections) {
  return "-- revision: " + revision + "\n" + sections;
}

LintResult LintText(const std::string& text, LintHistory* history = nullptr) {
  auto file = ParseMigrationFile("versions/x.sql", text, /*split=*/true);
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok()) return {};
  auto r = LintMigration(*file, text, LintOptions{}, history);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : LintResult{};
}

// Sorted rule ids of a statement list after the lock_timeout line; prefer-bigint left out.
std::vector<std::string> Rules(const std::string& sql, const char* section = kUp) {
  std::vector<std::string> out;
  for (const LintFinding& f : LintText(File("0006", std::string(section) + kTimeout + sql)).findings) {
    if (f.rule != "prefer-bigint") out.push_back(f.rule);
  }
  std::sort(out.begin(), out.end());
  return out;
}

using Ids = std::vector<std::string>;

TEST(LintParseTree, QuotingCommentsAndSpacingDoNotHideAStatement) {
  EXPECT_EQ(Rules("ALTER/* c */TABLE\n  \"users\"\n  DROP -- why\n COLUMN \"Fax\";"), Ids{"drop-column"});
  EXPECT_EQ(Rules("alter table public.users alter column email set not null;"), Ids{"set-not-null"});
  EXPECT_EQ(Rules("ALTER TABLE ONLY app.users RENAME COLUMN a TO b;"), Ids{"rename-column"});
  // A table named like a keyword, and a column named "default".
  EXPECT_EQ(Rules("ALTER TABLE \"order\" ADD COLUMN \"default\" text NOT NULL;"), Ids{"not-null-without-default"});
}

TEST(LintParseTree, TableRewrites) {
  EXPECT_EQ(Rules("ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();"), Ids{"table-rewrite"});
  EXPECT_EQ(Rules("ALTER TABLE users ADD COLUMN r float8 DEFAULT random() * 10;"), Ids{"table-rewrite"});
  EXPECT_EQ(Rules("ALTER TABLE users ADD COLUMN at timestamptz DEFAULT clock_timestamp();"), Ids{"table-rewrite"});
  EXPECT_EQ(Rules("ALTER TABLE users ADD COLUMN total bigint GENERATED ALWAYS AS (a + b) STORED;"),
            Ids{"table-rewrite"});
  EXPECT_EQ(Rules("ALTER TABLE users SET LOGGED;"), Ids{"table-rewrite"});
  EXPECT_EQ(Rules("ALTER TABLE users SET UNLOGGED;"), Ids{"table-rewrite"});
  EXPECT_EQ(Rules("ALTER TABLE users SET ACCESS METHOD heap2;"), Ids{"table-rewrite"});
  // An unknown function may be volatile: said so, with its name.
  const LintResult r = LintText(File("0006", std::string(kUp) + kTimeout +
                                                 "ALTER TABLE users ADD COLUMN c text DEFAULT my_fn();"));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_NE(r.findings[0].message.find("my_fn()"), std::string::npos) << r.findings[0].message;
  // Constant and stable defaults need no rewrite since PostgreSQL 11.
  EXPECT_EQ(Rules("ALTER TABLE users ADD COLUMN tier text DEFAULT 'free';"), Ids{});
  EXPECT_EQ(Rules("ALTER TABLE users ADD COLUMN at timestamptz DEFAULT now();"), Ids{});
  EXPECT_EQ(Rules("ALTER TABLE users ADD COLUMN at timestamptz DEFAULT CURRENT_TIMESTAMP;"), Ids{});
  EXPECT_EQ(Rules("ALTER TABLE users ADD COLUMN n bigint DEFAULT 0;"), Ids{});
  // A new table has no rows to rewrite.
  EXPECT_EQ(Rules("CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();"), Ids{});
}

TEST(LintParseTree, MaintenanceThatRewritesOrBlocks) {
  EXPECT_EQ(Rules("CLUSTER users USING users_pkey;"), Ids{"rewrite-maintenance"});
  EXPECT_EQ(Rules("CLUSTER;", kUpNoTx), Ids{"rewrite-maintenance"});
  // SET LOCAL does nothing outside a transaction: no lock_timeout either.
  EXPECT_EQ(Rules("VACUUM FULL users;", kUpNoTx), (Ids{"missing-lock-timeout", "rewrite-maintenance"}));
  EXPECT_EQ(Rules("VACUUM (ANALYZE) users;", kUpNoTx), Ids{});
  EXPECT_EQ(Rules("REINDEX INDEX users_pkey;"), Ids{"reindex-not-concurrent"});
  EXPECT_EQ(Rules("REINDEX TABLE users;"), (Ids{"reindex-not-concurrent"}));
  EXPECT_EQ(Rules("REINDEX (CONCURRENTLY) TABLE users;", kUpNoTx), Ids{});
  EXPECT_EQ(Rules("REINDEX SCHEMA app;"), Ids{"reindex-not-concurrent"});
}

TEST(LintParseTree, ExplicitLocksAndUnboundedDataChanges) {
  EXPECT_EQ(Rules("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE;"), Ids{"explicit-lock"});
  EXPECT_EQ(Rules("CREATE TABLE t (id bigint);\nLOCK TABLE t;"), Ids{});
  EXPECT_EQ(Rules("UPDATE users SET tier = 'free';"), Ids{"unbounded-data-change"});
  EXPECT_EQ(Rules("DELETE FROM audit_logs;"), Ids{"unbounded-data-change"});
  EXPECT_EQ(Rules("TRUNCATE audit_logs;"), Ids{"unbounded-data-change"});
  EXPECT_EQ(Rules("TRUNCATE audit_logs CASCADE;"), (Ids{"truncate-cascade", "unbounded-data-change"}));
  EXPECT_EQ(Rules("UPDATE users SET tier = 'free' WHERE tier IS NULL;"), Ids{});
  EXPECT_EQ(Rules("DELETE FROM audit_logs WHERE at < now() - interval '1 year';"), Ids{});
  // A WHERE in a sub-select is not the UPDATE's.
  EXPECT_EQ(Rules("UPDATE users SET n = (SELECT count(*) FROM o WHERE o.u = users.id);"),
            Ids{"unbounded-data-change"});
  EXPECT_EQ(Rules("CREATE TABLE t (id bigint);\nINSERT INTO t VALUES (1);\nUPDATE t SET id = 2;\nDELETE FROM t;"), Ids{});
  EXPECT_EQ(Rules("UPDATE users SET a = 1, b = 2, a = 3 WHERE id = 1;"), Ids{"duplicate-column-assignment"});
}

TEST(LintParseTree, SetAndDropNotNullDomainsEnumsPartitions) {
  EXPECT_EQ(Rules("ALTER TABLE users ALTER COLUMN email SET NOT NULL;"), Ids{"set-not-null"});
  EXPECT_EQ(Rules("ALTER TABLE users ALTER COLUMN email DROP NOT NULL;"), Ids{"drop-not-null"});
  EXPECT_EQ(Rules("CREATE TABLE t (a text);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;"), Ids{});
  EXPECT_EQ(Rules("CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');"), Ids{"domain-constraint"});
  EXPECT_EQ(Rules("CREATE DOMAIN email AS text;"), Ids{});
  EXPECT_EQ(Rules("ALTER DOMAIN email ADD CONSTRAINT at CHECK (VALUE LIKE '%@%');"), Ids{"domain-constraint"});
  EXPECT_EQ(Rules("ALTER DOMAIN email ADD CONSTRAINT at CHECK (VALUE LIKE '%@%') NOT VALID;"), Ids{});
  EXPECT_EQ(Rules("ALTER TYPE status ADD VALUE 'archived';"), Ids{"enum-value-position"});
  EXPECT_EQ(Rules("ALTER TYPE status ADD VALUE 'archived' AFTER 'done';"), Ids{});
  EXPECT_EQ(Rules("ALTER TABLE m DETACH PARTITION m_2020;"), (Ids{"detach-partition-not-concurrent"}));
  EXPECT_EQ(Rules("ALTER TABLE orders ADD CONSTRAINT ex EXCLUDE USING gist (r WITH &&);"),
            Ids{"unique-without-using-index"});
}

TEST(LintParseTree, UnnamedConstraintsAndIndexesAreNotNamedEmpty) {
  const LintResult r = LintText(File("0006", std::string(kUp) + kTimeout +
                                                 "ALTER TABLE payments ADD PRIMARY KEY (id);\n"
                                                 "CREATE INDEX ON payments (at);\n"));
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].message, "ADD CONSTRAINT PRIMARY KEY on existing table payments without USING INDEX");
  EXPECT_EQ(r.findings[1].message, "CREATE INDEX on existing table payments without CONCURRENTLY");
}

TEST(LintParseTree, TransactionControlAndRerunsOfNonTransactionalSections) {
  EXPECT_EQ(Rules("BEGIN;", kUpNoTx), Ids{"transaction-control"});
  EXPECT_EQ(Rules("CREATE INDEX CONCURRENTLY ix ON users (a);", kUpNoTx), Ids{"not-rerunnable"});
  EXPECT_EQ(Rules("DROP INDEX CONCURRENTLY ix;", kUpNoTx), Ids{"not-rerunnable"});
  EXPECT_EQ(Rules("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (a);", kUpNoTx), Ids{});
  EXPECT_EQ(Rules("DROP INDEX CONCURRENTLY IF EXISTS ix;", kUpNoTx), Ids{});
  EXPECT_EQ(Rules("ALTER TABLE m DETACH PARTITION m_2020 CONCURRENTLY;", kUpNoTx), Ids{"not-rerunnable"});
  EXPECT_EQ(Rules("DROP DATABASE x;", kUpNoTx), (Ids{"drop-database", "not-rerunnable"}));
  EXPECT_EQ(Rules("DROP DATABASE IF EXISTS x;", kUpNoTx), Ids{"drop-database"});
  // In a transaction a failure undoes everything: a rerun starts clean.
  EXPECT_EQ(Rules("CREATE TABLE t (id bigint);"), Ids{});
}

TEST(LintParseTree, TypesAndNames) {
  EXPECT_EQ(Rules("DROP DATABASE IF EXISTS other;", kUpNoTx), Ids{"drop-database"});
  const std::string long_name(64, 'x');
  EXPECT_EQ(Rules("CREATE TABLE " + long_name + " (id bigint);"), Ids{"identifier-too-long"});
  EXPECT_EQ(Rules("CREATE TABLE " + std::string(63, 'x') + " (id bigint);"), Ids{});
  EXPECT_EQ(Rules("CREATE INDEX \"" + long_name + "\" ON users (a);"),
            (Ids{"identifier-too-long", "index-not-concurrent"}));
  EXPECT_EQ(Rules("COMMENT ON TABLE users IS '" + long_name + "';"), Ids{});
  auto all = [](const std::string& sql) {
    std::vector<std::string> out;
    for (const LintFinding& f : LintText(File("0006", std::string(kUp) + sql)).findings) out.push_back(f.rule);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(all("CREATE TABLE t (a int, b smallint, c integer, d int4, e bigint, f int8);"),
            (Ids{"prefer-bigint", "prefer-bigint", "prefer-bigint", "prefer-bigint"}));
  EXPECT_EQ(all("CREATE TABLE t (id serial);"), (Ids{"prefer-bigint", "serial-type"}));
}

TEST(LintParseTree, TypeChangesAreToldApartByWhatEarlierMigrationsCreated) {
  LintHistory history;
  LintText(File("0001", std::string(kUp) +
                            "CREATE TABLE users (id bigint, email varchar(100), n integer, price numeric(10,2), "
                            "at timestamp, tags varchar(20)[]);"),
           &history);
  auto change = [&](const std::string& sql) {
    std::vector<std::string> out;
    for (const LintFinding& f : LintText(File("0002", std::string(kUp) + kTimeout + sql), &history).findings) {
      out.push_back(f.rule);
    }
    return out;
  };
  // Binary-coercible, with room for every old value: the catalog only.
  EXPECT_EQ(change("ALTER TABLE users ALTER COLUMN email TYPE text;"), Ids{});
  EXPECT_EQ(change("ALTER TABLE users ALTER COLUMN price TYPE numeric(12,2);"), Ids{});
  EXPECT_EQ(change("ALTER TABLE users ALTER COLUMN tags TYPE varchar(40)[];"), Ids{});
  // email is text now (the history follows the change): back to a limit rewrites.
  EXPECT_EQ(change("ALTER TABLE users ALTER COLUMN email TYPE varchar(50);"), Ids{"column-type-change"});
  EXPECT_EQ(change("ALTER TABLE users ALTER COLUMN n TYPE bigint;"), Ids{"column-type-change"});
  EXPECT_EQ(change("ALTER TABLE users ALTER COLUMN price TYPE numeric(12,4);"), Ids{"column-type-change"});
  EXPECT_EQ(change("ALTER TABLE users ALTER COLUMN at TYPE timestamptz;"), Ids{"column-type-change"});
  EXPECT_EQ(change("ALTER TABLE users ALTER COLUMN id TYPE text USING id::text;"), Ids{"column-type-change"});
  // A table no linted migration created: its column's type is unknown, said so.
  const LintResult unknown = LintText(
      File("0003", std::string(kUp) + kTimeout + "ALTER TABLE legacy ALTER COLUMN a TYPE text;"), &history);
  ASSERT_EQ(unknown.findings.size(), 1u);
  EXPECT_NE(unknown.findings[0].message.find("unknown to lint"), std::string::npos) << unknown.findings[0].message;
  // A renamed column keeps its type.
  EXPECT_EQ(change("ALTER TABLE users RENAME COLUMN tags TO labels;"), Ids{"rename-column"});
  EXPECT_EQ(change("ALTER TABLE users ALTER COLUMN labels TYPE text[];"), Ids{});
}

TEST(LintParseTree, SyntaxErrorsHaveTheirLineAndColumn) {
  const std::string body = "SELECT 1;\n"       // 3
                           "CREATE TABLE t (\n"  // 4
                           "  a int,\n"          // 5
                           "  b tex t\n"         // 6
                           ");\n";
  const LintResult r = LintText(File("0006", std::string(kUp) + body));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, "syntax-error");
  EXPECT_EQ(r.findings[0].line, 6);
  EXPECT_EQ(r.findings[0].column, 9);
  EXPECT_EQ(r.findings[0].message, "syntax error at or near \"t\"");
  EXPECT_EQ(r.findings[0].severity, LintSeverity::kError);
  // Syntax of a later PostgreSQL that lint does not know as such can be waved through, statement by statement.
  const LintResult ignored = LintText(File("0006", std::string(kUp) + "SELECT 1;\n-- schemagate:lint-ignore syntax-error\n" +
                                                       body.substr(std::string("SELECT 1;\n").size())));
  EXPECT_TRUE(ignored.findings.empty()) << ignored.findings[0].message;
}

TEST(LintParseTree, SyntaxOfALaterPostgresqlIsAWarning) {
  const LintResult r = LintText(File(
      "0006", std::string(kUp) + "SELECT * FROM JSON_TABLE(jsonb '[]', '$[*]' COLUMNS (a int PATH '$.a')) jt;\n"
                                 "SELECT '{}'::text IS JSON;\n"));
  ASSERT_EQ(r.findings.size(), 2u);
  for (const LintFinding& f : r.findings) {
    EXPECT_EQ(f.rule, "newer-syntax");
    EXPECT_EQ(f.severity, LintSeverity::kWarning);
  }
  EXPECT_NE(r.findings[0].message.find("PostgreSQL 17"), std::string::npos) << r.findings[0].message;
  EXPECT_NE(r.findings[1].message.find("PostgreSQL 16"), std::string::npos) << r.findings[1].message;
}

TEST(LintParseTree, CheckMigrationSyntaxReadsEverySection) {
  const std::string text = File("0006", std::string(kUp) + "SELECT 1;\n" +  // 2, 3
                                            "-- migrate:upgrade env:development\n"  // 4
                                            "SELEC 2;\n"                            // 5
                                            "-- migrate:downgrade\n"                // 6
                                            "DROP TABLE t t;\n");                   // 7
  auto file = ParseMigrationFile("versions/x.sql", text, true);
  ASSERT_TRUE(file.ok());
  auto problems = CheckMigrationSyntax(*file, text);
  ASSERT_TRUE(problems.ok()) << problems.status().message();
  ASSERT_EQ(problems->size(), 2u);
  EXPECT_EQ((*problems)[0].line, 5);
  EXPECT_EQ((*problems)[0].column, 1);
  EXPECT_EQ((*problems)[1].line, 7);
  EXPECT_EQ((*problems)[1].column, 14);
  EXPECT_EQ(RenderLintFindingText((*problems)[1]).substr(0, 35), "versions/x.sql:7:14: error: [syntax");
}

TEST(LintParseTree, CheckMigrationSyntaxHonoursLintIgnore) {
  // Syntax of a later PostgreSQL the word list does not know, waved through by the author.
  const std::string text = File("0006", std::string(kUp) +                      // 2
                                            "-- schemagate:lint-ignore syntax-error -- PostgreSQL 19\n"  // 3
                                            "ALTER TABLE t FROBNICATE;\n"               // 4
                                            "ALTER TABLE t FROBNICATE;\n");             // 5
  auto file = ParseMigrationFile("versions/x.sql", text, true);
  ASSERT_TRUE(file.ok());
  auto problems = CheckMigrationSyntax(*file, text);
  ASSERT_TRUE(problems.ok()) << problems.status().message();
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_EQ((*problems)[0].line, 5);
}

TEST(LintParseTree, EachStatementSaysWhichLockItTakesOnWhichTable) {
  const LintResult r = LintText(File(
      "0006", std::string(kUp) + kTimeout +
                  "CREATE TABLE t (id bigint, u bigint REFERENCES users (id));\n"
                  "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users (id) NOT VALID;\n"
                  "ALTER TABLE orders VALIDATE CONSTRAINT fk;\n"
                  "ALTER TABLE orders ADD COLUMN note text;\n"
                  "CREATE INDEX ix ON orders (note);\n"
                  "UPDATE orders SET note = '' WHERE id = 1;\n"
                  "LOCK TABLE orders IN SHARE MODE NOWAIT;\n"));
  auto locks = [&](size_t i) {
    std::string out = r.statements.at(i).command + ":";
    for (const TableLock& l : r.statements.at(i).locks) {
      out += " " + l.relation + "=" + l.mode + (l.existing ? "" : "(new)");
    }
    return out;
  };
  ASSERT_EQ(r.statements.size(), 7u);
  EXPECT_EQ(locks(0), "CREATE TABLE: users=SHARE ROW EXCLUSIVE");
  EXPECT_EQ(locks(1), "ALTER TABLE: orders=SHARE ROW EXCLUSIVE users=SHARE ROW EXCLUSIVE");
  EXPECT_EQ(locks(2), "ALTER TABLE: orders=SHARE UPDATE EXCLUSIVE");
  EXPECT_EQ(locks(3), "ALTER TABLE: orders=ACCESS EXCLUSIVE");
  EXPECT_EQ(locks(4), "CREATE INDEX: orders=SHARE");
  EXPECT_EQ(locks(5), "UPDATE: orders=ROW EXCLUSIVE");
  EXPECT_EQ(locks(6), "LOCK: orders=SHARE");
  EXPECT_EQ(r.statements[3].line, 7);
}

std::string LocksOfStatement(const LintResult& r, size_t i) {
  std::string out = r.statements.at(i).command + ":";
  for (const TableLock& l : r.statements.at(i).locks) out += " " + l.relation + "=" + l.mode;
  return out;
}

// What an earlier release created tells which table an index is on and
// which tables a foreign key references (tests/differential/lint_vs_postgres.py
// holds these against PostgreSQL's own pg_locks).
TEST(LintParseTree, IndexesAndForeignKeysOfEarlierMigrationsNameTheTablesTheyLock) {
  const std::string earlier =
      File("0001", std::string(kUp) +
                       "CREATE TABLE users (id bigint PRIMARY KEY);\n"
                       "CREATE TABLE orders (id bigint, user_id bigint REFERENCES users (id),\n"
                       "  buyer bigint, CONSTRAINT fk_buyer FOREIGN KEY (buyer) REFERENCES users (id));\n"
                       "CREATE INDEX ix_orders_user ON orders (user_id);\n");
  auto later = [&](const std::string& sql) {
    LintHistory history;
    LintText(earlier, &history);
    return LintText(File("0002", std::string(kUp) + kTimeout + sql), &history);
  };
  EXPECT_EQ(LocksOfStatement(later("DROP INDEX ix_orders_user;"), 0),
            "DROP INDEX: ix_orders_user=ACCESS EXCLUSIVE orders=ACCESS EXCLUSIVE");
  EXPECT_EQ(LocksOfStatement(later("REINDEX INDEX ix_orders_user;"), 0),
            "REINDEX: ix_orders_user=ACCESS EXCLUSIVE orders=SHARE");
  EXPECT_EQ(LocksOfStatement(later("ALTER TABLE orders DROP CONSTRAINT fk_buyer;"), 0),
            "ALTER TABLE: orders=ACCESS EXCLUSIVE users=ACCESS EXCLUSIVE");
  // PostgreSQL's name for the unnamed one.
  EXPECT_EQ(LocksOfStatement(later("ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;"), 0),
            "ALTER TABLE: orders=ACCESS EXCLUSIVE users=ACCESS EXCLUSIVE");
  EXPECT_EQ(LocksOfStatement(later("DROP TABLE orders;"), 0), "DROP: orders=ACCESS EXCLUSIVE users=ACCESS EXCLUSIVE");
  // Renamed, the index and the table are still followed; a dropped table's keys are gone.
  const LintResult renamed = later(
      "ALTER INDEX ix_orders_user RENAME TO ix_orders_owner;\nALTER TABLE orders RENAME TO purchases;\n"
      "DROP INDEX ix_orders_owner;\nALTER TABLE purchases DROP CONSTRAINT fk_buyer;\n");
  EXPECT_EQ(LocksOfStatement(renamed, 2), "DROP INDEX: ix_orders_owner=ACCESS EXCLUSIVE purchases=ACCESS EXCLUSIVE");
  EXPECT_EQ(LocksOfStatement(renamed, 3), "ALTER TABLE: purchases=ACCESS EXCLUSIVE users=ACCESS EXCLUSIVE");
  const LintResult dropped = later("DROP TABLE orders;\nCREATE TABLE orders (id bigint);\nDROP TABLE orders;\n");
  EXPECT_EQ(LocksOfStatement(dropped, 1), "DROP: orders=ACCESS EXCLUSIVE");  // CREATE TABLE takes none listed
  // A partition leaving is locked as its parent is.
  EXPECT_EQ(LocksOfStatement(later("ALTER TABLE events DETACH PARTITION events_2025;"), 0),
            "ALTER TABLE: events=ACCESS EXCLUSIVE events_2025=ACCESS EXCLUSIVE");
}

}  // namespace
}  // namespace schemagate
