#include "lint/lint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace schemagate {
namespace {

// Section markers and a lock_timeout prefix that keep the other rules quiet.
constexpr const char* kUp = "-- migrate:upgrade\n";
constexpr const char* kUpNoTx = "-- migrate:upgrade transaction:false\n";
constexpr const char* kTimeout = "SET LOCAL lock_timeout = '5s';\n";

// A migration file: the header line, then `sections` (from line 2).
std::string File(const std::string& sections) { return "-- revision: 0006\n" + sections; }

// prefer-bigint fires on every `int` column; the cases below use int for
// brevity, so it is left out unless a test asks for everything.
std::vector<LintFinding> Lint(const std::string& text, LintOptions options = {}, bool all_rules = false) {
  auto r = LintMigrationText("versions/0006_x.sql", text, options);
  EXPECT_TRUE(r.ok()) << r.status().message();
  std::vector<LintFinding> out;
  if (!r.ok()) return out;
  for (LintFinding& f : r->findings) {
    if (all_rules || f.rule != "prefer-bigint") out.push_back(std::move(f));
  }
  return out;
}

// The rule ids found, sorted, with duplicates.
std::vector<std::string> Rules(const std::vector<LintFinding>& findings) {
  std::vector<std::string> out;
  for (const LintFinding& f : findings) out.push_back(f.rule);
  std::sort(out.begin(), out.end());
  return out;
}

// "rule@line" for each finding, in order.
std::vector<std::string> RulesAt(const std::vector<LintFinding>& findings) {
  std::vector<std::string> out;
  for (const LintFinding& f : findings) out.push_back(f.rule + "@" + std::to_string(f.line));
  return out;
}

struct RuleCase {
  const char* name;
  std::string sections;
  std::vector<std::string> expected;  // sorted rule ids
};

void RunCases(const std::vector<RuleCase>& cases) {
  for (const RuleCase& c : cases) {
    std::vector<LintFinding> findings = Lint(File(c.sections));
    std::string messages;
    for (const LintFinding& f : findings) messages += "\n  " + f.rule + ": " + f.message;
    EXPECT_EQ(Rules(findings), c.expected) << c.name << messages;
  }
}

TEST(LintRules, HaveStableKebabCaseIdsAndOneLineWhyAndFix) {
  std::set<std::string> ids;
  for (const LintRule& r : LintRules()) {
    const std::string id = r.id;
    EXPECT_TRUE(ids.insert(id).second) << "duplicate " << id;
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || c == '-';
    })) << id;
    for (const char* text : {r.summary, r.why, r.fix}) {
      EXPECT_FALSE(std::string(text).empty()) << id;
      EXPECT_EQ(std::string(text).find('\n'), std::string::npos) << id;
    }
    EXPECT_EQ(FindLintRule(id), &r);
    const std::set<std::string> warnings = {"newer-syntax",    "drop-not-null", "enum-value-position",
                                            "not-rerunnable",  "timestamp-without-time-zone",
                                            "char-type",       "serial-type",   "prefer-bigint",
                                            "identifier-too-long"};
    EXPECT_EQ(r.severity, warnings.count(id) ? LintSeverity::kWarning : LintSeverity::kError) << id;
  }
  // The ids lint-ignore comments in the field already name stay.
  for (const char* id :
       {"index-not-concurrent", "not-null-without-default", "column-type-change", "drop-table",
        "drop-column", "rename-table", "rename-column", "constraint-without-not-valid",
        "unique-without-using-index", "timestamp-without-time-zone", "char-type", "serial-type",
        "missing-lock-timeout", "invalid-lint-ignore"}) {
    EXPECT_TRUE(ids.count(id)) << id;
  }
  EXPECT_EQ(FindLintRule("index-not-concurent"), nullptr);
}

