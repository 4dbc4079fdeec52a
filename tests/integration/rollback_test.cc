// Releases behind the database (design.md §4): the runner and the gate of a
// release whose files end at 0005, against a database a newer release moved
// on (helm rollback, kubectl rollout undo, old pods of a rolling update), and
// what the JSON report says about targets and pending steps.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include "integration/runner_fixture.h"
#include "support/expect.h"

namespace schemagate::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNewer0006 =
    "-- revision: 0006\n-- down_revision: 0005\n-- message: Add nickname\n\n"
    "-- migrate:upgrade\nALTER TABLE users ADD COLUMN nickname text;\n"
    "-- migrate:downgrade\nALTER TABLE users DROP COLUMN nickname;\n";

constexpr const char* kRefusal = "which no migration file here defines";

class RollbackTest : public RunnerTest {
 protected:
  // The newer release's file goes away: what is left is the older release.
  void RemoveMigration(const std::string& name) {
    ASSERT_TRUE(fs::remove(fs::path(script_location_) / "versions" / name)) << name;
  }
  std::string Report() { return ReadFile(tmp_->path() + "/report.json"); }
  std::string ReportFlag() { return tmp_->path() + "/report.json"; }
  std::string LogRows() { return Q("SELECT count(*) || '/' || coalesce(max(id), 0) FROM schemagate_log"); }
};

TEST_F(RollbackTest, OlderReleaseFindsTheDatabaseAheadAndDoesNothing) {
  CopyBundledMigrations();
  WriteMigration("0006_add_nickname.sql", kNewer0006);
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);
  ASSERT_EQ(Q("SELECT version_num FROM alembic_version"), "0006");
  RemoveMigration("0006_add_nickname.sql");
  const std::string rows = LogRows();

  RunResult up = Sg({"upgrade", "head", "--report", ReportFlag()});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_CONTAINS(up.err,
                  "Database ahead at 0006, applied by a newer release; this release's head 0005 is applied: "
                  "nothing to upgrade");
  EXPECT_NOT_CONTAINS(up.err, "Already at");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0006");
  EXPECT_EQ(LogRows(), rows) << "an upgrade of a database that is ahead writes nothing";
  const std::string report = Report();
  EXPECT_CONTAINS(report, "\"status\":\"succeeded\"");
  EXPECT_CONTAINS(report, "\"from_heads\":[\"0006\"],\"to_heads\":[\"0006\"]");
  EXPECT_CONTAINS(report, "\"target_heads\":[\"0005\"]");
  EXPECT_CONTAINS(report, "\"pending\":0");
  EXPECT_CONTAINS(report, "\"ahead\":true,\"release_heads\":[\"0005\"]");
  EXPECT_CONTAINS(report, "\"applied\":[]");

  // An explicit target that is applied is just as done.
  RunResult older = Sg({"upgrade", "0003"});
  EXPECT_EQ(older.exit_code, 0) << older.err;
  EXPECT_CONTAINS(older.err, "Database ahead at 0006, applied by a newer release; target 0003 is applied");
  RunResult json = Sg({"upgrade", "--output", "json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_CONTAINS(json.out, "\"target_heads\":[\"0005\"],\"pending\":0,\"ahead\":true,\"release_heads\":[\"0005\"]");

  // The gate opens.
  RunResult gate = Sg({"wait", "--timeout", "2s"});
  EXPECT_EQ(gate.exit_code, 0) << gate.err;
  EXPECT_CONTAINS(gate.err, "Database ahead at 0006, applied by a newer release; this release's head 0005 is applied");

  // Going down or stamping still needs the files of what is applied.
  RunResult down = Sg({"downgrade", "0003"});
  EXPECT_EQ(down.exit_code, 4) << down.err;
  EXPECT_CONTAINS(down.err, std::string("the database is at revision 0006, ") + kRefusal);
  RunResult stamp = Sg({"stamp", "0005"});
  EXPECT_EQ(stamp.exit_code, 4) << stamp.err;
  EXPECT_CONTAINS(stamp.err, kRefusal);
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0006");
  EXPECT_EQ(LogRows(), rows);
}

