#include "core/migration_file.h"

#include <gtest/gtest.h>

#include "core/checksum.h"

namespace schemagate {
namespace {

constexpr const char* kGood =
    "-- revision: 0003\n"
    "-- down_revision: 0002\n"
    "-- branch_labels: core\n"
    "-- depends_on: 0001\n"
    "-- create_date: 2024-01-01T00:00:00\n"
    "-- message: Add updated_at triggers\n"
    "\n"
    "-- migrate:upgrade\n"
    "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$\n"
    "BEGIN NEW.updated_at = now(); RETURN NEW; END;\n"
    "$$ LANGUAGE plpgsql;\n"
    "\n"
    "-- migrate:upgrade transaction:false env:production\n"
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx ON users (email);\n"
    "\n"
    "-- migrate:upgrade env:!production\n"
    "CREATE INDEX IF NOT EXISTS idx ON users (email);\n"
    "\n"
    "-- migrate:downgrade\n"
    "DROP INDEX IF EXISTS idx;\n"
    "DROP FUNCTION IF EXISTS f();\n";

TEST(MigrationFile, ParsesHeaderSectionsAndStatementLines) {
  auto f = ParseMigrationFile("v/0003_x.sql", kGood);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->revision.id, "0003");
  EXPECT_EQ(f->revision.down_revisions, std::vector<std::string>{"0002"});
  EXPECT_EQ(f->revision.branch_labels, std::vector<std::string>{"core"});
  EXPECT_EQ(f->revision.depends_on, std::vector<std::string>{"0001"});
  EXPECT_EQ(f->revision.message, "Add updated_at triggers");
  ASSERT_EQ(f->sections.size(), 4u);
  EXPECT_EQ(f->sections[0].statements.size(), 1u);
  EXPECT_EQ(f->sections[0].statements[0].line, 9);
  EXPECT_FALSE(f->sections[1].transactional);
  EXPECT_EQ(f->sections[1].env, "production");
  EXPECT_TRUE(f->sections[2].env_negated);
  EXPECT_EQ(f->sections[3].direction, Direction::kDowngrade);
  EXPECT_EQ(f->sections[3].statements[1].line, 21);
}

TEST(MigrationFile, SelectsSectionsByEnvironment) {
  auto f = ParseMigrationFile("x.sql", kGood);
  ASSERT_TRUE(f.ok());
  auto prod = f->SectionsFor(Direction::kUpgrade, "production");
  ASSERT_EQ(prod.size(), 2u);
  EXPECT_FALSE(prod[1]->transactional);
  auto dev = f->SectionsFor(Direction::kUpgrade, "development");
  ASSERT_EQ(dev.size(), 2u);
  EXPECT_TRUE(dev[1]->transactional);
  EXPECT_EQ(f->SectionsFor(Direction::kDowngrade, "development").size(), 1u);
}

TEST(MigrationFile, MergeAndBaseHeaders) {
  auto merge = ParseMigrationFile("m.sql", "-- revision: m1\n-- down_revision: a, b\n-- migrate:upgrade\n");
  ASSERT_TRUE(merge.ok());
  EXPECT_EQ(merge->revision.down_revisions, (std::vector<std::string>{"a", "b"}));
  auto base = ParseMigrationFile("b.sql", "-- revision: b1\n-- down_revision:\n-- migrate:upgrade\nSELECT 1;\n");
  ASSERT_TRUE(base.ok());
  EXPECT_TRUE(base->revision.down_revisions.empty());
}

TEST(MigrationFile, ChecksumIgnoresHeaderAndLineEndings) {
  auto a = ParseMigrationFile("a.sql", kGood);
  std::string renamed = kGood;
  renamed.replace(renamed.find("Add updated_at triggers"), 23, "Triggers");
  auto b = ParseMigrationFile("b.sql", renamed);
  std::string crlf;
  for (char c : std::string(kGood)) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto c = ParseMigrationFile("c.sql", "\xEF\xBB\xBF" + crlf);
  std::string edited = std::string(kGood) + "SELECT 1;\n";
  auto d = ParseMigrationFile("d.sql", edited);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok()) << c.status().message();
  EXPECT_EQ(a->checksum.size(), 64u);
  EXPECT_EQ(a->checksum, b->checksum);
  EXPECT_EQ(a->checksum, c->checksum);
  EXPECT_NE(a->checksum, d->checksum);
}

struct BadCase {
  const char* name;
  std::string content;
  std::string expected;  // substring of the error, which names file:line
};

