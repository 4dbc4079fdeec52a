// The real binary against a real PostgreSQL: the bundled migrations up and
// down, failures, environments, drift, concurrency, offline SQL.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <regex>
#include <thread>

#include "integration/runner_fixture.h"
#include "support/expect.h"

namespace schemagate::testing {
namespace {

TEST_F(RunnerTest, UpgradeHeadBuildsTheSeedSchemaInTheCatalog) {
  RunResult r = Sg({"upgrade", "head"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.err, "Running upgrade  -> 0001");
  EXPECT_CONTAINS(r.err, "Running upgrade 0004 -> 0005");

  EXPECT_EQ(Q("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables "
              "WHERE table_schema = 'public'"),
            "alembic_version,audit_logs,identity_documents,ocr_jobs,schemagate_log,users");
  // Types, defaults and constraints as the seed defines them.
  EXPECT_EQ(Q("SELECT data_type || '/' || coalesce(character_maximum_length::text, '') || '/' || is_nullable "
              "FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'"),
            "character varying/255/NO");
  EXPECT_EQ(Q("SELECT column_default FROM information_schema.columns WHERE table_name = 'users' AND "
              "column_name = 'id'"),
            "uuid_generate_v4()");
  EXPECT_EQ(Q("SELECT confdeltype FROM pg_constraint WHERE conrelid = 'audit_logs'::regclass AND contype = 'f'"),
            "n");  // ON DELETE SET NULL
  EXPECT_EQ(Q("SELECT count(*) FROM pg_constraint WHERE conrelid = 'ocr_jobs'::regclass AND contype = 'f' "
              "AND confdeltype = 'c'"),
            "2");  // both ON DELETE CASCADE
  EXPECT_EQ(Q("SELECT data_type FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'phone'"),
            "character varying");
  EXPECT_EQ(Q("SELECT count(*) FROM pg_indexes WHERE indexname IN ('ix_users_phone', 'idx_users_email')"), "2");
  EXPECT_EQ(Q("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"), "4");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log WHERE operation = 'upgrade' AND status = 'succeeded' "
              "AND checksum IS NOT NULL"),
            "5");

