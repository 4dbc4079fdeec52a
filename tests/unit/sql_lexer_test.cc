#include "core/sql_lexer.h"

#include <gtest/gtest.h>

namespace schemagate {
namespace {

std::vector<std::string> Texts(std::string_view sql) {
  auto r = SplitStatements(sql);
  EXPECT_TRUE(r.ok()) << r.status().message();
  std::vector<std::string> out;
  if (r.ok()) {
    for (const auto& s : *r) out.push_back(s.text);
  }
  return out;
}

struct SplitCase {
  const char* name;
  std::string sql;
  std::vector<std::string> expected;
};

TEST(SqlLexer, SplitsOnlyAtTopLevelSemicolons) {
  const std::vector<SplitCase> cases = {
      {"plain", "SELECT 1; SELECT 2;", {"SELECT 1", "SELECT 2"}},
      {"no final semicolon", "SELECT 1;\nSELECT 2", {"SELECT 1", "SELECT 2"}},
      {"empty statements dropped", ";;  -- c\n; /* x */ ;", {}},
      {"string with semicolon", "SELECT 'a;b'; SELECT 2", {"SELECT 'a;b'", "SELECT 2"}},
      {"doubled quote", "SELECT 'it''s; fine'; SELECT 2", {"SELECT 'it''s; fine'", "SELECT 2"}},
      {"E string backslash quote", "SELECT E'a\\';b'; SELECT 2", {"SELECT E'a\\';b'", "SELECT 2"}},
      {"plain string backslash is literal", "SELECT 'a\\'; SELECT 2", {"SELECT 'a\\'", "SELECT 2"}},
      {"U& string", "SELECT U&'d\\0061t;a'; SELECT 2", {"SELECT U&'d\\0061t;a'", "SELECT 2"}},
      {"quoted identifier", "CREATE TABLE \"we;ird\"\"name\" (id int); SELECT 2",
       {"CREATE TABLE \"we;ird\"\"name\" (id int)", "SELECT 2"}},
      {"untagged dollar", "DO $$ BEGIN PERFORM 1; END $$; SELECT 2", {"DO $$ BEGIN PERFORM 1; END $$", "SELECT 2"}},
      {"tagged dollar with inner $$", "SELECT $fn$ a; $$ b; $fn$; SELECT 2", {"SELECT $fn$ a; $$ b; $fn$", "SELECT 2"}},
      {"positional params are not quotes", "PREPARE p AS SELECT $1; SELECT $2", {"PREPARE p AS SELECT $1", "SELECT $2"}},
      {"dollar inside identifier", "SELECT foo$bar; SELECT 2", {"SELECT foo$bar", "SELECT 2"}},
      {"line comment with semicolon", "SELECT 1 -- no; split\n+ 1; SELECT 2", {"SELECT 1 -- no; split\n+ 1", "SELECT 2"}},
      {"nested block comment", "SELECT /* a /* b; */ c; */ 1; SELECT 2", {"SELECT /* a /* b; */ c; */ 1", "SELECT 2"}},
      {"comment with quote", "SELECT 1 /* it's */; SELECT '--'", {"SELECT 1 /* it's */", "SELECT '--'"}},
      {"begin atomic",
       "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; "
       "SELECT 3",
       {"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END",
        "SELECT 3"}},
      {"plain begin is a transaction", "BEGIN; SELECT 1; COMMIT;", {"BEGIN", "SELECT 1", "COMMIT"}},
  };
  for (const SplitCase& c : cases) {
    EXPECT_EQ(Texts(c.sql), c.expected) << c.name;
  }
}

TEST(SqlLexer, SplitsTheSeedTriggerFunctionAsOneStatement) {
  const std::string sql =
      "CREATE OR REPLACE FUNCTION update_updated_at_column()\n"
      "RETURNS TRIGGER AS $$\n"
      "BEGIN\n"
      "    NEW.updated_at = CURRENT_TIMESTAMP;\n"
      "    RETURN NEW;\n"
      "END;\n"
      "$$ language 'plpgsql';\n"
      "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();\n";
  auto r = SplitStatements(sql, 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].line, 10);
  EXPECT_EQ((*r)[1].line, 17);
  EXPECT_NE((*r)[0].text.find("RETURN NEW;"), std::string::npos);
}

TEST(SqlLexer, LineNumbersCountFromTheFirstTokenAndHandleCrlf) {
  auto r = SplitStatements("\n-- leading comment\n\n  SELECT\n1;\r\n\r\nSELECT 'a\nb';\rSELECT 3;", 5);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].line, 8);
  EXPECT_EQ((*r)[0].text, "SELECT\n1");
  EXPECT_EQ((*r)[1].line, 11);
  EXPECT_EQ((*r)[2].line, 13);  // lone CR is a line break too
}

