#include "core/migration_set.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace schemagate {
namespace {

namespace fs = std::filesystem;

class MigrationSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sg-set-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "versions");
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  fs::path root_;
};

TEST_F(MigrationSetTest, LoadsSqlFilesAndIgnoresOthers) {
  Write(root_ / "versions" / "0001_a.sql", "-- revision: 0001\n-- migrate:upgrade\nSELECT 1;\n");
  Write(root_ / "versions" / "0002_b.sql", "-- revision: 0002\n-- down_revision: 0001\n-- migrate:upgrade\n");
  Write(root_ / "versions" / "README.md", "not a migration");
  auto set = MigrationSet::Load(root_.string());
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->files().size(), 2u);
  EXPECT_EQ(set->graph().Heads(), std::vector<std::string>{"0002"});
  ASSERT_NE(set->Find("0001"), nullptr);
  EXPECT_EQ(set->Find("0003"), nullptr);
}

TEST_F(MigrationSetTest, MissingDirectoryIsAConfigurationError) {
  auto set = MigrationSet::Load((root_ / "nope").string());
  EXPECT_EQ(set.status().code(), Code::kUsage);
  EXPECT_NE(set.status().message().find("does not exist"), std::string::npos);
}

TEST_F(MigrationSetTest, SymlinkOutOfTheDirectoryIsRefused) {
  Write(root_ / "outside.sql", "-- revision: 0001\n-- migrate:upgrade\n");
  fs::create_symlink(root_ / "outside.sql", root_ / "versions" / "0001_link.sql");
  auto set = MigrationSet::Load(root_.string());
  EXPECT_EQ(set.status().code(), Code::kValidation);
  EXPECT_NE(set.status().message().find("outside the migrations directory"), std::string::npos);
}

TEST_F(MigrationSetTest, ChecksumDriftNamesTheRevision) {
  Write(root_ / "versions" / "0001_a.sql", "-- revision: 0001\n-- migrate:upgrade\nSELECT 1;\n");
  Write(root_ / "versions" / "0002_b.sql", "-- revision: 0002\n-- down_revision: 0001\n-- migrate:upgrade\n");
  auto set = MigrationSet::Load(root_.string());
  ASSERT_TRUE(set.ok());
  std::map<std::string, std::string> recorded{{"0001", set->Find("0001")->checksum}, {"0002", ""}};
  EXPECT_TRUE(set->CheckChecksums({"0002"}, recorded).ok());
  recorded["0001"] = std::string(64, 'a');
  Status drift = set->CheckChecksums({"0002"}, recorded);
  EXPECT_EQ(drift.code(), Code::kValidation);
  EXPECT_NE(drift.message().find("0001"), std::string::npos);
  // Not applied: not checked.
  EXPECT_TRUE(set->CheckChecksums({}, recorded).ok());
}

}  // namespace
}  // namespace schemagate
