// Faults on purpose: the runner killed mid-run, its session ended by the
// server, the server restarted, the lock holder killed, the server not up
// yet. Afterwards the version table, the log and the catalog must agree,
// and the next run must finish the job.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "integration/runner_fixture.h"
#include "support/expect.h"

namespace schemagate::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string Rev(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", i);
  return buf;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Drops the lines that name `needle` (objects a half-run section may leave).
std::string Without(const std::string& snapshot, const std::string& needle) {
  std::string out;
  for (const std::string& line : Lines(snapshot)) {
    if (line.find(needle) == std::string::npos) out += (out.empty() ? "" : "\n") + line;
  }
  return out;
}

// "+ line" for lines only in `actual`, "- line" for lines only in `expected`.
std::string LineDiff(const std::string& actual, const std::string& expected) {
  std::vector<std::string> a = Lines(actual), e = Lines(expected), out;
  std::sort(a.begin(), a.end());
  std::sort(e.begin(), e.end());
  std::string diff;
  std::vector<std::string> only;
  std::set_difference(a.begin(), a.end(), e.begin(), e.end(), std::back_inserter(only));
  for (const std::string& l : only) diff += "+ " + l + "\n";
  only.clear();
  std::set_difference(e.begin(), e.end(), a.begin(), a.end(), std::back_inserter(only));
  for (const std::string& l : only) diff += "- " + l + "\n";
  return diff;
}

class FaultsTest : public RunnerTest {
 protected:
  static constexpr int kBundled = 5;
  static constexpr int kLast = 27;       // 0006..0025 generated, 0026 transaction:false, 0027 after it
  static constexpr int kNonTx = 26;

  // The bundled migrations plus generated ones: each transactional one
  // creates a table with an index and 100 rows; 0026 builds two indexes
  // concurrently (written to be rerun safely, as docs/reliability.md says).
  void WriteTree() {
    CopyBundledMigrations();
    for (int i = kBundled + 1; i <= kLast; ++i) {
      const std::string r = Rev(i), t = "g_" + r;
      std::string body;
      if (i == kNonTx) {
        body =
            "-- migrate:upgrade transaction:false\n"
            "DROP INDEX CONCURRENTLY IF EXISTS gx_a;\n"
            "CREATE INDEX CONCURRENTLY gx_a ON g_0006 (n);\n"
            "SELECT pg_sleep(0.1);\n"
            "DROP INDEX CONCURRENTLY IF EXISTS gx_b;\n"
            "CREATE INDEX CONCURRENTLY gx_b ON g_0007 (n);\n"
            "SELECT pg_sleep(0.1);\n"
            "-- migrate:downgrade transaction:false\n"
            "DROP INDEX CONCURRENTLY IF EXISTS gx_b;\nDROP INDEX CONCURRENTLY IF EXISTS gx_a;\n";
      } else {
        body = "-- migrate:upgrade\nCREATE TABLE " + t + " (id bigserial PRIMARY KEY, n int NOT NULL);\n" +
               "INSERT INTO " + t + " (n) SELECT g FROM generate_series(1, 100) g;\n" +
               "CREATE INDEX ix_" + t + " ON " + t + " (n);\n" +
               "-- migrate:downgrade\nDROP TABLE " + t + ";\n";
      }
      WriteMigration(r + "_step.sql", "-- revision: " + r + "\n-- down_revision: " + Rev(i - 1) +
                                          "\n-- message: step " + r + "\n\n" + body);
    }
  }

  // 0006 creates a table, then sleeps a minute while public.slow_flag exists
  // (created here): a migration caught mid-statement on demand. Applies
  // 0001-0005 to `url` first.
  void WriteSlowMigrationAt(const std::string& url, PgServer& server) {
    CopyBundledMigrations();
    WriteMigration("0006_slow.sql",
                   "-- revision: 0006\n-- down_revision: 0005\n-- message: Slow\n\n-- migrate:upgrade\n"
                   "CREATE TABLE slow_done (id int);\n"
                   "SELECT pg_sleep(CASE WHEN to_regclass('public.slow_flag') IS NULL THEN 0 ELSE 60 END);\n"
                   "-- migrate:downgrade\nDROP TABLE slow_done;\n");
    RunResult up = SgAt(url, {"upgrade", "0005"});
    ASSERT_EQ(up.exit_code, 0) << up.err;
    server.Query(url, "CREATE TABLE slow_flag ()");
  }

  // Starts `schemagate upgrade head --url URL EXTRA...` as pod `pod`.
  std::unique_ptr<Child> StartRunner(const std::string& url, const std::string& pod,
                                     const std::vector<std::string>& extra = {}) {
    RunOptions opts;
    opts.cwd = cwd_;
    opts.env = {{"DATABASE_URL", kUnset}, {"ENVIRONMENT", kUnset}, {"POD_NAME", pod}};
    std::vector<std::string> argv{SchemagateBinary(), "upgrade", "head", "--url", url};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Child>(argv, opts);
  }

  // Waits until `sql` on `url` returns `want` (30 s at most).
  void WaitUntil(PgServer& server, const std::string& url, const std::string& sql, const std::string& want) {
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (server.Query(url, sql) != want) {
      ASSERT_LT(Clock::now(), deadline) << "waited in vain for " << sql << " to give " << want;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  static constexpr const char* kSleeping =
      "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'";

  RunResult SgAt(const std::string& url, std::vector<std::string> args) {
    args.insert(args.end(), {"--url", url, "--log-format", "text"});
    return SgRaw(std::move(args));
  }

  std::string QAt(const std::string& url, const std::string& sql) { return PgServer::Shared().Query(url, sql); }

  // Catalog snapshots after 0, 1, ..., kLast migrations, one step at a time.
  std::vector<std::string> ReferenceSnapshots() {
    const std::string ref = PgServer::Shared().CreateDatabase("reference");
    std::vector<std::string> out{CatalogSnapshot(ref)};
    for (int i = 1; i <= kLast; ++i) {
      RunResult r = SgAt(ref, {"upgrade", "+1"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      out.push_back(CatalogSnapshot(ref));
    }
    return out;
  }

  // A scalar read through dynamic SQL (query_to_xml), so one query can look
  // into tables that may not exist yet: `sql` must select one column "v".
  static std::string Dyn(const std::string& sql_expr) {
    return "coalesce((xpath('/row/v/text()', query_to_xml(" + sql_expr + ", false, true, '')))[1]::text, '')";
  }

  struct DbState {
    std::string heads, succeeded, running, rows, invalid_indexes;
  };

  // The version table, the upgrade log and the generated tables' row counts,
  // in one round trip.
  DbState ReadState(const std::string& url) {
    const std::string sql =
        "SELECT CASE WHEN to_regclass('alembic_version') IS NULL THEN '' ELSE " +
        Dyn("$q$SELECT string_agg(version_num, ',') AS v FROM alembic_version$q$") + " END || '|' || " +
        "CASE WHEN to_regclass('schemagate_log') IS NULL THEN '|' ELSE " +
        Dyn("$q$SELECT string_agg(revision, ',' ORDER BY id) AS v FROM schemagate_log WHERE operation = 'upgrade' "
            "AND status = 'succeeded'$q$") +
        " || '|' || " +
        Dyn("$q$SELECT string_agg(revision || ' ' || statements_applied, ',') AS v FROM schemagate_log WHERE status "
            "= 'running'$q$") +
        " END || '|' || coalesce((SELECT string_agg(c.relname || '=' || " +
        Dyn("'SELECT count(*) AS v FROM ' || quote_ident(c.relname)") +
        ", ',' ORDER BY c.relname) FROM pg_class c WHERE c.relname LIKE 'g\\_%' AND c.relkind = 'r' AND "
        "c.relnamespace = 'public'::regnamespace), '') || '|' || "
        "(SELECT count(*) FROM pg_index WHERE NOT indisvalid)";
    std::vector<std::string> parts;
    std::string text = QAt(url, sql), part;
    std::istringstream in(text);
    while (std::getline(in, part, '|')) parts.push_back(part);
    parts.resize(5);
    return {parts[0], parts[1], parts[2], parts[3], parts[4]};
  }

  // The version table, the log and the catalog agree. Returns the problems
  // and how many migrations are applied.
  std::string CheckConsistent(const std::string& url, const std::vector<std::string>& ref, bool* interrupted,
                              int* applied) {
    std::string problems;
    *interrupted = false;
    const DbState st = ReadState(url);
    int k = st.heads.empty() ? 0 : -1;
    for (int i = 1; i <= kLast && k < 0; ++i) {
      if (st.heads == Rev(i)) k = i;
    }
    *applied = k;
    if (k < 0) return "alembic_version holds '" + st.heads + "'\n";
    std::string expected, rows;
    for (int i = 1; i <= k; ++i) expected += (i > 1 ? "," : "") + Rev(i);
    for (int i = kBundled + 1; i <= k; ++i) {
      if (i != kNonTx) rows += std::string(rows.empty() ? "" : ",") + "g_" + Rev(i) + "=100";
    }
    if (st.succeeded != expected) problems += "log says applied [" + st.succeeded + "], version table " + expected + "\n";
    if (st.rows != rows) problems += "generated tables hold [" + st.rows + "], expected [" + rows + "]\n";
    std::string snapshot = CatalogSnapshot(url);
    if (!st.running.empty()) {
      // Only the transaction:false revision may be caught half-way.
      *interrupted = true;
      if (st.running.rfind(Rev(kNonTx) + " ", 0) != 0 || k != kNonTx - 1) {
        problems += "running log rows: " + st.running + " at " + Rev(k) + "\n";
      }
      snapshot = Without(snapshot, "gx_");
    } else if (st.invalid_indexes != "0") {
      problems += st.invalid_indexes + " invalid index(es) outside an interrupted run\n";
    }
    if (snapshot != ref[k]) {
      problems += "catalog differs from the reference after " + std::to_string(k) + " migrations:\n" +
                  LineDiff(snapshot, ref[k]);
    }
    return problems;
  }
};

// 50 runs killed at seeded random moments (SCHEMAGATE_FAULT_SEED reproduces
// one sequence; the seed is printed on failure; SCHEMAGATE_FAULT_TRIALS
// changes the count).
TEST_F(FaultsTest, SigkillAtRandomMomentsLosesNothingAndTheNextRunFinishes) {
  WriteTree();
  const std::vector<std::string> ref = ReferenceSnapshots();
  ASSERT_EQ(ref.size(), static_cast<size_t>(kLast + 1));

  // How long a whole run takes here: kills land across all of it.
  const std::string timing = PgServer::Shared().CreateDatabase("timing");
  auto t0 = Clock::now();
  ASSERT_EQ(SgAt(timing, {"upgrade", "head"}).exit_code, 0);
  const auto full = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);

  const char* seed_env = std::getenv("SCHEMAGATE_FAULT_SEED");
  const unsigned seed = seed_env ? static_cast<unsigned>(std::strtoul(seed_env, nullptr, 10)) : 20261125u;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> when(0, static_cast<int>(full.count() * 11 / 10));
  // 50 in `make test`; the sanitizer run (10x slower) asks for fewer.
  const char* trials_env = std::getenv("SCHEMAGATE_FAULT_TRIALS");
  const int kTrials = trials_env ? std::max(1, std::atoi(trials_env)) : 50;
  int killed_mid_run = 0, interrupted_seen = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    SCOPED_TRACE("seed " + std::to_string(seed) + ", trial " + std::to_string(trial));
    const std::string url = PgServer::Shared().CreateDatabase("sigkill");
    RunOptions opts;
    opts.cwd = cwd_;
    opts.env = {{"DATABASE_URL", kUnset}, {"ENVIRONMENT", kUnset}};
    Child runner({SchemagateBinary(), "upgrade", "head", "--url", url, "--log-format", "text"}, opts);
    std::this_thread::sleep_for(milliseconds(when(rng)));
    runner.Kill(SIGKILL);
    RunResult first = runner.Wait();
    if (first.exit_code == 128 + SIGKILL) ++killed_mid_run;

    bool interrupted = false;
    int applied = 0;
    std::string problems = CheckConsistent(url, ref, &interrupted, &applied);
    EXPECT_EQ(problems, "");
    RunResult next = SgAt(url, {"upgrade", "head"});
    if (interrupted) {
      ++interrupted_seen;
      // Reported once, with what ran and the way forward; then retried.
      EXPECT_EQ(next.exit_code, 1) << next.err;
      EXPECT_CONTAINS(next.err, "revision " + Rev(kNonTx));
      EXPECT_CONTAINS(next.err, "was interrupted");
      EXPECT_CONTAINS(next.err, "statements had run");
      next = SgAt(url, {"upgrade", "head"});
    }
    ASSERT_EQ(next.exit_code, 0) << next.err;
    problems = CheckConsistent(url, ref, &interrupted, &applied);
    EXPECT_EQ(problems, "");
    EXPECT_FALSE(interrupted);
    EXPECT_EQ(applied, kLast);
    QAt(PgServer::Shared().Url("postgres"), "DROP DATABASE IF EXISTS " + url.substr(url.rfind('/') + 1) + " WITH (FORCE)");
  }
  // The trials must really have cut runs short, not only killed idle exits.
  EXPECT_GE(killed_mid_run, kTrials / 2);
  std::cout << "[ sigkill ] seed " << seed << ": " << killed_mid_run << " of " << kTrials
            << " runs killed mid-run, " << interrupted_seen << " inside the transaction:false revision\n";
}

// A deterministic interruption inside the transaction:false revision: what
// ran is reported, the row is marked failed, and a rerun finishes.
TEST_F(FaultsTest, InterruptedNonTransactionalMigrationIsReportedThenRetried) {
  CopyBundledMigrations();
  WriteMigration("0006_slow_indexes.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n-- message: Slow indexes\n\n"
                 "-- migrate:upgrade transaction:false\n"
                 "DROP INDEX CONCURRENTLY IF EXISTS ix_users_created;\n"
                 "CREATE INDEX CONCURRENTLY ix_users_created ON users (created_at);\n"
                 "SELECT pg_sleep(CASE WHEN to_regclass('slow_flag') IS NULL THEN 0 ELSE 60 END);\n"
                 "-- migrate:downgrade\nDROP INDEX IF EXISTS ix_users_created;\n");
  ASSERT_EQ(Sg({"upgrade", "0005"}).exit_code, 0);
  Q("CREATE TABLE slow_flag ()");
  auto runner = StartRunner(url_, "pod-killed");
  // Wait until the two index statements are recorded, then kill.
  WaitUntil(PgServer::Shared(), url_,
            "SELECT coalesce(max(statements_applied), 0) FROM schemagate_log WHERE status = 'running'", "2");
  runner->Kill(SIGKILL);
  runner->Wait();
  // The server ends the orphaned session's sleep on its own (the runner sets
  // client_connection_check_interval), so nothing needs cancelling here.
  Q("DROP TABLE slow_flag");

  RunResult report = Sg({"upgrade", "head"});
  EXPECT_EQ(report.exit_code, 1) << report.err;
  EXPECT_CONTAINS(report.err, "revision 0006");
  EXPECT_CONTAINS(report.err, "0006_slow_indexes.sql");
  EXPECT_CONTAINS(report.err, "by pod-killed");
  EXPECT_CONTAINS(report.err, "2 of 3 statements had run");
  EXPECT_CONTAINS(report.err, "schemagate stamp 0006");
  EXPECT_EQ(Q("SELECT status || ': ' || error FROM schemagate_log WHERE revision = '0006'"),
            "failed: interrupted: the run ended (killed, or its connection lost) after 2 of 3 statements; "
            "they stay applied");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");

  RunResult retry = Sg({"upgrade", "head"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0006");
  EXPECT_EQ(Q("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_created'::regclass"), "t");
  EXPECT_EQ(Q("SELECT string_agg(status, ',' ORDER BY id) FROM schemagate_log WHERE revision = '0006'"),
            "failed,succeeded");
}

// The server ends the runner's session mid-migration: a clear error, the
// migration rolled back, and a retry succeeds.
TEST_F(FaultsTest, SessionTerminatedMidMigrationFailsClearlyAndRetrySucceeds) {
  WriteSlowMigrationAt(url_, PgServer::Shared());
  auto runner = StartRunner(url_, "pod-terminated", {"--connect-timeout", "2s"});
  WaitUntil(PgServer::Shared(), url_, kSleeping, "1");
  Q("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'");
  RunResult r = runner->Wait();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "0006");
  EXPECT_CONTAINS(r.err, "0006_slow.sql:7:");
  EXPECT_CONTAINS(r.err, "lost the connection to the server");
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");
  EXPECT_EQ(Q("SELECT to_regclass('public.slow_done') IS NULL"), "t");
  Q("DROP TABLE slow_flag");
  RunResult retry = Sg({"upgrade", "head"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0006");
  EXPECT_EQ(Q("SELECT to_regclass('public.slow_done') IS NOT NULL"), "t");
}

// The lock holder is killed: its session ends, the lock goes with it, and a
// waiter takes over within seconds; nothing needs repairing by hand.
TEST_F(FaultsTest, KilledLockHolderIsReplacedWithinSeconds) {
  WriteSlowMigrationAt(url_, PgServer::Shared());
  auto holder = StartRunner(url_, "pod-holder");
  WaitUntil(PgServer::Shared(), url_, kSleeping, "1");
  auto waiter = StartRunner(url_, "pod-waiter", {"--lock-timeout", "60s"});
  std::this_thread::sleep_for(milliseconds(500));
  Q("DROP TABLE slow_flag");  // the rerun by the waiter must not sleep
  auto killed_at = Clock::now();
  holder->Kill(SIGKILL);
  holder->Wait();
  RunResult w = waiter->Wait();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - killed_at);
  EXPECT_EQ(w.exit_code, 0) << w.err;
  // The orphaned session's sleep is ended by the server (the runner sets
  // client_connection_check_interval), not after its 60 s.
  EXPECT_LT(took.count(), 10000);
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0006");
  EXPECT_EQ(Q("SELECT count(*) FROM schemagate_log WHERE revision = '0006' AND status = 'succeeded'"), "1");
}

// The server goes away mid-run and comes back: a clear error naming the
// target (no password), a consistent state, success on retry. Its own
// server, so the shared one stays up for the other tests.
TEST_F(FaultsTest, ServerRestartMidRunFailsClearlyAndRetrySucceeds) {
  PgServer server;
  const std::string db_url = server.CreateDatabase("restart");
  WriteSlowMigrationAt(db_url, server);
  auto runner = StartRunner(db_url, "pod-restart", {"--connect-timeout", "1s"});
  WaitUntil(server, db_url, kSleeping, "1");
  // The test server runs with synchronous_commit=off: make what committed
  // before durable, so the restart (a crash, -m immediate) loses only the
  // migration in flight, as a real crash with durable commits would.
  server.Query(db_url, "CHECKPOINT");
  server.Restart();
  RunResult r = runner->Wait();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "0006_slow.sql:7:");
  EXPECT_CONTAINS(r.err, "lost the connection to the server");
  EXPECT_EQ(r.err.find(PgServer::kPlantedPassword), std::string::npos);
  EXPECT_EQ(server.Query(db_url, "SELECT version_num FROM alembic_version"), "0005");
  EXPECT_EQ(server.Query(db_url, "SELECT to_regclass('public.slow_done') IS NULL"), "t");
  server.Query(db_url, "DROP TABLE slow_flag");
  RunResult retry = SgAt(db_url, {"upgrade", "head"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(server.Query(db_url, "SELECT version_num FROM alembic_version"), "0006");
}

// An init container often starts before its database: the runner retries
// with backoff and goes on as soon as the server is up.
TEST_F(FaultsTest, RunnerStartedBeforeTheServerWaitsForIt) {
  PgServer server;
  const std::string db_url = server.CreateDatabase("late");
  server.Stop();
  RunOptions opts;
  opts.cwd = SourceDir();
  opts.env = {{"DATABASE_URL", kUnset}, {"ENVIRONMENT", kUnset}};
  Child runner({SchemagateBinary(), "upgrade", "head", "--url", db_url, "--connect-timeout", "60s"}, opts);
  std::this_thread::sleep_for(milliseconds(1500));
  server.Start();
  RunResult r = runner.Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.Query(db_url, "SELECT version_num FROM alembic_version"), "0005");
}

// sslmode in the URL is libpq's to enforce, never relaxed by us: this test
// server has no TLS, so sslmode=require must fail, say why, and not retry.
TEST_F(FaultsTest, SslmodeIsHonouredNotDowngraded) {
  RunResult r = SgRaw({"current", "--url", url_ + "?sslmode=require", "--connect-timeout", "1s", "--log-format",
                       "text"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "server does not support SSL, but SSL was required");
  EXPECT_EQ(r.err.find("attempts"), std::string::npos) << "retried what waiting cannot fix: " << r.err;
  EXPECT_EQ(r.err.find(PgServer::kPlantedPassword), std::string::npos) << r.err;
}

// `wait` is the app pod's gate: it reads the version table and needs no
// write rights. A role that can only read those two tables passes it.
TEST_F(FaultsTest, WaitWorksWithAReadOnlyRole) {
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);
  const std::string db = url_.substr(url_.rfind('/') + 1);
  Q("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sg_reader') THEN "
    "CREATE ROLE sg_reader LOGIN; END IF; END $$");
  Q("REVOKE ALL ON SCHEMA public FROM PUBLIC");
  Q("GRANT USAGE ON SCHEMA public TO sg_reader");
  Q("GRANT SELECT ON alembic_version, schemagate_log TO sg_reader");
  const std::string reader = PgServer::Shared().Url(db, "sg_reader");
  // It really cannot write: the same role cannot upgrade.
  EXPECT_NE(PgServer::Shared().Psql(reader, {"-c", "CREATE TABLE nope (id int)"}).exit_code, 0);
  RunResult w = SgRaw({"wait", "--url", reader, "--timeout", "10s", "--log-format", "text"});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  RunResult c = SgRaw({"check", "--head", "--url", reader, "--log-format", "text"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
}

}  // namespace
}  // namespace schemagate::testing
