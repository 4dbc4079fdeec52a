// Migration trees built to hurt: huge, wide, cyclic, binary, escaping the
// directory. Each must end in a clear error or in correct behaviour; the
// test's timeout bounds the time (no timed assertions here).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/migration_set.h"
#include "core/planner.h"

namespace schemagate {
namespace {

namespace fs = std::filesystem;

class HostileTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sg-hostile-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "versions");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / "versions" / name, std::ios::binary) << text;
  }
  static std::string Header(const std::string& id, const std::string& down, const std::string& extra = "") {
    return "-- revision: " + id + "\n-- down_revision: " + down + "\n" + extra +
           "\n-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n";
  }
  fs::path root_;
};

TEST_F(HostileTreeTest, TenThousandFilesLoadAndPlanInOneChain) {
  for (int i = 0; i < 10000; ++i) {
    Write("r" + std::to_string(i) + ".sql", Header("r" + std::to_string(i), i == 0 ? "" : "r" + std::to_string(i - 1)));
  }
  auto set = MigrationSet::Load(root_.string(), /*split=*/false);
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->graph().Heads(), std::vector<std::string>{"r9999"});
  auto plan = PlanUpgrade(set->graph(), {}, "head");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(plan->steps.size(), 10000u);
  EXPECT_EQ(plan->steps.front().revision, "r0");
  EXPECT_EQ(plan->steps.back().revision, "r9999");
  auto down = PlanDowngrade(set->graph(), {"r9999"}, "base");
  ASSERT_TRUE(down.ok()) << down.status().message();
  EXPECT_EQ(down->steps.size(), 10000u);
}

TEST_F(HostileTreeTest, AHundredHeadsAreNamedNotGuessed) {
  Write("base.sql", Header("base", ""));
  for (int i = 0; i < 100; ++i) Write("h" + std::to_string(i) + ".sql", Header("h" + std::to_string(i), "base"));
  auto set = MigrationSet::Load(root_.string());
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->graph().Heads().size(), 100u);
  auto one = PlanUpgrade(set->graph(), {}, "head");
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.status().code(), Code::kValidation);
  EXPECT_NE(one.status().message().find("h0"), std::string::npos) << one.status().message();
  EXPECT_NE(one.status().message().find("h99"), std::string::npos) << one.status().message();
  auto all = PlanUpgrade(set->graph(), {}, "heads");
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->steps.size(), 101u);
}

TEST_F(HostileTreeTest, CycleThroughDependsOnIsRefusedNamingTheFiles) {
  Write("a.sql", Header("aaaa", "", "-- depends_on: cccc\n"));
  Write("b.sql", Header("bbbb", "aaaa"));
  Write("c.sql", Header("cccc", "bbbb"));
  auto set = MigrationSet::Load(root_.string());
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), Code::kValidation);
  EXPECT_NE(set.status().message().find("revision cycle"), std::string::npos) << set.status().message();
  EXPECT_NE(set.status().message().find("a.sql"), std::string::npos) << set.status().message();
}

TEST_F(HostileTreeTest, FiftyMegabyteFileIsSplitCompletely) {
  std::string big = "-- revision: big\n-- down_revision: \n\n-- migrate:upgrade\n";
  const std::string row = "INSERT INTO t (id, note) VALUES (1, 'semicolons; inside -- quotes /* too */');\n";
  const size_t rows = 50u * 1024 * 1024 / row.size() + 1;
  big.reserve(rows * row.size() + 100);
  for (size_t i = 0; i < rows; ++i) big += row;
  big += "-- migrate:downgrade\nDELETE FROM t;\n";
  ASSERT_GE(big.size(), 50u * 1024 * 1024);
  Write("big.sql", big);
  auto set = MigrationSet::Load(root_.string());
  ASSERT_TRUE(set.ok()) << set.status().message();
  const MigrationFile* f = set->Find("big");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->sections.size(), 2u);
  EXPECT_EQ(f->sections[0].statements.size(), rows);
  EXPECT_EQ(f->sections[1].statements.size(), 1u);
}

TEST_F(HostileTreeTest, NonUtf8BytesAreRefusedWithFileLineAndColumn) {
  Write("a.sql", "-- revision: aaaa\n-- down_revision: \n\n-- migrate:upgrade\nINSERT INTO t VALUES ('caf\xE9');\n");
  auto set = MigrationSet::Load(root_.string());
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), Code::kValidation);
  const std::string& m = set.status().message();
  EXPECT_NE(m.find("a.sql:5:"), std::string::npos) << m;
  EXPECT_NE(m.find("byte 0xE9 at column 27"), std::string::npos) << m;
  EXPECT_NE(m.find("not valid UTF-8"), std::string::npos) << m;
}

TEST_F(HostileTreeTest, ValidUtf8AndALatin1LookalikeInUtf8AreAccepted) {
  Write("a.sql", "-- revision: aaaa\n-- down_revision: \n-- message: café ✓ 𝄞\n\n-- migrate:upgrade\n"
                 "INSERT INTO t VALUES ('café');\n");
  auto set = MigrationSet::Load(root_.string());
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->Find("aaaa")->revision.message, "café ✓ 𝄞");
}

TEST_F(HostileTreeTest, SymlinkToAFileOutsideAndToADeviceAreRefused) {
  const fs::path outside = root_ / "outside.sql";
  std::ofstream(outside) << Header("out", "");
  fs::create_symlink(outside, root_ / "versions" / "out.sql");
  auto set = MigrationSet::Load(root_.string());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("outside the migrations directory"), std::string::npos)
      << set.status().message();

  fs::remove(root_ / "versions" / "out.sql");
  fs::create_symlink("/dev/zero", root_ / "versions" / "zero.sql");
  set = MigrationSet::Load(root_.string());
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), Code::kValidation);
  EXPECT_NE(set.status().message().find("zero.sql"), std::string::npos) << set.status().message();
}

TEST_F(HostileTreeTest, DirectoryNamedLikeAMigrationIsRefused) {
  fs::create_directories(root_ / "versions" / "0001_dir.sql");
  auto set = MigrationSet::Load(root_.string());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("0001_dir.sql: not a regular file"), std::string::npos)
      << set.status().message();
}

}  // namespace
}  // namespace schemagate