// What an operator runs by hand after a rollback: the read-only commands say
// the same as `upgrade`, never "were files removed? ... stamp --purge" (which
// would lose track of the newer release's schema).
TEST_F(RollbackTest, ReadOnlyCommandsSayTheDatabaseIsAheadToo) {
  CopyBundledMigrations();
  WriteMigration("0006_add_nickname.sql", kNewer0006);
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);
  RemoveMigration("0006_add_nickname.sql");
  const std::string rows = LogRows();
  const std::string ahead = "Database ahead at 0006, applied by a newer release; this release's head 0005 is applied";

  RunResult current = Sg({"current"});
  EXPECT_EQ(current.exit_code, 0) << current.err;
  EXPECT_CONTAINS(current.out, "0006 (applied by a newer release: no migration file here defines it)");
  EXPECT_CONTAINS(current.err, ahead);
  EXPECT_NOT_CONTAINS(current.err, "stamp");
  RunResult current_json = Sg({"current", "--output", "json"});
  EXPECT_CONTAINS(current_json.out, "\"current\":[\"0006\"],\"heads\":[\"0005\"],\"at_head\":true,\"ahead\":true");

  RunResult pending = Sg({"pending"});
  EXPECT_EQ(pending.exit_code, 0) << pending.err;
  EXPECT_EQ(pending.out, "");
  EXPECT_CONTAINS(pending.err, "No pending migrations (" + ahead + ")");
  RunResult pending_json = Sg({"pending", "--output", "json"});
  EXPECT_EQ(pending_json.exit_code, 0) << pending_json.err;
  EXPECT_CONTAINS(pending_json.out, "{\"current\":[\"0006\"],\"ahead\":true,\"pending\":[]}");

  for (const char* head : {"", "--head"}) {
    std::vector<std::string> args{"check"};
    if (*head) args.push_back(head);
    RunResult check = Sg(args);
    EXPECT_EQ(check.exit_code, 0) << head << check.err;
    EXPECT_CONTAINS(check.out, "OK: " + ahead);
  }
  RunResult check_json = Sg({"check", "--head", "--output", "json"});
  EXPECT_EQ(check_json.exit_code, 0) << check_json.err;
  EXPECT_CONTAINS(check_json.out, "\"current\":[\"0006\"],\"pending\":0");
  EXPECT_CONTAINS(check_json.out, "\"at_head\":true,\"ahead\":true");

  RunResult verify = Sg({"verify"});  // Sg names the database with --url
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_CONTAINS(verify.err, "Checksums: no drift against");
  EXPECT_CONTAINS(verify.err, "(" + ahead + ")");

  // The release's own applied files are still held to their checksums.
  const std::string path = script_location_ + "/versions/0003_updated_at_triggers.sql";
  WriteFile(path, ReadFile(path) + "\n-- migrate:upgrade\nSELECT 1;\n");
  RunResult drift = Sg({"check", "--head"});
  EXPECT_EQ(drift.exit_code, 4) << drift.err;
  EXPECT_CONTAINS(drift.err, "checksum drift");
  EXPECT_EQ(LogRows(), rows) << "read-only commands wrote to the log";
}

TEST_F(RollbackTest, TwoReleasesAheadStillDescendsThroughTheLog) {
  CopyBundledMigrations();
  WriteMigration("0006_add_nickname.sql", kNewer0006);
  WriteMigration("0007_add_bio.sql",
                 "-- revision: 0007\n-- down_revision: 0006\n-- message: Add bio\n\n"
                 "-- migrate:upgrade\nALTER TABLE users ADD COLUMN bio text;\n");
  ASSERT_EQ(Sg({"upgrade", "0006"}).exit_code, 0);
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);  // two runs: two log rows with their own parents
  RemoveMigration("0007_add_bio.sql");
  RemoveMigration("0006_add_nickname.sql");
  RunResult up = Sg({"upgrade"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_CONTAINS(up.err, "Database ahead at 0007, applied by a newer release");
}

TEST_F(RollbackTest, ChecksumDriftOfTheReleasesOwnFilesIsStillRefused) {
  CopyBundledMigrations();
  WriteMigration("0006_add_nickname.sql", kNewer0006);
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);
  RemoveMigration("0006_add_nickname.sql");
  const std::string path = script_location_ + "/versions/0003_updated_at_triggers.sql";
  WriteFile(path, ReadFile(path) + "\n-- migrate:upgrade\nSELECT 1;\n");
  RunResult up = Sg({"upgrade"});
  EXPECT_EQ(up.exit_code, 4) << up.err;
  EXPECT_CONTAINS(up.err, "checksum drift");
  EXPECT_CONTAINS(up.err, "0003");
}