TEST(Lint, IndexNotConcurrent) {
  const std::string up = std::string(kUp) + kTimeout;
  RunCases({
      {"create on existing",
       up + "CREATE INDEX ix_users_phone ON users (phone);",
       {"index-not-concurrent"}},
      {"unique, unnamed", up + "CREATE UNIQUE INDEX ON users (phone);", {"index-not-concurrent"}},
      {"drop", up + "DROP INDEX IF EXISTS ix_users_phone;", {"index-not-concurrent"}},
      {"create concurrently",
       std::string(kUpNoTx) + "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (phone);",
       {}},
      {"drop concurrently", std::string(kUpNoTx) + "DROP INDEX CONCURRENTLY IF EXISTS ix;", {}},
      {"on a new table",
       up + "CREATE TABLE t (id bigint);\nCREATE INDEX ix_t ON t (id);\nDROP INDEX ix_t;",
       {}},
      {"ON ONLY a partitioned parent", up + "CREATE INDEX ix_p ON ONLY measurements (at);", {}},
  });
}

TEST(Lint, NotNullWithoutDefault) {
  const std::string up = std::string(kUp) + kTimeout;
  RunCases({
      {"not null",
       up + "ALTER TABLE users ADD COLUMN tier text NOT NULL;",
       {"not-null-without-default"}},
      {"primary key",
       up + "ALTER TABLE users ADD id2 bigint PRIMARY KEY;",
       {"not-null-without-default", "unique-without-using-index"}},
      {"with default", up + "ALTER TABLE users ADD COLUMN tier text NOT NULL DEFAULT 'free';", {}},
      {"nullable", up + "ALTER TABLE users ADD COLUMN IF NOT EXISTS tier text;", {}},
      {"identity (a value per row, so a rewrite)",
       up + "ALTER TABLE users ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY NOT NULL;",
       {"table-rewrite"}},
      {"new table", up + "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN x int NOT NULL;", {}},
      {"NOT NULL inside a CHECK is not the column's",
       up + "ALTER TABLE users ADD COLUMN x int CHECK (x IS NOT NULL);",
       {"constraint-without-not-valid"}},
  });
}

TEST(Lint, ColumnTypeChange) {
  const std::string up = std::string(kUp) + kTimeout;
  RunCases({
      {"TYPE", up + "ALTER TABLE users ALTER COLUMN email TYPE text;", {"column-type-change"}},
      {"SET DATA TYPE",
       up + "ALTER TABLE users ALTER email SET DATA TYPE varchar(320);",
       {"column-type-change"}},
      {"second action",
       up + "ALTER TABLE users ADD COLUMN x int, ALTER COLUMN email TYPE citext;",
       {"column-type-change"}},
      {"set default", up + "ALTER TABLE users ALTER COLUMN email SET DEFAULT '';", {}},
      {"new table", up + "CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE bigint;", {}},
  });
}

TEST(Lint, DropAndRename) {
  const std::string up = std::string(kUp) + kTimeout;
  RunCases({
      {"drop table", up + "DROP TABLE IF EXISTS audit_logs CASCADE;", {"drop-table"}},
      {"drop two tables", up + "DROP TABLE a, b;", {"drop-table", "drop-table"}},
      {"drop a new table", up + "CREATE TABLE tmp (id int);\nDROP TABLE tmp;", {}},
      {"drop column", up + "ALTER TABLE users DROP COLUMN phone;", {"drop-column"}},
      {"drop column without COLUMN",
       up + "ALTER TABLE users DROP IF EXISTS phone;",
       {"drop-column"}},
      {"drop constraint", up + "ALTER TABLE users DROP CONSTRAINT users_email_key;", {}},
      {"rename table", up + "ALTER TABLE users RENAME TO customers;", {"rename-table"}},
      {"rename column", up + "ALTER TABLE users RENAME COLUMN phone TO mobile;", {"rename-column"}},
      {"rename column without COLUMN",
       up + "ALTER TABLE users RENAME phone TO mobile;",
       {"rename-column"}},
      {"rename constraint", up + "ALTER TABLE users RENAME CONSTRAINT a TO b;", {}},
      {"a renamed new table stays new",
       up + "CREATE TABLE staging (id int);\nALTER TABLE staging RENAME TO imported;\n"
            "ALTER TABLE imported RENAME COLUMN id TO import_id;\n"
            "CREATE INDEX ix_imp ON imported (import_id);",
       {}},
  });
}

