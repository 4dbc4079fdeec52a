// Small pure helpers: durations, redaction, JSON, checksums, templates.
#include <gtest/gtest.h>

#include "core/checksum.h"
#include "core/duration.h"
#include "core/json_writer.h"
#include "core/redact.h"
#include "core/template.h"

namespace schemagate {
namespace {

TEST(Duration, ParsesSecondsAndUnits) {
  const std::vector<std::pair<std::string, int64_t>> ok = {
      {"30", 30000}, {"500ms", 500}, {"30s", 30000}, {"5m", 300000}, {"1h", 3600000}, {"1h30m", 5400000}, {"0", 0}};
  for (const auto& [text, ms] : ok) {
    auto d = ParseDuration(text);
    ASSERT_TRUE(d.ok()) << text;
    EXPECT_EQ(d->count(), ms) << text;
  }
  for (const std::string bad : {"", "-5", "5 m", "5x", "m5", "1.5s", "99999999999999999999h", "30 30"}) {
    auto d = ParseDuration(bad);
    EXPECT_EQ(d.status().code(), Code::kUsage) << bad;
    EXPECT_NE(d.status().message().find("'" + bad + "'"), std::string::npos);
  }
}

TEST(Duration, FormatsShortestExactForm) {
  EXPECT_EQ(FormatDuration(Millis(500)), "500ms");
  EXPECT_EQ(FormatDuration(Millis(300000)), "5m");
  EXPECT_EQ(FormatDuration(Millis(5430000)), "1h30m30s");
  EXPECT_EQ(FormatDuration(Millis(1500)), "1500ms");
}

TEST(Redact, PasswordsNeverSurvive) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"postgresql://app:s3cr%40t@db:5432/app", "s3cr%40t"},
      {"postgres://app:hunter2@db/app?sslmode=require", "hunter2"},
      {"postgresql://app@db/app?password=qwerty&sslmode=verify-full", "qwerty"},
      {"host=db user=app password=plain dbname=app", "plain"},
      {"host=db password='with space' dbname=app", "with space"},
  };
  for (const auto& [url, secret] : cases) {
    std::string red = RedactUrl(url);
    EXPECT_EQ(red.find(secret), std::string::npos) << url << " -> " << red;
    EXPECT_NE(red.find("***"), std::string::npos) << red;
    EXPECT_EQ(DescribeTarget(url).find(secret), std::string::npos) << DescribeTarget(url);
  }
  EXPECT_EQ(PasswordOf("postgresql://app:s3cr%40t@db/app"), "s3cr@t");
  EXPECT_EQ(PasswordOf("host=db password='with space'"), "with space");
  EXPECT_EQ(PasswordOf("postgresql://app@db/app"), "");
  EXPECT_EQ(RedactSecret("FATAL: password s3cr@t wrong s3cr@t", "s3cr@t"), "FATAL: password *** wrong ***");
}

TEST(Redact, DescribesWhereItConnects) {
  EXPECT_EQ(DescribeTarget("postgresql://u:p@db.example:6432/app?sslmode=require"), "db.example:6432/app");
  EXPECT_EQ(DescribeTarget("postgresql://db/app"), "db:5432/app");
  EXPECT_EQ(DescribeTarget("host=db port=5433 dbname=x password=y"), "db:5433/x");
  EXPECT_EQ(DescribeTarget("postgresql:///app?host=/var/run/postgresql"), "unix socket /var/run/postgresql/.s.PGSQL.5432 db app");
}

TEST(JsonWriter, WritesValidEscapedJson) {
  JsonWriter w;
  w.BeginObject()
      .Field("s", "a\"b\\c\nd\x01")
      .Field("n", int64_t{-5})
      .Field("b", true)
      .Key("null").Null()
      .Field("list", std::vector<std::string>{"x", "y"})
      .Key("nested").BeginArray().BeginObject().Field("k", 1).EndObject().EndArray()
      .EndObject();
  EXPECT_EQ(w.str(),
            "{\"s\":\"a\\\"b\\\\c\\nd\\u0001\",\"n\":-5,\"b\":true,\"null\":null,\"list\":[\"x\",\"y\"],"
            "\"nested\":[{\"k\":1}]}");
}

TEST(JsonWriter, KeepsValidUtf8AndReplacesInvalidBytes) {
  std::string out;
  AppendJsonString(out, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(out, "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  out.clear();
  AppendJsonString(out, "bad\xFF\xC3(\xED\xA0\x80");
  EXPECT_EQ(out, "\"bad\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(Checksum, KnownVectorsAndNormalisation) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(NormalizeForChecksum("\xEF\xBB\xBF" "a\r\nb\rc\n"), "a\nb\nc\n");
}

TEST(Template, SubstitutesPlaceholdersAndLeavesDollarQuotes) {
  auto r = RenderTemplate("-- revision: ${revision}\nSELECT $$x$$, $1, $tag$y$tag$; ${message}", {{"revision", "0007"}, {"message", "hi"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "-- revision: 0007\nSELECT $$x$$, $1, $tag$y$tag$; hi");
  auto bad = RenderTemplate("a\n${nope}", {{"revision", "1"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2: unknown placeholder ${nope}"), std::string::npos);
}

TEST(Template, SlugifiesMessages) {
  EXPECT_EQ(Slugify("Add user table!"), "add_user_table");
  EXPECT_EQ(Slugify("  Issue #123: fix   emails  "), "issue_123_fix_emails");
  EXPECT_LE(Slugify(std::string(100, 'a')).size(), 40u);
  EXPECT_EQ(Slugify("???"), "");
}

}  // namespace
}  // namespace schemagate