TEST_F(RollbackTest, DivergentBranchIsRefusedAndTheGateSaysWhy) {
  CopyBundledMigrations();
  ASSERT_EQ(Sg({"upgrade", "0004"}).exit_code, 0);
  // Another tree branched off 0004 instead of going through this release's 0005.
  WriteMigration("0006x_other_branch.sql",
                 "-- revision: 0006x\n-- down_revision: 0004\n-- message: Elsewhere\n\n"
                 "-- migrate:upgrade\nCREATE TABLE elsewhere (id int);\n");
  ASSERT_EQ(Sg({"upgrade", "0006x"}).exit_code, 0);
  RemoveMigration("0006x_other_branch.sql");
  const std::string rows = LogRows();

  const std::string why =
      "the database is at revision 0006x, which no migration file here defines, and schemagate_log shows 0006x "
      "descending from 0004, not from 0005 (a divergent branch)";
  RunResult up = Sg({"upgrade", "head", "--report", ReportFlag()});
  EXPECT_EQ(up.exit_code, 4) << up.err;
  EXPECT_CONTAINS(up.err, why);
  EXPECT_CONTAINS(up.err, "is this the right migrations directory");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0006x");
  EXPECT_EQ(LogRows(), rows);
  EXPECT_CONTAINS(Report(), "\"target_heads\":[\"0005\"]");
  EXPECT_NOT_CONTAINS(Report(), "\"ahead\"");
  EXPECT_NOT_CONTAINS(Report(), "\"pending\"");

  RunResult gate = Sg({"wait", "--timeout", "2s", "--interval", "500ms"});
  EXPECT_EQ(gate.exit_code, 5) << gate.err;
  EXPECT_CONTAINS(gate.err,
                  "Waiting: at 0006x, which no migration file here defines, and schemagate_log shows 0006x "
                  "descending from 0004, not from 0005 (a divergent branch); waiting for 0005");
  EXPECT_CONTAINS(gate.err, "timed out after 2s waiting for heads: at 0006x, which no migration file here defines");

  // The read-only commands refuse it with the same reason.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"pending"}, {"check"}, {"check", "--head"}}) {
    RunResult r = Sg(args);
    EXPECT_EQ(r.exit_code, 4) << args[0] << r.err;
    EXPECT_CONTAINS(r.err, why);
  }
  RunResult current = Sg({"current"});
  EXPECT_EQ(current.exit_code, 0) << current.err;
  EXPECT_CONTAINS(current.out, "0006x (unknown: no migration file defines it)");
  EXPECT_CONTAINS(current.err, why);

  // A target below the fork is applied on both branches: nothing to do.
  RunResult below = Sg({"upgrade", "0003"});
  EXPECT_EQ(below.exit_code, 0) << below.err;
  EXPECT_CONTAINS(below.err, "Database ahead at 0006x, applied by a newer release; target 0003 is applied");
  EXPECT_EQ(LogRows(), rows);
}

TEST_F(RollbackTest, UnknownHeadWithoutLogRowsIsRefused) {
  // Adopted from Alembic: a version table and no schemagate_log.
  Q("CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))");
  Q("INSERT INTO alembic_version VALUES ('3f2a9c1b7d4e')");
  RunResult up = Sg({"upgrade", "head"});
  EXPECT_EQ(up.exit_code, 4) << up.err;
  EXPECT_CONTAINS(up.err,
                  "the database is at revision 3f2a9c1b7d4e, which no migration file here defines, and "
                  "schemagate_log does not show 3f2a9c1b7d4e descending from any revision defined here");
  EXPECT_EQ(Q("SELECT to_regclass('schemagate_log') IS NULL"), "t") << "nothing adopted, nothing created";
  RunResult gate = Sg({"wait", "--timeout", "1s", "--interval", "500ms"});
  EXPECT_EQ(gate.exit_code, 5) << gate.err;
  EXPECT_CONTAINS(gate.err, "schemagate_log does not show 3f2a9c1b7d4e descending");

  // A log without rows for the unknown revision tells nothing either.
  Q("DROP TABLE alembic_version");
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);
  Q("UPDATE alembic_version SET version_num = 'feedbeef'");
  RunResult again = Sg({"upgrade", "head"});
  EXPECT_EQ(again.exit_code, 4) << again.err;
  EXPECT_CONTAINS(again.err, "schemagate_log does not show feedbeef descending from any revision defined here");
}