TEST(Lint, ConstraintWithoutNotValid) {
  const std::string up = std::string(kUp) + kTimeout;
  RunCases({
      {"foreign key",
       up + "ALTER TABLE ocr_jobs ADD CONSTRAINT fk_user FOREIGN KEY (user_id) "
            "REFERENCES users (id);",
       {"constraint-without-not-valid"}},
      {"unnamed foreign key",
       up + "ALTER TABLE ocr_jobs ADD FOREIGN KEY (user_id) REFERENCES users;",
       {"constraint-without-not-valid"}},
      {"check",
       up + "ALTER TABLE users ADD CONSTRAINT ck_email CHECK (length(email) > 3);",
       {"constraint-without-not-valid"}},
      {"column with REFERENCES",
       up + "ALTER TABLE ocr_jobs ADD COLUMN owner uuid REFERENCES users (id);",
       {"constraint-without-not-valid"}},
      // FOREIGN KEY ... NOT VALID and VALIDATE take lighter locks than
      // ACCESS EXCLUSIVE, so they need no lock_timeout either.
      {"not valid (no validation, no ACCESS EXCLUSIVE for a foreign key)",
       std::string(kUp) + "ALTER TABLE ocr_jobs ADD CONSTRAINT fk_user FOREIGN KEY (user_id) "
                          "REFERENCES users (id) NOT VALID;",
       {}},
      {"validate, in a later migration", std::string(kUp) + "ALTER TABLE ocr_jobs VALIDATE CONSTRAINT fk_user;", {}},
      // The same transaction: the scan runs under the lock the ADD holds until commit.
      {"not valid, then validate in the same transaction",
       std::string(kUp) + "ALTER TABLE ocr_jobs ADD CONSTRAINT fk_user FOREIGN KEY (user_id) "
                          "REFERENCES users (id) NOT VALID;\n"
                          "ALTER TABLE ocr_jobs VALIDATE CONSTRAINT fk_user;",
       {"constraint-without-not-valid"}},
      {"not valid, then validate after a transaction:false section ended it",
       up + "ALTER TABLE users ADD CONSTRAINT ck CHECK (email <> '') NOT VALID;\n" + kUpNoTx +
           "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (email);\n" + up +
           "ALTER TABLE users VALIDATE CONSTRAINT ck;",
       {}},
      {"check not valid",
       up + "ALTER TABLE users ADD CONSTRAINT ck CHECK (email <> '') NOT VALID;",
       {}},
      {"new table",
       up + "CREATE TABLE t (id int, u uuid);\nALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u) "
            "REFERENCES users (id);",
       {}},
  });
}

TEST(Lint, UniqueWithoutUsingIndex) {
  const std::string up = std::string(kUp) + kTimeout;
  RunCases({
      {"unique",
       up + "ALTER TABLE users ADD CONSTRAINT users_phone_key UNIQUE (phone);",
       {"unique-without-using-index"}},
      {"primary key",
       up + "ALTER TABLE legacy ADD PRIMARY KEY (id);",
       {"unique-without-using-index"}},
      {"column UNIQUE",
       up + "ALTER TABLE users ADD COLUMN handle text UNIQUE;",
       {"unique-without-using-index"}},
      {"using a concurrently built index",
       std::string(kUpNoTx) +
           "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_phone ON users (phone);\n" + up +
           "ALTER TABLE users ADD CONSTRAINT users_phone_key UNIQUE USING INDEX ix_phone;",
       {}},
      {"new table", up + "CREATE TABLE t (id int);\nALTER TABLE t ADD PRIMARY KEY (id);", {}},
  });
}