TEST(SqlLexer, UnterminatedConstructsNameTheirStartLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SELECT 1;\nSELECT 'abc", "line 2: unterminated string literal"},
      {"SELECT 1;\n\nSELECT \"abc", "line 3: unterminated quoted identifier"},
      {"DO $body$ BEGIN\nEND", "line 1: unterminated dollar-quoted string $body$"},
      {"SELECT 1 /* a /* b */\n", "line 1: unterminated /* comment"},
      {"SELECT E'abc\\'", "line 1: unterminated string literal"},
      {"CREATE FUNCTION f() BEGIN ATOMIC SELECT 1;", "line 1: BEGIN ATOMIC body is not closed"},
  };
  for (const auto& [sql, expected] : cases) {
    auto r = SplitStatements(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), Code::kValidation);
    EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
  }
}

TEST(SqlLexer, SaysWhatTheTextEndsInside) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SELECT 1;\n", ""},
      {"CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n", "a dollar-quoted string $$"},
      {"DO $body$ BEGIN\n", "a dollar-quoted string $body$"},
      {"DO $body$ BEGIN END $body$;\n", ""},
      {"SELECT 'it''s\n", "a string literal"},
      {"SELECT E'\\'\n", "a string literal"},
      {"SELECT \"odd\n", "a quoted identifier"},
      {"SELECT 1 /* a /* b */\n", "a /* comment"},
      {"SELECT $1, 'x' -- $$ in a comment\n", ""},
      {"SELECT a$$b FROM t;\n", ""},  // a $ inside an identifier is no quote
  };
  for (const auto& [sql, expected] : cases) EXPECT_EQ(OpenQuoteAtEnd(sql), expected) << sql;
}

TEST(SqlLexer, MetaCommandsBecomeTheirOwnStatementAndAreUnsupported) {
  auto r = SplitStatements("SELECT 1;\n\\i other.sql\nSELECT 2;", 1);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].text, "\\i other.sql");
  EXPECT_EQ((*r)[1].line, 2);
  EXPECT_NE(UnsupportedStatementReason((*r)[1]).find("psql meta-command \\i"), std::string::npos);
  EXPECT_EQ(UnsupportedStatementReason((*r)[0]), "");
}

TEST(SqlLexer, CopyFromStdinIsUnsupportedButCopyToStdoutIsFine) {
  EXPECT_NE(UnsupportedStatementReason({"COPY users (id, email) FROM STDIN WITH (FORMAT csv)", 1}), "");
  EXPECT_NE(UnsupportedStatementReason({"copy users from stdin", 1}), "");
  EXPECT_EQ(UnsupportedStatementReason({"COPY users TO STDOUT", 1}), "");
  EXPECT_EQ(UnsupportedStatementReason({"SELECT 'COPY x FROM STDIN'", 1}), "");
}

TEST(SqlLexer, RecognisesStatementsThatCannotRunInATransaction) {
  const std::vector<std::pair<std::string, std::string>> yes = {
      {"CREATE INDEX CONCURRENTLY i ON t (x)", "CREATE INDEX CONCURRENTLY"},
      {"create unique index concurrently i on t (x)", "CREATE INDEX CONCURRENTLY"},
      {"/* c */ DROP INDEX CONCURRENTLY i", "DROP INDEX CONCURRENTLY"},
      {"REINDEX INDEX CONCURRENTLY i", "REINDEX CONCURRENTLY"},
      {"REINDEX (VERBOSE) TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"},
      {"VACUUM ANALYZE t", "VACUUM"},
      {"ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"},
      {"CREATE DATABASE x", "CREATE DATABASE"},
      {"DROP DATABASE x", "DROP DATABASE"},
      {"CREATE TABLESPACE ts LOCATION '/x'", "CREATE TABLESPACE"},
      {"ALTER TABLE p DETACH PARTITION c CONCURRENTLY", "DETACH PARTITION"},
      {"CLUSTER", "CLUSTER"},
      {"COMMIT", "transaction control (COMMIT)"},
      {"BEGIN", "transaction control (BEGIN)"},
  };
  for (const auto& [sql, expected] : yes) {
    EXPECT_NE(NonTransactionalReason({sql, 1}).find(expected), std::string::npos) << sql;
  }
  const std::vector<std::string> no = {
      "CREATE INDEX idx_concurrently ON t (x)",
      "CREATE INDEX i ON t (x) -- CONCURRENTLY later",
      "SELECT 'VACUUM'",
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
      "ALTER TABLE t ADD COLUMN c int",
      "CLUSTER t USING i",
      "UPDATE users SET is_verified = true WHERE email LIKE '%@company.com'",
  };
  for (const std::string& sql : no) {
    EXPECT_EQ(NonTransactionalReason({sql, 1}), "") << sql;
  }
}

TEST(SqlLexer, LargeInputSplitsInLinearTime) {
  std::string sql;
  for (int i = 0; i < 200000; ++i) sql += "INSERT INTO t VALUES (" + std::to_string(i) + ", 'x;y');\n";
  auto r = SplitStatements(sql);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 200000u);
  EXPECT_EQ(r->back().line, 200000);
}

}  // namespace
}  // namespace schemagate