// An older release waiting for the lock while a newer one migrates finds the
// database ahead once the lock is free, instead of refusing the new head.
TEST_F(RollbackTest, ANewerReleaseMigratingWhileWeWaitLeavesNothingToDo) {
  CopyBundledMigrations();
  ASSERT_EQ(Sg({"upgrade", "0004"}).exit_code, 0);
  // The holder plays the newer release: under the lock it moves the
  // database to 0006 and logs both steps as schemagate would.
  Child holder({"psql", "-X", "-q", "-d", url_ + "?application_name=newer-release", "-c",
                "SELECT pg_advisory_lock(hashtextextended('schemagate:' || current_database() || "
                "':public.alembic_version', 0)); SELECT pg_sleep(4); "
                "UPDATE alembic_version SET version_num = '0006'; "
                "INSERT INTO schemagate_log (revision, operation, from_heads, to_heads, status) VALUES "
                "('0005', 'upgrade', '{0004}', '{0005}', 'succeeded'), "
                "('0006', 'upgrade', '{0005}', '{0006}', 'succeeded');"},
               {});
  for (int i = 0; i < 50; ++i) {
    if (Q("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
          "(SELECT oid FROM pg_database WHERE datname = current_database())") == "1") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  RunResult up = Sg({"upgrade", "head", "--report", ReportFlag()});
  RunResult held = holder.Wait();
  EXPECT_EQ(held.exit_code, 0) << held.err;
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_CONTAINS(up.err, "newer-release");  // it did wait
  EXPECT_CONTAINS(up.err, "Database ahead at 0006, applied by a newer release; this release's head 0005 is applied");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0006");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log WHERE revision = '0005'"), "1") << "0005 did not run again";
  EXPECT_CONTAINS(Report(), "\"pending\":0,\"ahead\":true");
}

TEST_F(RollbackTest, ReportCarriesTargetAndPendingSteps) {
  CopyBundledMigrations();
  RunResult first = Sg({"upgrade", "0004", "--report", ReportFlag()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_CONTAINS(Report(), "\"target_heads\":[\"0004\"],\"pending\":0");
  EXPECT_NOT_CONTAINS(Report(), "\"ahead\"");

  WriteMigration("0006_broken.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n-- message: Broken\n\n-- migrate:upgrade\n"
                 "ALTER TABLE no_such_table ADD COLUMN x int;\n");
  // One transaction: 0005 rolls back with 0006, both still pending.
  RunResult single = Sg({"upgrade", "--single-transaction", "--report", ReportFlag()});
  EXPECT_EQ(single.exit_code, 1) << single.err;
  EXPECT_CONTAINS(Report(), "\"target_heads\":[\"0006\"],\"pending\":2");
  // One transaction per migration: 0005 stays, 0006 is the one step left.
  RunResult failed = Sg({"upgrade", "--report", ReportFlag()});
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  const std::string report = Report();
  EXPECT_CONTAINS(report, "\"from_heads\":[\"0004\"],\"to_heads\":[\"0005\"]");
  EXPECT_CONTAINS(report, "\"target_heads\":[\"0006\"],\"pending\":1");
  EXPECT_CONTAINS(report, "\"applied\":[\"0005\"]");
  EXPECT_CONTAINS(report, "\"revision\":\"0006\"");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");

  // Downgrades count the steps to revert.
  RunResult down = Sg({"downgrade", "0002", "--report", ReportFlag()});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_CONTAINS(Report(), "\"target_heads\":[\"0002\"],\"pending\":0");

  // No plan, no pending: an unknown target fails before planning.
  RunResult unknown = Sg({"upgrade", "nosuchrev", "--report", ReportFlag()});
  EXPECT_EQ(unknown.exit_code, 4) << unknown.err;
  EXPECT_NOT_CONTAINS(Report(), "\"pending\"");
  EXPECT_NOT_CONTAINS(Report(), "\"target_heads\"");
}

}  // namespace
}  // namespace schemagate::testing