TEST(Lint, TypeRulesOnNewColumns) {
  const std::string up = std::string(kUp) + kTimeout;
  RunCases({
      {"timestamp",
       up + "CREATE TABLE ev (id bigint, at timestamp NOT NULL);",
       {"timestamp-without-time-zone"}},
      {"timestamp(3) without time zone",
       up + "CREATE TABLE ev (at timestamp(3) without time zone);",
       {"timestamp-without-time-zone"}},
      {"added timestamp",
       up + "ALTER TABLE users ADD COLUMN seen_at pg_catalog.timestamp;",
       {"timestamp-without-time-zone"}},
      {"timestamptz",
       up + "CREATE TABLE ev (a timestamptz, b timestamp with time zone, "
            "c timestamp(3) with time zone);",
       {}},
      {"a column named timestamp", up + "CREATE TABLE ev (timestamp timestamptz);", {}},
      {"char(n)",
       up + "CREATE TABLE c (code char(2), iso character(3) NOT NULL);",
       {"char-type", "char-type"}},
      {"added char", up + "ALTER TABLE users ADD COLUMN country char(2);", {"char-type"}},
      {"varchar",
       up + "CREATE TABLE c (a character varying(20), b varchar(3), c \"char\", d text);",
       {}},
      {"serial",
       up + "CREATE TABLE s (id bigserial PRIMARY KEY, n serial);",
       {"serial-type", "serial-type"}},
      {"added serial (a nextval() per row rewrites)", up + "ALTER TABLE users ADD COLUMN n smallserial;",
       {"serial-type", "table-rewrite"}},
      {"identity",
       up + "CREATE TABLE s (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);",
       {}},
      {"table constraints are not columns",
       up + "CREATE TABLE s (id int, CONSTRAINT pk PRIMARY KEY (id), "
            "UNIQUE (id), CHECK (id > 0), LIKE other);",
       {}},
      {"only new columns",
       up + "ALTER TABLE users ALTER COLUMN at TYPE timestamp;",
       {"column-type-change"}},
  });
}