TEST(MigrationFile, RejectsBadInputNamingFileAndLine) {
  const std::vector<BadCase> cases = {
      {"unknown key", "-- revision: 1\n-- revison: 2\n", "f.sql:2: unknown header key 'revison'"},
      {"duplicate key", "-- revision: 1\n-- revision: 2\n", "f.sql:2: header key 'revision' given twice"},
      {"missing revision", "-- message: hi\n-- migrate:upgrade\n", "f.sql:1: missing '-- revision: <id>'"},
      {"long id", "-- revision: " + std::string(33, 'a') + "\n", "f.sql:1: revision id"},
      {"dash in id", "-- revision: a-b\n", "contains '-'"},
      {"at in id", "-- revision: a@b\n", "contains '@'"},
      {"space in down", "-- revision: a\n-- down_revision: x y\n", "f.sql:2: down_revision"},
      {"sql before marker", "-- revision: a\nSELECT 1;\n", "f.sql:2: SQL before the first"},
      {"bad direction", "-- revision: a\n-- migrate:sideways\n", "f.sql:2: section marker"},
      {"bad option", "-- revision: a\n-- migrate:upgrade transactional:no\n", "f.sql:2: unknown section option"},
      {"meta command", "-- revision: a\n-- migrate:upgrade\n\\i other.sql\n", "f.sql:3: "},
      {"copy stdin", "-- revision: a\n-- migrate:upgrade\nCOPY t FROM STDIN;\n", "f.sql:3: "},
      {"concurrently in tx", "-- revision: a\n-- migrate:upgrade\nSELECT 1;\nCREATE INDEX CONCURRENTLY i ON t (x);\n",
       "f.sql:4: "},
      {"vacuum in tx", "-- revision: a\n-- migrate:downgrade\nVACUUM t;\n", "transaction:false"},
      // COMMIT is not moved to a transaction:false section: it is removed.
      {"commit in tx", "-- revision: a\n-- migrate:upgrade\nCOMMIT;\n",
       "f.sql:3: transaction control (COMMIT) in a transactional section: schemagate runs the section in a "
       "transaction and records the migration in the same one, so remove it"},
      {"unterminated", "-- revision: a\n-- migrate:upgrade\nSELECT 'abc;\n", "f.sql"},
  };
  for (const BadCase& c : cases) {
    auto f = ParseMigrationFile("f.sql", c.content);
    ASSERT_FALSE(f.ok()) << c.name;
    EXPECT_EQ(f.status().code(), Code::kValidation) << c.name;
    EXPECT_NE(f.status().message().find(c.expected), std::string::npos)
        << c.name << ": " << f.status().message();
  }
}

TEST(MigrationFile, NonTransactionalStatementAllowedInTransactionFalseSection) {
  auto f = ParseMigrationFile("f.sql",
                              "-- revision: a\n-- migrate:upgrade transaction:false\n"
                              "CREATE INDEX CONCURRENTLY i ON t (x);\nVACUUM t;\n");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->sections[0].statements.size(), 2u);
}

// psql runs the file whole: a `-- migrate:` line inside a dollar-quoted
// body (or a string, or a block comment) is part of it, not a marker.
TEST(MigrationFile, MarkerLinesInsideQuotesAreText) {
  const std::string file =
      "-- revision: 0007\n"
      "-- migrate:upgrade\n"
      "CREATE FUNCTION f() RETURNS int AS $$\n"
      "-- migrate:downgrade\n"
      "SELECT 1;\n"
      "$$ LANGUAGE sql;\n"
      "SELECT '\n"
      "-- migrate:upgrade nonsense:option\n"
      "';\n"
      "/* a comment\n"
      "-- migrate:downgrade\n"
      "*/\n"
      "-- migrate:downgrade\n"
      "DROP FUNCTION f();\n";
  auto f = ParseMigrationFile("v/0007_f.sql", file);
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ(f->sections.size(), 2u);
  EXPECT_EQ(f->sections[0].direction, Direction::kUpgrade);
  ASSERT_EQ(f->sections[0].statements.size(), 2u);
  EXPECT_NE(f->sections[0].statements[0].text.find("-- migrate:downgrade\nSELECT 1;"), std::string::npos);
  EXPECT_EQ(f->sections[1].direction, Direction::kDowngrade);
  EXPECT_EQ(f->sections[1].line, 13);
  // Headers only (the pod start's parse) finds the same sections.
  auto quick = ParseMigrationFile("v/0007_f.sql", file, false);
  ASSERT_TRUE(quick.ok()) << quick.status().message();
  EXPECT_EQ(quick->sections.size(), 2u);
  EXPECT_EQ(quick->checksum, f->checksum);
}

TEST(MigrationFile, PlainCommentsInHeaderAreAllowed) {
  auto f = ParseMigrationFile("f.sql", "-- revision: a\n-- This adds the users table.\n--\n-- migrate:upgrade\n");
  ASSERT_TRUE(f.ok()) << f.status().message();
}

}  // namespace
}  // namespace schemagate
