#include "core/offline_sql.h"

#include <gtest/gtest.h>

namespace schemagate {
namespace {

MigrationSet Set(std::vector<std::string> texts) {
  std::vector<MigrationFile> files;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto f = ParseMigrationFile("f" + std::to_string(i) + ".sql", texts[i]);
    EXPECT_TRUE(f.ok()) << f.status().message();
    files.push_back(f.value());
  }
  auto set = MigrationSet::FromFiles(std::move(files));
  EXPECT_TRUE(set.ok()) << set.status().message();
  return std::move(set.value());
}

TEST(OfflineSql, WrapsEachMigrationAndWritesTheVersionTable) {
  MigrationSet set = Set({"-- revision: 0001\n-- message: one\n-- migrate:upgrade\nCREATE TABLE a (id int);\n",
                          "-- revision: 0002\n-- down_revision: 0001\n-- migrate:upgrade\nSELECT 1 -- trailing\n;\n"
                          "-- migrate:upgrade transaction:false\nCREATE INDEX CONCURRENTLY i ON a (id);\n"});
  auto plan = PlanOffline(set.graph(), Direction::kUpgrade, "head");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  OfflineOptions o;
  auto sql = RenderOfflineSql(*plan, set, o);
  ASSERT_TRUE(sql.ok());
  const std::string& s = *sql;
  EXPECT_NE(s.find("CREATE TABLE IF NOT EXISTS public.alembic_version"), std::string::npos);
  EXPECT_NE(s.find("CREATE TABLE a (id int);\n"), std::string::npos);
  EXPECT_NE(s.find("INSERT INTO public.alembic_version (version_num) VALUES ('0001');"), std::string::npos);
  EXPECT_NE(s.find("UPDATE public.alembic_version SET version_num='0002' WHERE version_num = '0001';"),
            std::string::npos);
  // A trailing line comment must not swallow the terminator.
  EXPECT_NE(s.find("SELECT 1 -- trailing\n;"), std::string::npos) << s;
  // The concurrent index sits between a COMMIT and the next BEGIN.
  size_t idx = s.find("CREATE INDEX CONCURRENTLY");
  ASSERT_NE(idx, std::string::npos);
  EXPECT_LT(s.rfind("COMMIT;", idx), idx);
  EXPECT_GT(s.rfind("COMMIT;", idx), s.rfind("BEGIN;", idx));

  o.single_transaction = true;
  EXPECT_EQ(RenderOfflineSql(*plan, set, o).status().code(), Code::kValidation);
}

TEST(OfflineSql, QuotesIdentifiersAndLiterals) {
  EXPECT_EQ(QuoteIdent("alembic_version"), "alembic_version");
  EXPECT_EQ(QuoteIdent("My\"Table"), "\"My\"\"Table\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
}

}  // namespace
}  // namespace schemagate