TEST(Lint, MissingLockTimeout) {
  const std::string up = kUp;
  RunCases({
      {"alter table", up + "ALTER TABLE users ADD COLUMN phone text;", {"missing-lock-timeout"}},
      {"drop table",
       up + "-- schemagate:lint-ignore drop-table\nDROP TABLE audit_logs;",
       {"missing-lock-timeout"}},
      {"truncate", up + "TRUNCATE TABLE audit_logs;", {"missing-lock-timeout", "unbounded-data-change"}},
      {"lock", up + "LOCK TABLE users;", {"explicit-lock", "missing-lock-timeout"}},
      {"lock access exclusive",
       up + "LOCK users IN ACCESS EXCLUSIVE MODE;",
       {"explicit-lock", "missing-lock-timeout"}},
      {"drop trigger", up + "DROP TRIGGER trg ON users;", {"missing-lock-timeout"}},
      {"alter index",
       up + "ALTER INDEX ix_users_phone SET TABLESPACE fast;",
       {"missing-lock-timeout"}},
      {"reindex", up + "REINDEX TABLE users;", {"missing-lock-timeout", "reindex-not-concurrent"}},
      {"cluster", up + "CLUSTER users USING ix;", {"missing-lock-timeout", "rewrite-maintenance"}},
      {"vacuum full",
       std::string(kUpNoTx) + "VACUUM (FULL, ANALYZE) users;",
       {"missing-lock-timeout", "rewrite-maintenance"}},
      {"SET LOCAL", up + kTimeout + "ALTER TABLE users ADD COLUMN phone text;", {}},
      {"SET", up + "SET lock_timeout TO '2s';\nALTER TABLE users ADD COLUMN phone text;", {}},
      {"SET SESSION",
       up + "SET SESSION lock_timeout = 2000;\nALTER TABLE users ADD COLUMN phone text;",
       {}},
      {"set_config",
       up + "SELECT set_config('lock_timeout', '3s', true);\n"
            "ALTER TABLE users ADD COLUMN phone text;",
       {}},
      {"SET after the statement",
       up + "ALTER TABLE users ADD COLUMN phone text;\n" + kTimeout,
       {"missing-lock-timeout"}},
      {"set to 0",
       up + kTimeout + "SET LOCAL lock_timeout = 0;\nALTER TABLE users ADD COLUMN x int;",
       {"missing-lock-timeout"}},
      {"reset",
       up + "SET lock_timeout = '5s';\nRESET lock_timeout;\nALTER TABLE users ADD COLUMN x int;",
       {"missing-lock-timeout"}},
      {"lock nowait (no queue)", up + "LOCK TABLE users IN ACCESS EXCLUSIVE MODE NOWAIT;", {"explicit-lock"}},
      {"lock share mode", up + "LOCK TABLE users IN SHARE MODE;", {"explicit-lock"}},
      {"vacuum", std::string(kUpNoTx) + "VACUUM ANALYZE users;", {}},
      {"reindex concurrently", std::string(kUpNoTx) + "REINDEX TABLE CONCURRENTLY users;", {}},
      {"new table",
       up + "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN x int;\nTRUNCATE t;",
       {}},
      {"enable trigger", up + "ALTER TABLE users ENABLE TRIGGER trg;", {}},
      {"create trigger",
       up + "CREATE TRIGGER trg BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION f();",
       {}},
      {"update (row locks only)", up + "UPDATE users SET is_verified = true WHERE id < 1000;", {}},
      // One transaction for an all-transactional migration: SET LOCAL reaches the later section.
      {"SET LOCAL across transactional sections",
       up + kTimeout + "-- migrate:upgrade env:production\nALTER TABLE users ADD COLUMN x int;",
       {}},
      // With a transaction:false section each transactional section is its own transaction.
      {"SET LOCAL ends with its section",
       up + kTimeout + kUpNoTx + "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (a);\n" + up +
           "ALTER TABLE users ADD COLUMN x int;",
       {"missing-lock-timeout"}},
      {"SET LOCAL outside a transaction does nothing",
       std::string(kUpNoTx) + kTimeout + "VACUUM FULL users;",
       {"missing-lock-timeout", "rewrite-maintenance"}},
      {"SET outside a transaction lasts",
       std::string(kUpNoTx) + "SET lock_timeout = '5s';\nVACUUM FULL users;",
       {"rewrite-maintenance"}},
  });
}

TEST(Lint, LockTimeoutFromTheConfiguration) {
  LintOptions configured;
  configured.lock_timeout_configured = true;
  const std::string alter = "ALTER TABLE users ADD COLUMN phone text;";
  EXPECT_EQ(Rules(Lint(File(std::string(kUp) + alter))),
            std::vector<std::string>{"missing-lock-timeout"});
  EXPECT_TRUE(Lint(File(std::string(kUp) + alter), configured).empty());
  // RESET goes back to the configured value; an explicit 0 turns it off.
  EXPECT_TRUE(Lint(File(std::string(kUp) + "RESET lock_timeout;\n" + alter), configured).empty());
  EXPECT_EQ(Rules(Lint(File(std::string(kUp) + "SET lock_timeout = 0;\n" + alter), configured)),
            std::vector<std::string>{"missing-lock-timeout"});
}

