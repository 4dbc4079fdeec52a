// Alembic and schemagate on the same database, both ways: Alembic 1.8
// (Debian's python3-alembic) must read and continue what schemagate wrote,
// and schemagate must adopt and continue what Alembic wrote — with branches
// and merges, where the version table holds several heads.
#include <gtest/gtest.h>

#include <filesystem>

#include "integration/runner_fixture.h"

namespace schemagate::testing {
namespace {

namespace fs = std::filesystem;

struct Rev {
  std::string id;
  std::vector<std::string> down;
  std::string table;  // the upgrade creates it, the downgrade drops it
};

class AlembicInterplayTest : public RunnerTest {
 protected:
  void SetUp() override {
    RunnerTest::SetUp();
    tmp_ = std::make_unique<TempDir>();
    cwd_ = tmp_->path();
    fs::create_directories(cwd_ + "/migrations/versions");
    fs::create_directories(cwd_ + "/alembic/versions");
    WriteFile(cwd_ + "/schemagate.yaml", "script_location: migrations\n");
    WriteFile(cwd_ + "/alembic.ini", "[alembic]\nscript_location = alembic\nsqlalchemy.url = " + url_ + "\n");
    WriteFile(cwd_ + "/alembic/env.py",
              "from alembic import context\n"
              "from sqlalchemy import create_engine\n"
              "url = context.config.get_main_option('sqlalchemy.url')\n"
              "engine = create_engine(url)\n"
              "with engine.connect() as connection:\n"
              "    context.configure(connection=connection)\n"
              "    with context.begin_transaction():\n"
              "        context.run_migrations()\n");
    for (const Rev& r : {Rev{"0001", {}, "t1"}, Rev{"0002", {"0001"}, "t2"}, Rev{"0003a", {"0002"}, "t3a"},
                         Rev{"0003b", {"0002"}, "t3b"}}) {
      Add(r);
    }
  }

  // The same revision in both formats.
  void Add(const Rev& r) {
    std::string down_sql, down_py = "None";
    for (const std::string& d : r.down) down_sql += (down_sql.empty() ? "" : ", ") + d;
    if (r.down.size() == 1) down_py = "'" + r.down[0] + "'";
    if (r.down.size() > 1) {
      down_py = "(";
      for (const std::string& d : r.down) down_py += "'" + d + "', ";
      down_py += ")";
    }
    WriteFile(cwd_ + "/migrations/versions/" + r.id + "_rev.sql",
              "-- revision: " + r.id + "\n-- down_revision: " + down_sql + "\n-- message: rev " + r.id +
                  "\n\n-- migrate:upgrade\nCREATE TABLE " + r.table + " (id int);\n\n-- migrate:downgrade\nDROP TABLE " +
                  r.table + ";\n");
    WriteFile(cwd_ + "/alembic/versions/" + r.id + "_rev.py",
              "revision = '" + r.id + "'\ndown_revision = " + down_py +
                  "\nbranch_labels = None\ndepends_on = None\nfrom alembic import op\n\n"
                  "def upgrade():\n    op.execute('CREATE TABLE " + r.table + " (id int)')\n\n"
                  "def downgrade():\n    op.execute('DROP TABLE " + r.table + "')\n");
  }

  RunResult Alembic(std::vector<std::string> args) {
    std::vector<std::string> argv{"/usr/bin/python3", "-m", "alembic", "-c", cwd_ + "/alembic.ini"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions opts;
    opts.cwd = cwd_;
    opts.timeout = std::chrono::seconds(120);
    return RunProcess(argv, opts);
  }

  std::string Heads() { return Q("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version"); }
  std::string Tables() {
    return Q("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE tablename LIKE 't%'");
  }
};

TEST_F(AlembicInterplayTest, SchemagateAdoptsAnAlembicDatabaseAndAlembicReadsTheTwoHeads) {
  RunResult a = Alembic({"upgrade", "0002"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(Heads(), "0002");

  RunResult up = Sg({"upgrade", "heads"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.err.find("Adopted"), std::string::npos) << up.err;
  EXPECT_EQ(Heads(), "0003a,0003b");
  EXPECT_EQ(Tables(), "t1,t2,t3a,t3b");
  EXPECT_EQ(Q("SELECT string_agg(revision, ',' ORDER BY id) FROM schemagate_log WHERE operation = 'adopt' "
              "AND checksum IS NULL"),
            "0001,0002");

  RunResult current = Alembic({"current"});
  ASSERT_EQ(current.exit_code, 0) << current.err;
  EXPECT_NE(current.out.find("0003a (head)"), std::string::npos) << current.out;
  EXPECT_NE(current.out.find("0003b (head)"), std::string::npos) << current.out;
  RunResult noop = Alembic({"upgrade", "heads"});
  EXPECT_EQ(noop.exit_code, 0) << noop.err;
  EXPECT_EQ(Tables(), "t1,t2,t3a,t3b");
}

TEST_F(AlembicInterplayTest, AlembicContinuesFromSchemagateThroughAMergeAndBack) {
  ASSERT_EQ(Sg({"upgrade", "0003a"}).exit_code, 0);
  ASSERT_EQ(Heads(), "0003a");
  RunResult a = Alembic({"upgrade", "heads"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(Heads(), "0003a,0003b");

  Add({"0004", {"0003a", "0003b"}, "t4"});
  RunResult merge = Sg({"upgrade", "head"});
  ASSERT_EQ(merge.exit_code, 0) << merge.err;
  EXPECT_EQ(Heads(), "0004");
  RunResult current = Alembic({"current"});
  EXPECT_NE(current.out.find("0004 (head)"), std::string::npos) << current.out << current.err;

  // Alembic unmerges what schemagate merged; schemagate reads the two heads.
  RunResult down = Alembic({"downgrade", "0003a"});
  ASSERT_EQ(down.exit_code, 0) << down.out << down.err;
  EXPECT_EQ(Heads(), "0003a,0003b");
  RunResult ours = Sg({"current"});
  EXPECT_EQ(ours.out, "0003a\n0003b\n");  // no longer heads: 0004 merges them
  // And schemagate goes back down to a single branch the way Alembic would.
  ASSERT_EQ(Sg({"downgrade", "0002"}).exit_code, 0);
  EXPECT_EQ(Heads(), "0002");
  EXPECT_EQ(Tables(), "t1,t2");
  RunResult again = Alembic({"current"});
  EXPECT_NE(again.out.find("0002"), std::string::npos) << again.out;
}

}  // namespace
}  // namespace schemagate::testing
