// `schemagate lint` as users run it: the real binary over migration trees,
// with no database (lint never connects).
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "integration/runner_fixture.h"
#include "support/expect.h"

namespace schemagate::testing {
namespace {

// A migration after the bundled head whose upgrade takes long locks on the
// existing users table: lines 6 and 7 are errors, line 8 a warning.
constexpr const char* kOffending =
    "-- revision: 0006\n"
    "-- down_revision: 0005\n"
    "-- message: Offending\n"
    "\n"
    "-- migrate:upgrade\n"
    "CREATE INDEX ix_users_created ON users (created_at);\n"
    "ALTER TABLE users ADD COLUMN tier text NOT NULL;\n"
    "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, at timestamp);\n"
    "\n"
    "-- migrate:downgrade\n"
    "DROP TABLE events;\n"
    "ALTER TABLE users DROP COLUMN tier;\n"
    "DROP INDEX ix_users_created;\n";

// Only warnings: new columns of discouraged types on a new table.
constexpr const char* kWarningsOnly =
    "-- revision: 0007\n"
    "-- down_revision: 0006\n"
    "-- message: Warnings only\n"
    "\n"
    "-- migrate:upgrade\n"
    "CREATE TABLE codes (id serial PRIMARY KEY, code char(3), at timestamp);\n"
    "CREATE INDEX ix_codes_code ON codes (code);\n"
    "\n"
    "-- migrate:downgrade\n"
    "DROP TABLE codes;\n";

class LintCliTest : public RunnerTest {
 protected:
  // lint with text logs; no --url: lint must not need a database.
  RunResult Lint(std::vector<std::string> args,
                 const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), "lint");
    args.push_back("--log-format");
    args.push_back("text");
    return SgRaw(std::move(args), env);
  }
};

// The one warning: ocr_jobs.processing_time_ms is an integer (24 days of
// milliseconds is room enough), left as the document has it: an applied
// migration's text is never edited (its checksum is recorded).
constexpr const char* kBundledWarning =
    "migrations/versions/0001_initial_schema.sql:46:5: warning: [prefer-bigint] column processing_time_ms of "
    "table ocr_jobs is integer\n";