TEST(Lint, TablesCreatedEarlierInTheMigrationAreNew) {
  const std::string up = std::string(kUp);
  RunCases({
      {"later statement",
       up + "CREATE TABLE events (id int);\nALTER TABLE events DROP COLUMN id;",
       {}},
      {"before the CREATE it is not new",
       up + kTimeout + "ALTER TABLE events DROP COLUMN id;\nCREATE TABLE events (id int);",
       {"drop-column"}},
      {"schema public",
       up + "CREATE TABLE public.Events (id int);\nCREATE INDEX ix ON EVENTS (id);",
       {}},
      {"quoted lower case",
       up + "CREATE TABLE \"events\" (id int);\nCREATE INDEX ix ON public.events (id);",
       {}},
      {"quoted mixed case differs",
       up + "CREATE TABLE \"Events\" (id int);\nCREATE INDEX ix ON events (id);",
       {"index-not-concurrent"}},
      {"another schema differs",
       up + "CREATE TABLE audit.events (id int);\nCREATE INDEX ix ON events (id);",
       {"index-not-concurrent"}},
      {"same schema",
       up + "CREATE TABLE audit.events (id int);\nCREATE INDEX ix ON audit.events (id);",
       {}},
      {"CREATE TABLE IF NOT EXISTS / AS",
       up + "CREATE UNLOGGED TABLE IF NOT EXISTS a (id int);\n"
            "CREATE TABLE b AS SELECT 1 AS id;\nDROP TABLE a, b;",
       {}},
      {"dropped and recreated",
       up + "CREATE TABLE t (id int);\nDROP TABLE t;\nCREATE INDEX ix ON t (id);",
       {"index-not-concurrent"}},
  });
}

TEST(Lint, OnlyTheUpgradeSectionsOfTheEnvironmentAreLinted) {
  const std::string text = File(
      "-- migrate:upgrade transaction:false env:production\n"  // 2
      "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (phone);\n"
      "-- migrate:upgrade env:!production\n"  // 4
      "CREATE INDEX IF NOT EXISTS ix ON users (phone);\n"
      "-- migrate:downgrade\n"  // 6
      "DROP INDEX ix;\n"
      "ALTER TABLE users DROP COLUMN phone;\n"
      "DROP TABLE users;\n");
  EXPECT_TRUE(Lint(text).empty());  // production by default
  LintOptions development;
  development.environment = "development";
  EXPECT_EQ(RulesAt(Lint(text, development)), std::vector<std::string>{"index-not-concurrent@5"});
}

TEST(Lint, IgnoreCommentsSuppressTheNamedRulesOfTheNextStatement) {
  const std::string text =
      File(std::string(kUp) +                                                             // 2
           kTimeout +                                                                     // 3
           "-- schemagate:lint-ignore drop-table -- unused since 2.3\n"                   // 4
           "DROP TABLE legacy_sessions;\n"                                                // 5
           "-- schemagate:lint-ignore drop-column,rename-column  index-not-concurrent\n"  // 6
           "-- the app stopped reading fax in 2.4\n"                                      // 7
           "ALTER TABLE users DROP COLUMN fax;\n"                                         // 8
           "-- schemagate:lint-ignore drop-column\n"                                      // 9
           "\n"                                                                           // 10
           "ALTER TABLE users DROP COLUMN telex;\n"                                       // 11
           "-- schemagate:lint-ignore char-type\n"                                        // 12
           "ALTER TABLE users ADD COLUMN c char(2), ADD COLUMN t timestamp;\n"            // 13
           "SELECT 1; -- schemagate:lint-ignore drop-table\n"                             // 14
           "DROP TABLE other;\n");                                                        // 15
  EXPECT_EQ(RulesAt(Lint(text)),
            (std::vector<std::string>{"invalid-lint-ignore@9", "drop-column@11",
                                      "timestamp-without-time-zone@13", "invalid-lint-ignore@14",
                                      "drop-table@15"}));
}

TEST(Lint, IgnoreOnlySuppressesTheRulesItNames) {
  const std::string text = File(std::string(kUp) +
                                "-- schemagate:lint-ignore drop-table\n"
                                "DROP TABLE legacy_sessions;\n");
  EXPECT_EQ(RulesAt(Lint(text)), std::vector<std::string>{"missing-lock-timeout@4"});
}