  // The trigger works: an UPDATE moves updated_at.
  Q("INSERT INTO users (email, password_hash) VALUES ('a@company.com', 'x')");
  Q("UPDATE users SET updated_at = '2000-01-01' WHERE email = 'a@company.com'");
  EXPECT_EQ(Q("SELECT updated_at > '2001-01-01' FROM users"), "t");
}

TEST_F(RunnerTest, NoOpUpgradeWritesNothing) {
  ASSERT_EQ(Sg({"upgrade"}).exit_code, 0);
  std::string log_rows = Q("SELECT count(*) FROM schemagate_log");
  RunResult again = Sg({"upgrade", "head"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_CONTAINS(again.err, "Already at 0005");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log"), log_rows);
}

TEST_F(RunnerTest, EveryDowngradeRestoresTheCatalogExactly) {
  // From an empty database: 0001's downgrade drops the uuid-ossp extension
  // its upgrade created, so base is empty again.
  std::vector<std::string> revs = {"0001", "0002", "0003", "0004", "0005"};
  std::vector<std::string> snapshots{CatalogSnapshot()};
  for (const std::string& rev : revs) {
    ASSERT_EQ(Sg({"upgrade", rev}).exit_code, 0) << rev;
    snapshots.push_back(CatalogSnapshot());
    if (rev != "0004") {  // 0004 changes data, not the schema
      EXPECT_NE(snapshots.back(), snapshots[snapshots.size() - 2]) << rev << " changed nothing";
    }
  }
  for (int i = static_cast<int>(revs.size()) - 1; i >= 0; --i) {
    std::string target = i == 0 ? "base" : revs[i - 1];
    RunResult r = Sg({"downgrade", target});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(CatalogSnapshot(), snapshots[i]) << "downgrade of " << revs[i] << " left a trace";
  }
  EXPECT_EQ(Q("SELECT count(*) FROM alembic_version"), "0");
  // And up again from base.
  ASSERT_EQ(Sg({"upgrade"}).exit_code, 0);
  EXPECT_EQ(CatalogSnapshot(), snapshots.back());
}

TEST_F(RunnerTest, RelativeTargetsMoveByStep) {
  ASSERT_EQ(Sg({"upgrade", "+2"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0002");
  ASSERT_EQ(Sg({"upgrade", "0002+2"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0004");
  ASSERT_EQ(Sg({"downgrade", "-1"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0003");
}

TEST_F(RunnerTest, StampMovesTheVersionWithoutRunningAnything) {
  RunResult r = Sg({"stamp", "0002"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0002");
  EXPECT_EQ(Q("SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), "0");
  ASSERT_EQ(Sg({"stamp", "base"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT count(*) FROM alembic_version"), "0");
  Q("INSERT INTO alembic_version VALUES ('feedbeef')");
  EXPECT_EQ(Sg({"stamp", "0001"}).exit_code, 4);  // unknown revision in the table
  ASSERT_EQ(Sg({"stamp", "0001", "--purge"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0001");
}

TEST_F(RunnerTest, FailingStatementKeepsEarlierMigrationsAndNothingOfItself) {
  CopyBundledMigrations();
  WriteMigration("0006_broken.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n-- message: Broken\n\n"
                 "-- migrate:upgrade\n"
                 "CREATE TABLE half_done (id int);\n"
                 "INSERT INTO half_done VALUES (1);\n"
                 "ALTER TABLE no_such_table ADD COLUMN x int;\n"
                 "-- migrate:downgrade\nDROP TABLE half_done;\n");
  RunResult r = Sg({"upgrade", "head", "--report", tmp_->path() + "/report.json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "0006_broken.sql:8:");
  EXPECT_CONTAINS(r.err, "SQLSTATE 42P01");
  EXPECT_CONTAINS(r.err, "no_such_table");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");
  EXPECT_EQ(Q("SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'"), "0");
  EXPECT_EQ(Q("SELECT status || ' ' || sqlstate FROM schemagate_log WHERE revision = '0006'"), "failed 42P01");

  std::string report = ReadFile(tmp_->path() + "/report.json");
  EXPECT_LE(report.size(), 4096u);
  EXPECT_CONTAINS(report, "\"sqlState\":\"42P01\"");
  EXPECT_CONTAINS(report, "\"revision\":\"0006\"");
  EXPECT_CONTAINS(report, "\"status\":\"failed\"");
}

// The failing statement and the error are kept in schemagate_log, cut to
// their limits between characters: a cut inside a multi-byte character is
// invalid UTF-8, which PostgreSQL refuses, and the log row would be lost.
TEST_F(RunnerTest, LongMultiByteFailingStatementIsLoggedCutBetweenCharacters) {
  CopyBundledMigrations();
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "é€😀";  // 9 bytes a round: some cut at byte 500 splits one
  WriteMigration("0006_long.sql", "-- revision: 0006\n-- down_revision: 0005\n-- migrate:upgrade\n"
                                  "SELECT x FROM no_such_table WHERE note = '" + long_text + "';\n");
  RunResult r = Sg({"upgrade", "head"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "no_such_table");
  EXPECT_EQ(Q("SELECT status || ' ' || sqlstate FROM schemagate_log WHERE revision = '0006'"), "failed 42P01");
  const std::string logged = Q("SELECT error_statement FROM schemagate_log WHERE revision = '0006'");
  EXPECT_EQ(logged.rfind("SELECT x FROM no_such_table WHERE note = 'é€😀", 0), 0u) << logged;
  ASSERT_GE(logged.size(), 3u);
  EXPECT_EQ(logged.substr(logged.size() - 3), "...");
  EXPECT_EQ(Q("SELECT length(error_statement) FROM schemagate_log WHERE revision = '0006'"), "500");
}

TEST_F(RunnerTest, SingleTransactionRollsBackTheWholeRun) {
  CopyBundledMigrations();
  WriteMigration("0006_broken.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n-- message: Broken\n\n-- migrate:upgrade\n"
                 "SELECT * FROM missing_table;\n");
  RunResult r = Sg({"upgrade", "--single-transaction"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "whole run was rolled back");
  EXPECT_EQ(Q("SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), "0");
  EXPECT_EQ(Q("SELECT count(*) FROM alembic_version"), "0");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log WHERE status = 'succeeded'"), "0");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log WHERE status = 'failed' AND revision = '0006'"), "1");

  // Production's transaction:false sections (0002's is the first) cannot join one transaction.
  RunResult prod = Sg({"upgrade", "0005", "--single-transaction", "--env", "production"});
  EXPECT_EQ(prod.exit_code, 4) << prod.err;
  EXPECT_CONTAINS(prod.err, "0002_add_user_phone.sql:14:");

  RunResult ok = Sg({"upgrade", "0005", "--single-transaction", "--output", "json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_CONTAINS(ok.out, "\"to_heads\":[\"0005\"]");
  EXPECT_CONTAINS(ok.out, "{\"revision\":\"0001\",\"direction\":\"upgrade\"");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log WHERE status = 'succeeded'"), "5");
}

TEST_F(RunnerTest, EnvironmentSectionsAndTransactionFalse) {
  CopyBundledMigrations();
  WriteMigration("0006_envs.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n-- message: Env sections\n\n"
                 "-- migrate:upgrade env:production\nCREATE TABLE only_in_production (id int);\n"
                 "-- migrate:upgrade env:!production\nCREATE TABLE only_elsewhere (id int);\n"
                 "-- migrate:upgrade transaction:false\n"
                 "CREATE INDEX CONCURRENTLY ix_users_created ON users (created_at);\n"
                 "-- migrate:downgrade\nDROP TABLE IF EXISTS only_in_production;\n"
                 "DROP TABLE IF EXISTS only_elsewhere;\nDROP INDEX ix_users_created;\n");
  RunResult prod = Sg({"upgrade", "--env", "production"});
  ASSERT_EQ(prod.exit_code, 0) << prod.err;
  EXPECT_EQ(Q("SELECT string_agg(tablename, ',') FROM pg_tables WHERE tablename LIKE 'only_%'"),
            "only_in_production");
  EXPECT_EQ(Q("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_created'::regclass"), "t");
  EXPECT_EQ(Q("SELECT status || ' ' || statements_applied || '/' || statements_total FROM schemagate_log "
              "WHERE revision = '0006'"),
            "succeeded 2/2");

  ASSERT_EQ(Sg({"downgrade", "0005"}).exit_code, 0);
  RunResult dev = Sg({"upgrade"}, {{"ENVIRONMENT", "staging"}});
  ASSERT_EQ(dev.exit_code, 0) << dev.err;
  EXPECT_EQ(Q("SELECT string_agg(tablename, ',') FROM pg_tables WHERE tablename LIKE 'only_%'"),
            "only_elsewhere");
}

TEST_F(RunnerTest, ConcurrentIndexInTransactionalSectionIsRejectedBeforeRunning) {
  CopyBundledMigrations();
  WriteMigration("0006_bad_index.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n-- message: Bad\n\n-- migrate:upgrade\n"
                 "CREATE TABLE t1 (id int);\nCREATE INDEX CONCURRENTLY ix_t1 ON t1 (id);\n");
  RunResult r = Sg({"upgrade"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_CONTAINS(r.err, "0006_bad_index.sql:7:");
  EXPECT_CONTAINS(r.err, "transaction:false");
  EXPECT_EQ(Q("SELECT count(*) FROM pg_tables WHERE tablename IN ('users', 'alembic_version')"), "0");
}

TEST_F(RunnerTest, ChecksumDriftIsRefusedBeforeAnythingRuns) {
  CopyBundledMigrations();
  ASSERT_EQ(Sg({"upgrade", "0004"}).exit_code, 0);
  std::string path = script_location_ + "/versions/0003_updated_at_triggers.sql";
  std::string text = ReadFile(path);
  ASSERT_FALSE(text.empty());
  WriteFile(path, text + "\n-- migrate:upgrade\nSELECT 1;\n");
  std::string log_rows = Q("SELECT count(*) FROM schemagate_log");
  RunResult r = Sg({"upgrade"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_CONTAINS(r.err, "checksum drift");
  EXPECT_CONTAINS(r.err, "0003");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0004");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log"), log_rows);
  // A changed message (header) is not an edit of the migration.
  WriteFile(path, text);
  std::string renamed = std::regex_replace(text, std::regex("-- message: [^\n]*"), "-- message: Renamed");
  WriteFile(path, renamed);
  EXPECT_EQ(Sg({"upgrade"}).exit_code, 0);
}

TEST_F(RunnerTest, SixteenConcurrentRunnersApplyEachMigrationOnce) {
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < 16; ++i) {
    RunOptions opts;
    opts.cwd = SourceDir();
    opts.env = {{"DATABASE_URL", url_}, {"POD_NAME", "pod-" + std::to_string(i)}, {"ENVIRONMENT", kUnset}};
    children.push_back(std::make_unique<Child>(
        std::vector<std::string>{SchemagateBinary(), "upgrade", "head", "--log-format", "text"}, opts));
  }
  for (auto& c : children) {
    RunResult r = c->Wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log WHERE operation = 'upgrade'"), "5");
  EXPECT_EQ(Q("SELECT count(DISTINCT revision) FROM schemagate_log WHERE operation = 'upgrade' AND status = 'succeeded'"),
            "5");
}

// A waiter blocked in pg_advisory_lock would hold a snapshot that the
// holder's CREATE INDEX CONCURRENTLY waits out, while the holder keeps the
// lock until the index is built: a deadlock. Polled waits never block.
TEST_F(RunnerTest, WaitersDoNotStallTheHoldersConcurrentIndexBuild) {
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < 12; ++i) {
    RunOptions opts;
    opts.cwd = SourceDir();
    opts.env = {{"DATABASE_URL", url_}, {"POD_NAME", "pod-" + std::to_string(i)}, {"ENVIRONMENT", "production"}};
    children.push_back(std::make_unique<Child>(
        std::vector<std::string>{SchemagateBinary(), "upgrade", "head", "--log-format", "text",
                                 "--lock-timeout", "60s"},
        opts));
  }
  for (auto& c : children) {
    RunResult r = c->Wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");
  EXPECT_EQ(Q("SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_users_email'::regclass"), "t");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log WHERE operation = 'upgrade' AND status = 'succeeded'"), "5");
}

// A releasing holder NOTIFYs: waiters re-read the state at once and, when
// the work is done, leave without ever taking the lock. Here the "holder" is
// a psql session that keeps the lock for the whole test, so only the
// notification can end the runner's wait before its lock timeout.
TEST_F(RunnerTest, WaitersWokenByTheHoldersNotifyFinishWithoutTheLock) {
  ASSERT_EQ(Sg({"upgrade", "0004"}).exit_code, 0);
  const std::string key_sql =
      "hashtextextended('schemagate:' || current_database() || ':public.alembic_version', 0)";
  RunOptions hold;
  Child holder({"psql", "-X", "-q", "-d", url_ + "?application_name=other-migrator", "-c",
                "SELECT pg_advisory_lock(" + key_sql + "); SELECT pg_sleep(60);"},
               hold);
  for (int i = 0; i < 100 && Q("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())") != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  RunOptions opts;
  opts.cwd = SourceDir();
  opts.env = {{"DATABASE_URL", url_}, {"ENVIRONMENT", kUnset}};
  Child waiter({SchemagateBinary(), "upgrade", "head", "--lock-timeout", "30s", "--log-format", "text"}, opts);
  // Waiting: its session has LISTENed and polls the lock.
  bool waiting = false;
  for (int i = 0; i < 200 && !waiting; ++i) {
    waiting = Q("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'schemagate@%' "
                "AND query LIKE '%pg_try_advisory_lock%'") == "1";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(waiting) << "the runner never started waiting for the lock";
  // The "holder" finishes the work and says so, but keeps the lock.
  Q("UPDATE alembic_version SET version_num = '0005'");
  char channel[64];
  std::snprintf(channel, sizeof channel, "schemagate_lock_%016llx",
                static_cast<unsigned long long>(std::stoll(Q("SELECT " + key_sql))));
  Q(std::string("NOTIFY ") + channel);
  RunResult w = waiter.Wait();
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_CONTAINS(w.err, "Already at 0005");
  EXPECT_EQ(Q("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())"), "1")
      << "the lock stayed with the holder";
  // End the holder's backend too: killing psql leaves it in pg_sleep.
  Q("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'other-migrator' "
    "AND datname = current_database()");
  holder.Kill(SIGTERM);
  holder.Wait();
}

// The Kubernetes commands live in schemagate-operator; without it beside the
// binary they say so, while their help still works.
TEST_F(RunnerTest, KubernetesCommandsNeedTheOperatorBinaryBesideIt) {
  TempDir dir;
  const std::string lone = dir.path() + "/schemagate";
  std::filesystem::copy_file(SchemagateBinary(), lone);
  std::filesystem::permissions(lone, std::filesystem::perms::owner_all);
  RunOptions opts;
  RunResult help = Child({lone, "operator", "--help"}, opts).Wait();
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_CONTAINS(help.out, "--max-concurrent-runs");
  const std::string report = dir.path() + "/report.json";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{lone, "operator", "--kubeconfig", "/nonexistent"},
        std::vector<std::string>{lone, "wait", "--migration", "app", "--timeout", "1s", "--report", report}}) {
    RunResult r = Child(args, opts).Wait();
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_CONTAINS(r.err, dir.path() + "/schemagate-operator");
    EXPECT_CONTAINS(r.err, "No such file or directory");
  }
  // An init container's report says why, like any other failure.
  EXPECT_CONTAINS(ReadFile(report), "schemagate-operator");
  // Beside the real one, `schemagate operator` is schemagate-operator.
  RunResult real = Child({SchemagateBinary(), "operator", "--kubeconfig", "/nonexistent"}, opts).Wait();
  EXPECT_EQ(real.exit_code, 2) << real.err;
  EXPECT_CONTAINS(real.err, "kubeconfig");
  // Its own flags are checked before any cluster is looked for.
  RunResult typo = Child({SchemagateBinary(), "operator", "--kubeconfig", "/nonexistent", "--run-started-event-after",
                          "10x"}, opts).Wait();
  EXPECT_EQ(typo.exit_code, 2) << typo.err;
  EXPECT_CONTAINS(typo.err, "--run-started-event-after: invalid duration '10x'");
  RunResult zero = Child({SchemagateBinary(), "operator", "--kubeconfig", "/nonexistent", "--max-concurrent-runs", "0"},
                         opts).Wait();
  EXPECT_EQ(zero.exit_code, 2) << zero.err;
  EXPECT_CONTAINS(zero.err, "--max-concurrent-runs must be at least 1");
}

TEST_F(RunnerTest, OfflineSqlRunsCleanInPsqlAndReachesTheSameSchema) {
  RunResult sql = Sg({"upgrade", "head", "--sql"});
  ASSERT_EQ(sql.exit_code, 0) << sql.err;
  EXPECT_CONTAINS(sql.out, "INSERT INTO public.alembic_version (version_num) VALUES ('0001');");
  EXPECT_CONTAINS(sql.out, "UPDATE public.alembic_version SET version_num='0005' WHERE version_num = '0004';");
  TempDir dir;
  WriteFile(dir.path() + "/up.sql", sql.out);
  RunResult psql = PgServer::Shared().Psql(url_, {"-v", "ON_ERROR_STOP=1", "-f", dir.path() + "/up.sql"});
  ASSERT_EQ(psql.exit_code, 0) << psql.err;
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");

  std::string online = PgServer::Shared().CreateDatabase("online");
  RunResult up = SgRaw({"upgrade", "--url", online});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(CatalogSnapshot(), CatalogSnapshot(online));

  // Downgrade SQL back to 0002 also runs clean.
  RunResult down = Sg({"downgrade", "0005:0002", "--sql"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  WriteFile(dir.path() + "/down.sql", down.out);
  RunResult psql_down = PgServer::Shared().Psql(url_, {"-v", "ON_ERROR_STOP=1", "-f", dir.path() + "/down.sql"});
  ASSERT_EQ(psql_down.exit_code, 0) << psql_down.err;
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0002");
}

TEST_F(RunnerTest, LockWaitTimesOutWithExit3AndNamesTheHolder) {
  // Hold the migration lock from another session for a while.
  RunOptions opts;
  Child holder({"psql", "-X", "-q", "-d", url_ + "?application_name=other-migrator", "-c",
                "SELECT pg_advisory_lock(hashtextextended('schemagate:' || current_database() || "
                "':public.alembic_version', 0)); SELECT pg_sleep(8);"},
               opts);
  // Give psql a moment to take it.
  for (int i = 0; i < 50; ++i) {
    if (Q("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())") == "1") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  RunResult r = Sg({"upgrade", "--lock-timeout", "1s"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_CONTAINS(r.err, "other-migrator");
  EXPECT_EQ(Q("SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), "0");
  holder.Kill(SIGTERM);
  holder.Wait();
}

TEST_F(RunnerTest, UnreachableDatabaseRetriesThenExits1NamingTheTarget) {
  RunResult r = SgRaw({"check", "--url", "postgresql://postgres:topsecret@127.0.0.1:1/nowhere",
                       "--connect-timeout", "1s", "--log-format", "text"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "127.0.0.1:1/nowhere");
  EXPECT_FALSE(Contains(r.err + r.out, "topsecret"));
}

// Files load while the runner connects; a broken file is still the error
// reported, not the unreachable database, and the connection gives up.
TEST_F(RunnerTest, BrokenFileIsReportedBeforeAnUnreachableDatabase) {
  CopyBundledMigrations();
  WriteMigration("0006_broken.sql", "-- revision: 0006\n-- down_revision: 0005\nSELECT 1;\n");
  for (const char* command : {"upgrade", "current"}) {
    RunResult r = SgRaw({command, "--url", "postgresql://postgres@127.0.0.1:1/nowhere", "--connect-timeout", "30s",
                         "--log-format", "text"});
    EXPECT_EQ(r.exit_code, 4) << command << ": " << r.err;
    EXPECT_CONTAINS(r.err, "0006_broken.sql:3");
    EXPECT_FALSE(Contains(r.err, "cannot connect")) << r.err;
  }
}

TEST_F(RunnerTest, WrongPasswordFailsFastWithoutEchoingIt) {
  std::string url = PgServer::Shared().Url(url_.substr(url_.rfind('/') + 1), "sg_password", "not-the-password");
  auto start = std::chrono::steady_clock::now();
  RunResult r = SgRaw({"check", "--url", url, "--connect-timeout", "20s", "--log-format", "text"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "password authentication failed");
  EXPECT_FALSE(Contains(r.err + r.out, "not-the-password"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15)) << "auth failures are not retried";
}

TEST_F(RunnerTest, BadInputGetsTheDocumentedExitCodes) {
  CopyBundledMigrations();
  EXPECT_EQ(Sg({"upgrade", "nosuchrev"}).exit_code, 4);
  EXPECT_EQ(Sg({"upgrade", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(Sg({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(SgRaw({"upgrade", "-c", "/nonexistent/schemagate.yaml"}).exit_code, 2);
  // A missing argument is named as the usage line names it, not as an option.
  for (const auto& [command, placeholder] :
       std::vector<std::pair<std::string, std::string>>{{"downgrade", "TARGET"}, {"stamp", "REV..."}, {"show", "REV"}}) {
    RunResult missing = Sg({command});
    EXPECT_EQ(missing.exit_code, 2) << missing.err;
    EXPECT_CONTAINS(missing.err, "error: schemagate " + command + ": " + placeholder + " is missing\nusage: ");
    EXPECT_NOT_CONTAINS(missing.err, "option");
  }

  WriteMigration("0006_typo.sql", "-- revison: 0006\n-- migrate:upgrade\nSELECT 1;\n");
  RunResult typo = Sg({"upgrade"});
  EXPECT_EQ(typo.exit_code, 4);
  EXPECT_CONTAINS(typo.err, "0006_typo.sql:1: unknown header key 'revison'");
  std::filesystem::remove(script_location_ + "/versions/0006_typo.sql");

  WriteMigration("0006_orphan.sql", "-- revision: 0006\n-- down_revision: 0099\n-- migrate:upgrade\nSELECT 1;\n");
  RunResult orphan = Sg({"upgrade"});
  EXPECT_EQ(orphan.exit_code, 4);
  EXPECT_CONTAINS(orphan.err, "0099");
  std::filesystem::remove(script_location_ + "/versions/0006_orphan.sql");

  // Two heads: `head` is ambiguous and names both.
  WriteMigration("0006_a.sql", "-- revision: 0006\n-- down_revision: 0005\n-- migrate:upgrade\nSELECT 1;\n");
  WriteMigration("0007_b.sql", "-- revision: 0007\n-- down_revision: 0005\n-- migrate:upgrade\nSELECT 1;\n");
  RunResult heads = Sg({"upgrade", "head"});
  EXPECT_EQ(heads.exit_code, 4);
  EXPECT_CONTAINS(heads.err, "0006");
  EXPECT_CONTAINS(heads.err, "0007");
  EXPECT_FALSE(Contains(heads.err, "terminate")) << "no crash";
  EXPECT_EQ(Sg({"upgrade", "heads"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version"), "0006,0007");
}

TEST_F(RunnerTest, CheckHeadExits5UntilAtHead) {
  ASSERT_EQ(Sg({"upgrade", "0003"}).exit_code, 0);
  RunResult behind = Sg({"check", "--head"});
  EXPECT_EQ(behind.exit_code, 5) << behind.err;
  EXPECT_CONTAINS(behind.err, "pending: 0004, 0005");
  ASSERT_EQ(Sg({"upgrade"}).exit_code, 0);
  EXPECT_EQ(Sg({"check", "--head"}).exit_code, 0);
}

// `check` says how the session travels; this test server offers no TLS.
TEST_F(RunnerTest, CheckSaysTheConnectionIsNotEncrypted) {
  RunResult r = Sg({"check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.err, "Connection: no TLS (sslmode=prefer, and the server offers none); in production use "
                         "sslmode=verify-full");
  RunResult json = Sg({"check", "-o", "json"});
  EXPECT_CONTAINS(json.out, "\"connection_verified\":false");
  // Not in the URL: libpq's own default sources, here PGSSLMODE, or the
  // entry PGSERVICE names in the service file.
  RunResult env = Sg({"check"}, {{"PGSSLMODE", "allow"}});
  EXPECT_CONTAINS(env.err, "Connection: no TLS (sslmode=allow connects without TLS when the server lets it)");
  TempDir tmp;
  WriteFile(tmp.path() + "/pg_service.conf", "[sg_plain]\nsslmode=disable\n");
  RunResult service = Sg({"check"}, {{"PGSERVICEFILE", tmp.path() + "/pg_service.conf"}, {"PGSERVICE", "sg_plain"}});
  EXPECT_CONTAINS(service.err, "Connection: no TLS (sslmode=disable)");
}

TEST_F(RunnerTest, WaitGatesUntilTheMigrationsFinish) {
  RunResult early = Sg({"wait", "--timeout", "1s", "--interval", "200ms"});
  EXPECT_EQ(early.exit_code, 5) << early.err;

  RunOptions opts;
  opts.cwd = SourceDir();
  opts.env = {{"DATABASE_URL", url_}, {"ENVIRONMENT", kUnset}};
  Child waiter({SchemagateBinary(), "wait", "--timeout", "60s", "--interval", "100ms", "--log-format", "text"}, opts);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(Sg({"upgrade"}).exit_code, 0);
  RunResult w = waiter.Wait();
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_CONTAINS(w.err, "0005");
}

TEST_F(RunnerTest, CurrentHistoryPendingAndShowReport) {
  ASSERT_EQ(Sg({"upgrade", "0003"}).exit_code, 0);
  RunResult current = Sg({"current"});
  EXPECT_EQ(current.exit_code, 0);
  EXPECT_EQ(current.out, "0003\n");
  RunResult pending = Sg({"pending"});
  EXPECT_CONTAINS(pending.out, "0003 -> 0004, ");
  EXPECT_CONTAINS(pending.out, "0004 -> 0005, ");
  RunResult history = Sg({"history", "-i"});
  EXPECT_CONTAINS(history.out, "0004 -> 0005 (head), ");
  EXPECT_CONTAINS(history.out, "0002 -> 0003 (current), ");
  EXPECT_CONTAINS(history.out, "<base> -> 0001, ");
  RunResult json = Sg({"current", "--output", "json"});
  EXPECT_CONTAINS(json.out, "\"current\":[\"0003\"]");
  EXPECT_CONTAINS(json.out, "\"at_head\":false");
  RunResult show = Sg({"show", "0001"});
  EXPECT_CONTAINS(show.out, "Rev: 0001");
  EXPECT_CONTAINS(show.out, "Parent: <base>");
  RunResult range = Sg({"history", "-r", "0002:0004"});
  EXPECT_EQ(std::count(range.out.begin(), range.out.end(), '\n'), 3) << range.out;
  // Reversed, it is refused as Alembic refuses it (the differential suite compares), not an empty list.
  RunResult reversed = Sg({"history", "-r", "0004:0002"});
  EXPECT_EQ(reversed.exit_code, 4) << reversed.err;
  EXPECT_EQ(reversed.out, "");
  EXPECT_CONTAINS(reversed.err,
                  "Requested range 0004:0002 does not refer to ancestor/descendant revisions along the same branch: "
                  "0004 is not an ancestor of 0002");
}

TEST_F(RunnerTest, InitCreateAndMergeWriteParsableRevisions) {
  tmp_ = std::make_unique<TempDir>();
  cwd_ = tmp_->path();
  ASSERT_EQ(Sg({"init"}).exit_code, 0);
  EXPECT_EQ(ReadFile(cwd_ + "/migrations/script.sql.tmpl"),
            ReadFile(SourceDir() + "/migrations/script.sql.tmpl"));
  RunResult a = Sg({"create", "Initial schema"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_CONTAINS(a.out, "migrations/versions/0001_initial_schema.sql");
  ASSERT_EQ(Sg({"create", "Add phone"}).exit_code, 0);
  ASSERT_EQ(Sg({"create", "Other branch", "--head", "0001", "--branch-label", "other"}).exit_code, 0);
  RunResult heads = Sg({"heads"});
  EXPECT_CONTAINS(heads.out, "0002 (head)");
  EXPECT_CONTAINS(heads.out, "0003 (other) (head)");  // Alembic's heads: labels, no message
  EXPECT_EQ(Sg({"create", "Ambiguous"}).exit_code, 4);
  RunResult merge = Sg({"merge", "-m", "Join"});
  ASSERT_EQ(merge.exit_code, 0) << merge.err;
  RunResult after = Sg({"heads"});
  EXPECT_EQ(after.out, "0004 (other) (head)\n");  // the label reaches the merge, as in Alembic
  RunResult up = Sg({"upgrade"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0004");
  RunResult branches = Sg({"branches"});
  EXPECT_CONTAINS(branches.out, "0001 (branchpoint)");
}

// A revision graph of its own in place of the bundled migrations; each
// migration records itself in `steps`, so a test sees what ran and in which
// direction.
struct GraphRev {
  std::string id;
  std::string down;  // comma list
  std::string labels;
  std::string depends_on;
};

class TargetsTest : public RunnerTest {
 protected:
  void UseGraph(const std::vector<GraphRev>& revs) {
    const std::string dir = CopyBundledMigrations();
    for (const auto& e : std::filesystem::directory_iterator(dir + "/versions")) std::filesystem::remove(e.path());
    for (const GraphRev& r : revs) {
      WriteMigration(r.id + "_rev.sql", "-- revision: " + r.id + "\n-- down_revision: " + r.down +
                                            "\n-- branch_labels: " + r.labels + "\n-- depends_on: " + r.depends_on +
                                            "\n-- message: rev " + r.id +
                                            "\n\n-- migrate:upgrade\nINSERT INTO steps (s) VALUES ('UP " + r.id +
                                            "');\n\n-- migrate:downgrade\nINSERT INTO steps (s) VALUES ('DOWN " +
                                            r.id + "');\n");
    }
    Q("CREATE TABLE steps (id serial, s text)");
  }
};

// Every case below was run through Alembic 1.8.1 on the same graph, one
// command after the other: the same revisions ran and the version table
// ended the same (the order of revisions on independent branches aside).
TEST_F(TargetsTest, MeanWhatTheyMeanInAlembic) {
  //   0a00 <- 5b01 [shop] <- 5b02
  //        <- 6c01 [net]  <- 6c02
  //   7d01 [other] <- 7d02
  UseGraph({{"0a00"}, {"5b01", "0a00", "shop"}, {"5b02", "5b01"}, {"6c01", "0a00", "net"}, {"6c02", "6c01"},
                   {"7d01", "", "other"}, {"7d02", "7d01"}});
  struct Case {
    std::vector<std::string> args;
    std::string steps;  // sorted, comma separated
    std::string heads;
    int exit_code;
  };
  const std::vector<Case> cases = {
      {{"upgrade", "shop@+2"}, "UP 0a00,UP 5b01", "5b01", 0},
      {{"upgrade", "net@head"}, "UP 6c01,UP 6c02", "5b01,6c02", 0},
      {{"upgrade", "other@base+1"}, "UP 7d01", "5b01,6c02,7d01", 0},
      {{"upgrade", "sho@head"}, "UP 5b02", "5b02,6c02,7d01", 0},  // a prefix of a label
      {{"upgrade", "7d01@+1"}, "UP 7d02", "5b02,6c02,7d02", 0},   // a revision naming its branch
      {{"downgrade", "shop@-1"}, "DOWN 5b02", "5b01,6c02,7d02", 0},
      {{"downgrade", "net@0a00"}, "DOWN 6c01,DOWN 6c02", "5b01,7d02", 0},
      {{"downgrade", "other@base"}, "DOWN 7d01,DOWN 7d02", "5b01", 0},
      {{"upgrade", "0a00"}, "", "5b01", 0},  // already past it: nothing, exit 0
      {{"upgrade", "base"}, "", "5b01", 0},
      {{"upgrade", "-1"}, "", "5b01", 4},
      {{"downgrade", "-1"}, "DOWN 5b01", "0a00", 0},
      {{"upgrade", "5b01@5b02"}, "UP 5b01,UP 5b02", "5b02", 0},
      {{"stamp", "net@head"}, "", "5b02,6c02", 0},
      {{"stamp", "shop@base"}, "", "6c02", 0},
      {{"stamp", "shop@-1"}, "", "6c02", 4},  // stamp takes no steps, as Alembic
  };
  for (const Case& c : cases) {
    Q("TRUNCATE steps");
    RunResult r = Sg(c.args);
    const std::string name = c.args[0] + " " + c.args[1];
    EXPECT_EQ(r.exit_code, c.exit_code) << name << ": " << r.err;
    EXPECT_EQ(Q("SELECT coalesce(string_agg(s, ',' ORDER BY s), '') FROM steps"), c.steps) << name;
    EXPECT_EQ(Q("SELECT coalesce(string_agg(version_num, ',' ORDER BY version_num), '') FROM alembic_version"),
              c.heads)
        << name;
  }
}

// a (base), a2 (parent a), b (base, depends_on a): `downgrade a` at both
// heads reverts a2 only; b, which only depends on a, stays with it. Reverting
// a itself takes b first.
TEST_F(TargetsTest, DowngradeLeavesWhatOnlyDependsOnTheTarget) {
  UseGraph({{"a000"}, {"a200", "a000"}, {"b000", "", "", "a000"}});
  ASSERT_EQ(Sg({"upgrade", "heads"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version"), "a200,b000");
  Q("TRUNCATE steps");
  RunResult down = Sg({"downgrade", "a000"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(Q("SELECT string_agg(s, ',' ORDER BY id) FROM steps"), "DOWN a200");
  EXPECT_EQ(Q("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version"), "b000");
  Q("TRUNCATE steps");
  ASSERT_EQ(Sg({"downgrade", "base"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT string_agg(s, ',' ORDER BY id) FROM steps"), "DOWN b000,DOWN a000");
  EXPECT_EQ(Q("SELECT count(*) FROM alembic_version"), "0");
}

// Alembic's upgrade to a revision already applied, or to base, does
// nothing and succeeds; schemagate says so in one line. The operator's
// downgradePolicy picks SCHEMAGATE_FORBID_DOWNGRADE=true (refuse) or --allow-downgrade.
TEST_F(RunnerTest, UpgradeToAnAppliedRevisionOrBaseDoesNothing) {
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);
  RunResult past = Sg({"upgrade", "0003", "--report", "/dev/stdout"});
  EXPECT_EQ(past.exit_code, 0) << past.err;
  EXPECT_CONTAINS(past.err, "Database at 0005 is already past target 0003: nothing to upgrade");
  EXPECT_CONTAINS(past.out, R"("pending":0)");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");
  RunResult base = Sg({"upgrade", "base"});
  EXPECT_EQ(base.exit_code, 0) << base.err;
  EXPECT_CONTAINS(base.err, "already past target base");
  RunResult at = Sg({"upgrade", "0005"});
  EXPECT_EQ(at.exit_code, 0) << at.err;
  EXPECT_CONTAINS(at.err, "Already at 0005");

  RunResult forbidden = Sg({"upgrade", "0003", "--forbid-downgrade"});
  EXPECT_EQ(forbidden.exit_code, 4);
  EXPECT_CONTAINS(forbidden.err, "target 0003 is below the current revision 0005");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");
  // The operator says Forbid through the environment (older runners ignore it).
  RunResult forbidden_env = Sg({"upgrade", "0003"}, {{"SCHEMAGATE_FORBID_DOWNGRADE", "true"}});
  EXPECT_EQ(forbidden_env.exit_code, 4) << forbidden_env.err;
  EXPECT_CONTAINS(forbidden_env.err, "target 0003 is below the current revision 0005");
  ASSERT_EQ(Sg({"upgrade", "0003", "--allow-downgrade"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0003");

  // A step count down is refused as Alembic does, in the user's own words.
  RunResult minus = Sg({"upgrade", "-2"});
  EXPECT_EQ(minus.exit_code, 4);
  EXPECT_CONTAINS(minus.err, "target -2 counts down from the current revision");
  EXPECT_CONTAINS(minus.err, "'schemagate downgrade -2'");
  EXPECT_FALSE(Contains(minus.err, "upgrade base")) << minus.err;
}

TEST_F(RunnerTest, HelpComesBeforeRequiredArguments) {
  for (const char* command : {"downgrade", "show", "stamp", "upgrade", "history"}) {
    RunResult r = SgRaw({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.err;
    EXPECT_CONTAINS(r.out, std::string("usage: schemagate ") + command);
  }
  EXPECT_EQ(SgRaw({"downgrade"}).exit_code, 2);  // still required without --help
}

// history -v, heads -v and show count each section's statements alike.
TEST_F(RunnerTest, VerboseListingsCountStatementsAsShowDoes) {
  RunResult show = SgRaw({"show", "0001"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_CONTAINS(show.out, "Section upgrade (line 6): 9 statement(s)");
  for (std::vector<std::string> args : {std::vector<std::string>{"history", "-v"}, {"history", "-v", "-r", "base:0001"}}) {
    RunResult r = SgRaw(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_CONTAINS(r.out, "Section upgrade (line 6): 9 statement(s)");
    EXPECT_FALSE(Contains(r.out, ": 0 statement(s)")) << r.out;
  }
  RunResult heads = SgRaw({"heads", "-v"});
  ASSERT_EQ(heads.exit_code, 0) << heads.err;
  EXPECT_FALSE(Contains(heads.out, ": 0 statement(s)")) << heads.out;
  EXPECT_CONTAINS(heads.out, "statement(s)");
}

// A failed transaction:false downgrade: the advice is the downgrade's, and
// the stamp that finishes it by hand is the revision's parent.
TEST_F(RunnerTest, FailedNonTransactionalDowngradeAdvisesTheParentsStamp) {
  CopyBundledMigrations();
  WriteMigration("0006_slow.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n-- message: Slow\n\n"
                 "-- migrate:upgrade\nCREATE TABLE t6 (id int);\n\n"
                 "-- migrate:downgrade transaction:false\nDROP TABLE t6;\nSELECT 1/0;\n");
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);
  RunResult down = Sg({"downgrade", "0005"});
  EXPECT_EQ(down.exit_code, 1) << down.err;
  EXPECT_CONTAINS(down.err, "1 of 2 statements had run");
  EXPECT_CONTAINS(down.err, "run the downgrade again");
  EXPECT_CONTAINS(down.err, "'schemagate stamp 0005'");
  EXPECT_FALSE(Contains(down.err, "IF NOT EXISTS")) << down.err;
  EXPECT_FALSE(Contains(down.err, "stamp 0006")) << down.err;
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0006");
  // Finishing by hand as advised leaves the table where the downgrade would have.
  ASSERT_EQ(Sg({"stamp", "0005"}).exit_code, 0);
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");
}

}  // namespace
}  // namespace schemagate::testing