TEST_F(LintCliTest, BundledMigrationsHaveNoErrors) {
  RunResult r = Lint({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n') + 1), kBundledWarning) << r.out;
  EXPECT_CONTAINS(
      r.err, "lint: 0 error(s), 1 warning(s) in 5 migration(s) (upgrade sections for production)");

  RunResult json = Lint({"--format", "json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_CONTAINS(json.out, R"("revisions":["0001","0002","0003","0004","0005"],"errors":0,"warnings":1,)");
}

TEST_F(LintCliTest, OffendingMigrationExits4NamingPathLineAndRule) {
  CopyBundledMigrations();
  WriteMigration("0006_offending.sql", kOffending);
  RunResult r = Lint({});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  const std::string path = "migrations/versions/0006_offending.sql";
  EXPECT_CONTAINS(r.out,
                  path +
                      ":6:1: error: [index-not-concurrent] CREATE INDEX ix_users_created on existing "
                      "table users without CONCURRENTLY\n    why: ");
  // The column is where the column is.
  EXPECT_CONTAINS(r.out, path + ":7:30: error: [not-null-without-default] ");
  EXPECT_CONTAINS(
      r.out,
      path + ":7:1: error: [missing-lock-timeout] ALTER TABLE users takes an ACCESS EXCLUSIVE");
  EXPECT_CONTAINS(r.out,
                  path + ":8:62: warning: [timestamp-without-time-zone] column at of table events");
  EXPECT_CONTAINS(r.out, "    safe alternative: ");
  // Downgrades are not linted: DROP TABLE / DROP COLUMN there are fine.
  EXPECT_FALSE(Contains(r.out, "drop-table")) << r.out;
  EXPECT_FALSE(Contains(r.out, "drop-column")) << r.out;
  EXPECT_CONTAINS(r.err, "lint: 3 error(s), 2 warning(s) in 6 migration(s)");
}

TEST_F(LintCliTest, JsonFindingsParseWithStableFields) {
  CopyBundledMigrations();
  WriteMigration("0006_offending.sql", kOffending);
  RunResult r = Lint({"--format", "json"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  // A real JSON parser reads it back.
  RunOptions opts;
  opts.stdin_data = r.out;
  RunResult parsed = RunProcess(
      {"/usr/bin/python3", "-c",
       "import json, sys\n"
       "d = json.load(sys.stdin)\n"
       "print(d['environment'], d['errors'], d['warnings'], ','.join(d['revisions']))\n"
       "for f in d['findings']:\n"
       "    assert sorted(f) == ['column', 'file', 'fix', 'line', 'message', 'revision', 'rule',\n"
       "                         'severity', 'why'], f\n"
       "    assert f['message'] and f['why'] and f['fix'], f\n"
       "    print(f['file'].split('/')[-1], f['line'], f['column'], f['revision'], f['rule'], f['severity'])\n"
       "for s in d['statements']:\n"
       "    if s['revision'] == '0006':\n"
       "        print(s['line'], s['command'], ' '.join(l['relation'] + '=' + l['mode'] + ('' if l['existing'] else '(new)') for l in s['locks']))\n"},
      opts);
  ASSERT_EQ(parsed.exit_code, 0) << parsed.err << "\n" << r.out;
  EXPECT_EQ(parsed.out,
            "production 3 2 0001,0002,0003,0004,0005,0006\n"
            "0001_initial_schema.sql 46 5 0001 prefer-bigint warning\n"
            "0006_offending.sql 6 1 0006 index-not-concurrent error\n"
            "0006_offending.sql 7 1 0006 missing-lock-timeout error\n"
            "0006_offending.sql 7 30 0006 not-null-without-default error\n"
            "0006_offending.sql 8 62 0006 timestamp-without-time-zone warning\n"
            "6 CREATE INDEX users=SHARE\n"
            "7 ALTER TABLE users=ACCESS EXCLUSIVE\n");
  // --output json picks the JSON format too.
  RunResult output_json = Lint({"--output", "json"});
  EXPECT_EQ(output_json.out, r.out);
}

TEST_F(LintCliTest, GithubFormatPrintsWorkflowCommands) {
  CopyBundledMigrations();
  WriteMigration("0006_offending.sql", kOffending);
  RunResult r = Lint({"--format", "github"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<std::string> seen;
  const std::regex command(R"(^::(error|warning) file=([^,:]+),line=(\d+),col=(\d+),title=([a-z-]+)::(.+)$)");
  while (std::getline(lines, line)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, command)) << line;
    if (m[2].str() != "migrations/versions/0006_offending.sql") continue;  // the bundled warning
    EXPECT_FALSE(Contains(m[6].str(), "\n"));
    EXPECT_CONTAINS(m[6].str(), "%0Awhy: ");
    seen.push_back(m[1].str() + " " + m[3].str() + ":" + m[4].str() + " " + m[5].str());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "error 6:1 index-not-concurrent", "error 7:1 missing-lock-timeout",
                      "error 7:30 not-null-without-default", "warning 8:62 timestamp-without-time-zone"}));
}

TEST_F(LintCliTest, GithubPropertiesEscapeCommasAndColons) {
  CopyBundledMigrations();
  std::string text = kWarningsOnly;
  text.replace(text.find("0006"), 4, "0005");  // 0007 follows the bundled head
  WriteMigration("0007_a,b.sql", text);
  RunResult r = Lint({"--format", "github"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out,
                  "::warning file=migrations/versions/0007_a%2Cb.sql,line=6,col=21,title=serial-type::");
}

TEST_F(LintCliTest, WarningsAloneExit0) {
  CopyBundledMigrations();
  std::string text = kWarningsOnly;
  text.replace(text.find("0006"), 4, "0005");
  WriteMigration("0007_warnings.sql", text);
  RunResult r = Lint({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_CONTAINS(r.out, "0007_warnings.sql:6:21: warning: [serial-type]");
  EXPECT_CONTAINS(r.out, "0007_warnings.sql:6:21: warning: [prefer-bigint]");
  EXPECT_CONTAINS(r.out, "0007_warnings.sql:6:44: warning: [char-type]");
  EXPECT_CONTAINS(r.out, "0007_warnings.sql:6:58: warning: [timestamp-without-time-zone]");
  EXPECT_FALSE(Contains(r.out, "error:")) << r.out;  // the index is on a table created above
  EXPECT_CONTAINS(r.err, "lint: 0 error(s), 5 warning(s)");
}

TEST_F(LintCliTest, PositionalRevisionsSelectWhatIsLintedInRevisionOrder) {
  CopyBundledMigrations();
  WriteMigration("0006_offending.sql", kOffending);
  WriteMigration("0007_warnings.sql", kWarningsOnly);
  RunResult only_warnings = Lint({"0007"});
  EXPECT_EQ(only_warnings.exit_code, 0) << only_warnings.out << only_warnings.err;
  EXPECT_FALSE(Contains(only_warnings.out, "0006_offending")) << only_warnings.out;
  EXPECT_CONTAINS(only_warnings.out, "0007_warnings.sql:6:21: warning:");

  RunResult both = Lint({"0007", "0006", "--format", "json"});
  EXPECT_EQ(both.exit_code, 4) << both.err;
  EXPECT_CONTAINS(both.out, R"("revisions":["0006","0007"])");
  EXPECT_LT(both.out.find("0006_offending"), both.out.find("0007_warnings"));

  RunResult unknown = Lint({"0099"});
  EXPECT_EQ(unknown.exit_code, 4) << unknown.err;
  EXPECT_CONTAINS(unknown.err, "0099");
}

TEST_F(LintCliTest, ProductionUnlessEnvIsGivenOnTheCommandLine) {
  CopyBundledMigrations();  // its schemagate.yaml says environment: development
  WriteMigration("0006_envs.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n\n"
                 "-- migrate:upgrade transaction:false env:production\n"
                 "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_created ON users (created_at);\n"
                 "-- migrate:upgrade env:!production\n"
                 "CREATE INDEX IF NOT EXISTS ix_users_created ON users (created_at);\n");
  RunResult production = Lint({}, {{"ENVIRONMENT", "development"}});
  EXPECT_EQ(production.exit_code, 0) << production.out << production.err;
  EXPECT_CONTAINS(production.err, "upgrade sections for production");

  RunResult development = Lint({"--env", "development"});
  EXPECT_EQ(development.exit_code, 4) << development.err;
  EXPECT_CONTAINS(development.out, "0006_envs.sql:7:1: error: [index-not-concurrent]");
  // The bundled 0002 and 0005 index users with the plain form outside production too.
  EXPECT_CONTAINS(development.out, "0002_add_user_phone.sql:");
  EXPECT_CONTAINS(development.err, "upgrade sections for development");
}

TEST_F(LintCliTest, AMisspeltEnvIsRefusedEvenWithDatabaseUrlSet) {
  // The source tree's schemagate.yaml lists development, staging, production.
  RunResult r = Lint({"--env", "prodution"}, {{"DATABASE_URL", PgServer::Shared().Url("postgres")}});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_CONTAINS(r.err, "--env prodution: not an environment of");
  EXPECT_CONTAINS(r.err, "production");
}

TEST_F(LintCliTest, ConfiguredLockTimeoutCounts) {
  CopyBundledMigrations();
  WriteMigration("0006_alter.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n\n-- migrate:upgrade\n"
                 "ALTER TABLE users ADD COLUMN nickname text;\n");
  RunResult unset = Lint({});
  EXPECT_EQ(unset.exit_code, 4);
  EXPECT_CONTAINS(unset.out, "0006_alter.sql:5:1: error: [missing-lock-timeout]");

  RunResult flag = Lint({"--db-lock-timeout", "3s"});
  EXPECT_EQ(flag.exit_code, 0) << flag.out << flag.err;

  WriteFile(tmp_->path() + "/schemagate.yaml",
            "script_location: migrations\nenvironment: development\nlock_timeout: 5s\n");
  RunResult file = Lint({});
  EXPECT_EQ(file.exit_code, 0) << file.out << file.err;
}

TEST_F(LintCliTest, IgnoreCommentsAndTheirTypos) {
  CopyBundledMigrations();
  WriteMigration("0006_drop.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n\n-- migrate:upgrade\n"
                 "SET LOCAL lock_timeout = '5s';\n"
                 "-- schemagate:lint-ignore drop-column -- the app stopped using it in 2.3\n"
                 "ALTER TABLE users DROP COLUMN full_name;\n"
                 "-- schemagate:lint-ignore drop-colum\n"
                 "ALTER TABLE users DROP COLUMN is_active;\n");
  RunResult r = Lint({});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_FALSE(Contains(r.out, ":7: ")) << r.out;
  EXPECT_CONTAINS(r.out,
                  "0006_drop.sql:8:1: error: [invalid-lint-ignore] lint-ignore names unknown rule "
                  "'drop-colum'; did you mean 'drop-column'?");
  EXPECT_CONTAINS(
      r.out, "0006_drop.sql:9:1: error: [drop-column] DROP COLUMN is_active of existing table users");
}

TEST_F(LintCliTest, UnparsableMigrationExits4) {
  CopyBundledMigrations();
  WriteMigration("0006_bad.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n\n-- migrate:upgrade\n"
                 "CREATE INDEX CONCURRENTLY ix ON users (email);\n");
  RunResult r = Lint({});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_CONTAINS(r.err, "0006_bad.sql:5:");
}

TEST_F(LintCliTest, CheckReportsARefusedStatementWithItsPlaceBeforeConnecting) {
  CopyBundledMigrations();
  WriteMigration("0006_typo.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n\n-- migrate:upgrade\n"
                 "ALTER TABLE users\n"
                 "  ADD COLUMN nickname text NOT NULL DEFALT '';\n"
                 "-- migrate:downgrade\n"
                 "ALTER TABLE users DROP COLUMN nickname nickname;\n");
  // A URL nothing listens on: the syntax is read before any connection.
  RunResult r = SgRaw({"check", "--url", "postgresql://sg@127.0.0.1:1/none?connect_timeout=1", "--log-format", "text"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  // The statement starts on line 5; the error is where the parser stopped.
  EXPECT_CONTAINS(r.err, "error: migrations/versions/0006_typo.sql:6:37: syntax error at or near \"DEFALT\"");
  EXPECT_CONTAINS(r.err, "error: migrations/versions/0006_typo.sql:8:40: syntax error at or near \"nickname\"");
  EXPECT_CONTAINS(r.err, "2 statement(s) PostgreSQL's parser refuses");
  EXPECT_FALSE(Contains(r.err, "127.0.0.1:1")) << r.err;

  RunResult schema = SgRaw({"check", "--schema", "--log-format", "text"});
  EXPECT_EQ(schema.exit_code, 4) << schema.err;
  EXPECT_CONTAINS(schema.err, "0006_typo.sql:6:37:");
  EXPECT_FALSE(Contains(schema.err, "scratch")) << schema.err;

  // check --head is the cheap gate: it does not parse.
  RunResult head = Sg({"check", "--head"});
  EXPECT_EQ(head.exit_code, 5) << head.out << head.err;
  EXPECT_FALSE(Contains(head.err, "syntax error")) << head.err;
}

TEST_F(LintCliTest, NewerSyntaxIsAWarningAndUpgradeNeverParses) {
  CopyBundledMigrations();
  // PostgreSQL 16's IS JSON, in a section for another environment: check
  // warns and passes, upgrade runs what this environment runs.
  WriteMigration("0006_newer.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n\n-- migrate:upgrade\n"
                 "CREATE TABLE notes (id bigint PRIMARY KEY, body text);\n"
                 "-- migrate:upgrade env:pg16\n"
                 "ALTER TABLE notes ADD CONSTRAINT body_is_json CHECK (body IS JSON) NOT VALID;\n"
                 "-- migrate:downgrade\n"
                 "DROP TABLE notes;\n");
  RunResult up = Sg({"upgrade", "head"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_EQ(Q("SELECT count(*) FROM information_schema.tables WHERE table_name = 'notes'"), "1");
  RunResult check = Sg({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_CONTAINS(check.err, "0006_newer.sql:7:");
  EXPECT_CONTAINS(check.err, "PostgreSQL 16");
  RunResult lint = Lint({"--env", "pg16"});
  EXPECT_CONTAINS(lint.out, "0006_newer.sql:7:");
  EXPECT_CONTAINS(lint.out, "warning: [newer-syntax]");
}

TEST_F(LintCliTest, ATypeChangeIsJudgedByWhatEarlierMigrationsCreatedEvenWhenOnlyItIsLinted) {
  CopyBundledMigrations();
  // Over three releases: a column, then widened to text (catalog only), then to an integer (a rewrite).
  WriteMigration("0006_code.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n\n-- migrate:upgrade\n"
                 "SET LOCAL lock_timeout = '5s';\n"
                 "ALTER TABLE users ADD COLUMN referral_code varchar(20);\n");
  WriteMigration("0007_widen.sql",
                 "-- revision: 0007\n-- down_revision: 0006\n\n-- migrate:upgrade\n"
                 "SET LOCAL lock_timeout = '5s';\n"
                 "ALTER TABLE users ALTER COLUMN referral_code TYPE text;\n");
  WriteMigration("0008_number.sql",
                 "-- revision: 0008\n-- down_revision: 0007\n\n-- migrate:upgrade\n"
                 "SET LOCAL lock_timeout = '5s';\n"
                 "ALTER TABLE users ALTER COLUMN referral_code TYPE bigint USING referral_code::bigint;\n");
  RunResult widen = Lint({"0007"});
  EXPECT_EQ(widen.exit_code, 0) << widen.out << widen.err;
  EXPECT_EQ(widen.out, "");
  RunResult number = Lint({"0008"});
  EXPECT_EQ(number.exit_code, 4) << number.out << number.err;
  EXPECT_CONTAINS(number.out,
                  "0008_number.sql:6:1: error: [column-type-change] ALTER COLUMN referral_code TYPE bigint on "
                  "existing table users rewrites it: text to bigint with USING is not binary-coercible");
  // And the runner applies all three: lint judged what PostgreSQL does.
  RunResult up = Sg({"upgrade", "head"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(Q("SELECT data_type FROM information_schema.columns WHERE table_name = 'users' "
              "AND column_name = 'referral_code'"),
            "bigint");
}

TEST_F(LintCliTest, ListRulesPrintsEveryRule) {
  RunResult r = Lint({"--list-rules"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* id : {"index-not-concurrent (error)", "missing-lock-timeout (error)",
                         "char-type (warning)", "invalid-lint-ignore (error)"}) {
    EXPECT_CONTAINS(r.out, id);
  }
}

// What lint says statements do against what PostgreSQL does with them: the
// locks (--format json, read back from pg_locks) and the table rewrites (a
// new relfilenode): tests/differential/lint_vs_postgres.py.
TEST(LintVsPostgresTest, LocksAndRewritesAreWhatPostgresqlDoes) {
  TempDir work;
  RunResult r = RunProcess({"/usr/bin/python3", SourceDir() + "/tests/differential/lint_vs_postgres.py",
                            "--schemagate", SchemagateBinary(), "--url", PgServer::Shared().Url("postgres"), "--work",
                            work.path()},
                           {});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::smatch locks;
  ASSERT_TRUE(std::regex_search(r.out, locks, std::regex(R"((\d+) lock probes: (\d+) agree)"))) << r.out << r.err;
  EXPECT_GE(std::stoi(locks[1].str()), 40) << locks[0];
  EXPECT_EQ(locks[1].str(), locks[2].str()) << r.out;
  std::smatch rewrites;
  ASSERT_TRUE(std::regex_search(r.out, rewrites,
                                std::regex(R"((\d+) rewrite probes \((\d+) rewrite the table\): (\d+) agree)")))
      << r.out;
  EXPECT_GE(std::stoi(rewrites[2].str()), 10) << "too few probes that rewrite: " << rewrites[0];
  EXPECT_EQ(rewrites[1].str(), rewrites[3].str()) << r.out;
  std::printf("%s\n%s\n", locks[0].str().c_str(), rewrites[0].str().c_str());
}

}  // namespace
}  // namespace schemagate::testing