TEST(Lint, UnknownOrMissingIdsInIgnoreCommentsAreReported) {
  const std::string text = File(std::string(kUp) + kTimeout +  // 2, 3
                                "-- schemagate:lint-ignore index-not-concurent, drop-table\n"  // 4
                                "DROP TABLE a;\n"                                              // 5
                                "-- schemagate:lint-ignore\n"                                  // 6
                                "DROP TABLE b;\n"                                              // 7
                                "-- schemagate:lint-ignore no-such-rule-at-all\n"              // 8
                                "SELECT 1;\n"                                                  // 9
                                "-- schemagate:lint-ignore=drop-table\n"                       // 10
                                "SELECT 2;\n");
  std::vector<LintFinding> findings = Lint(text);
  ASSERT_EQ(RulesAt(findings), (std::vector<std::string>{
                                   "invalid-lint-ignore@4", "invalid-lint-ignore@6", "drop-table@7",
                                   "invalid-lint-ignore@8", "invalid-lint-ignore@10"}));
  EXPECT_EQ(
      findings[0].message,
      "lint-ignore names unknown rule 'index-not-concurent'; did you mean 'index-not-concurrent'?");
  EXPECT_EQ(findings[0].severity, LintSeverity::kError);
  EXPECT_EQ(findings[1].message, "lint-ignore names no rule");
  EXPECT_NE(findings[3].message.find("--list-rules"), std::string::npos) << findings[3].message;
  EXPECT_NE(findings[4].message.find("malformed"), std::string::npos) << findings[4].message;
}

TEST(Lint, FindingsCarryTheFileTheStatementLineAndTheRuleText) {
  const std::string text = File(
      "-- migrate:upgrade\n"                 // 2
      "SET LOCAL lock_timeout = '5s';\n"     // 3
      "\n"                                   // 4
      "-- A comment above the statement.\n"  // 5
      "CREATE INDEX ix_users_phone\n"        // 6
      "    ON users (phone);\n");
  std::vector<LintFinding> findings = Lint(text);
  ASSERT_EQ(findings.size(), 1u);
  const LintFinding& f = findings[0];
  EXPECT_EQ(f.file, "versions/0006_x.sql");
  EXPECT_EQ(f.revision, "0006");
  EXPECT_EQ(f.line, 6);
  EXPECT_EQ(f.rule, "index-not-concurrent");
  EXPECT_EQ(f.severity, LintSeverity::kError);
  EXPECT_EQ(f.message, "CREATE INDEX ix_users_phone on existing table users without CONCURRENTLY");
  EXPECT_EQ(f.why, FindLintRule("index-not-concurrent")->why);
  EXPECT_EQ(f.fix, FindLintRule("index-not-concurrent")->fix);

  // CRLF files count lines the same way.
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(RulesAt(Lint(crlf)), std::vector<std::string>{"index-not-concurrent@6"});
}

TEST(Lint, StringsCommentsAndBodiesAreNotStatements) {
  const std::string up = std::string(kUp) + kTimeout;
  RunCases({
      {"string", up + "COMMENT ON TABLE users IS 'ALTER TABLE users DROP COLUMN x';", {}},
      {"comment", up + "-- ALTER TABLE users DROP COLUMN x\nSELECT 1 /* DROP TABLE users */;", {}},
      {"DO block", up + "DO $$ BEGIN ALTER TABLE users DROP COLUMN x; END $$;", {}},
      {"tagged body",
       up + "CREATE FUNCTION f() RETURNS void AS $fn$ DROP TABLE users; $fn$ LANGUAGE sql;",
       {}},
      {"default with keywords",
       up + "ALTER TABLE users ADD COLUMN note text DEFAULT 'NOT NULL' NOT NULL;",
       {}},
  });
}

TEST(Lint, BundledStyleMigrationIsClean) {
  const std::string text = File(
      "-- migrate:upgrade\n"
      "SET LOCAL lock_timeout = '5s';\n"
      "ALTER TABLE users ADD COLUMN IF NOT EXISTS phone VARCHAR(20);\n"
      "-- migrate:upgrade transaction:false env:production\n"
      "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_phone ON users (phone);\n"
      "-- migrate:upgrade env:!production\n"
      "CREATE INDEX IF NOT EXISTS ix_users_phone ON users (phone);\n");
  EXPECT_TRUE(Lint(text).empty());
}

LintReport SampleReport() {
  LintReport report;
  report.environment = "production";
  report.revisions = {"0006"};
  report.findings.push_back(
      {"m/versions/0006_a,b.sql", "0006", 7, 1, "index-not-concurrent", LintSeverity::kError,
       "CREATE INDEX ix on existing table users without CONCURRENTLY", "why: 100%", "fix"});
  report.findings.push_back({"m/versions/0006_a,b.sql", "0006", 9, 20, "char-type",
                             LintSeverity::kWarning, "column c of table t is char(2)", "pads",
                             "use text"});
  report.statements.push_back({"m/versions/0006_a,b.sql", "0006", 7, 1, "CREATE INDEX",
                               {{"users", "SHARE", true}}});
  return report;
}

TEST(LintRender, TextNamesPathLineColumnSeverityAndRule) {
  LintReport report = SampleReport();
  EXPECT_EQ(report.errors(), 1);
  EXPECT_EQ(report.warnings(), 1);
  EXPECT_EQ(RenderLintText(report),
            "m/versions/0006_a,b.sql:7:1: error: [index-not-concurrent] CREATE INDEX ix on existing "
            "table users without CONCURRENTLY\n"
            "    why: why: 100%\n"
            "    safe alternative: fix\n"
            "m/versions/0006_a,b.sql:9:20: warning: [char-type] column c of table t is char(2)\n"
            "    why: pads\n"
            "    safe alternative: use text\n");
  EXPECT_EQ(RenderLintText(LintReport{}), "");
}

TEST(LintRender, JsonHasStableFieldNamesAndTheLocksOfEachStatement) {
  EXPECT_EQ(
      RenderLintJson(SampleReport()),
      R"j({"environment":"production","revisions":["0006"],"errors":1,"warnings":1,"findings":[)j"
      R"j({"file":"m/versions/0006_a,b.sql","line":7,"column":1,"revision":"0006","rule":"index-not-concurrent",)j"
      R"j("severity":"error","message":"CREATE INDEX ix on existing table users without CONCURRENTLY",)j"
      R"j("why":"why: 100%","fix":"fix"},)j"
      R"j({"file":"m/versions/0006_a,b.sql","line":9,"column":20,"revision":"0006","rule":"char-type",)j"
      R"j("severity":"warning","message":"column c of table t is char(2)","why":"pads","fix":"use text"}],)j"
      R"j("statements":[{"file":"m/versions/0006_a,b.sql","line":7,"column":1,"revision":"0006",)j"
      R"j("command":"CREATE INDEX","locks":[{"relation":"users","mode":"SHARE","existing":true}]}]})j");
}

TEST(LintRender, GithubWorkflowCommandsAreEscaped) {
  EXPECT_EQ(GithubEscapeData("50% a:b,c\r\nnext"), "50%25 a:b,c%0D%0Anext");
  EXPECT_EQ(GithubEscapeProperty("50% a:b,c\r\nnext"), "50%25 a%3Ab%2Cc%0D%0Anext");
  EXPECT_EQ(RenderLintGithub(SampleReport()),
            "::error file=m/versions/0006_a%2Cb.sql,line=7,col=1,title=index-not-concurrent::CREATE "
            "INDEX ix on existing "
            "table users without CONCURRENTLY%0Awhy: why: 100%25%0Asafe alternative: fix\n"
            "::warning file=m/versions/0006_a%2Cb.sql,line=9,col=20,title=char-type::column c of table t "
            "is char(2)%0Awhy: "
            "pads%0Asafe alternative: use text\n");
}

}  // namespace
}  // namespace schemagate
