#include "core/template.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace schemagate {
namespace {

const std::map<std::string, std::string> kVars = {
    {"revision", "0007"}, {"down_revision", "0006"}, {"message", "Add phone"}, {"empty", ""}};

TEST(RenderTemplate, SubstitutesKnownPlaceholders) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"no placeholders", "no placeholders"},
      {"${revision}", "0007"},
      {"-- revision: ${revision}\n-- down_revision: ${down_revision}\n",
       "-- revision: 0007\n-- down_revision: 0006\n"},
      {"${revision}${revision}", "00070007"},
      {"[${empty}]", "[]"},
      {"-- message: ${message}", "-- message: Add phone"},
  };
  for (const auto& [tmpl, expected] : cases) {
    Result<std::string> r = RenderTemplate(tmpl, kVars);
    ASSERT_TRUE(r.ok()) << tmpl << ": " << r.status().message();
    EXPECT_EQ(*r, expected) << tmpl;
  }
}

TEST(RenderTemplate, LeavesDollarQuotesAndParametersAsTheyAre) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"AS $$ BEGIN RETURN 1; END; $$", "AS $$ BEGIN RETURN 1; END; $$"},
      {"SELECT $1, $2", "SELECT $1, $2"},
      {"$tag$ body $tag$", "$tag$ body $tag$"},
      {"$", "$"},
      {"cost $ {revision}", "cost $ {revision}"},
      {"{revision}", "{revision}"},
      {"$${revision}", "$0007"},
      {"$tag$${revision}$tag$", "$tag$0007$tag$"},
  };
  for (const auto& [tmpl, expected] : cases) {
    Result<std::string> r = RenderTemplate(tmpl, kVars);
    ASSERT_TRUE(r.ok()) << tmpl << ": " << r.status().message();
    EXPECT_EQ(*r, expected) << tmpl;
  }
}

TEST(RenderTemplate, DoesNotExpandPlaceholdersInsideSubstitutedValues) {
  Result<std::string> r = RenderTemplate("-- message: ${message}", {{"message", "use ${secret}"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "-- message: use ${secret}");
}

TEST(RenderTemplate, RejectsUnknownAndMalformedPlaceholdersNamingTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"${nope}",
       "line 1: unknown placeholder ${nope} (known: down_revision, empty, message, "
       "revision)"},
      {"a\nb\n-- ${revison}\n", "line 3: unknown placeholder ${revison}"},
      {"${Revision}", "line 1: unknown placeholder ${Revision}"},
      {"a\n${revision", "line 2: '${' must be followed by a name and '}'"},
      {"${}", "line 1: '${' must be followed by a name and '}'"},
      {"${1st}", "line 1: '${' must be followed by a name and '}'"},
      {"${a b}", "line 1: '${' must be followed by a name and '}'"},
      {"${revision\n}", "line 1: '${' must be followed by a name and '}'"},
      {"x\n\n\n\n${", "line 5: '${' must be followed by a name and '}'"},
  };
  for (const auto& [tmpl, expected] : cases) {
    Result<std::string> r = RenderTemplate(tmpl, kVars);
    ASSERT_FALSE(r.ok()) << tmpl;
    EXPECT_EQ(r.status().code(), Code::kValidation) << tmpl;
    EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
  }
}

TEST(RenderTemplate, UnknownPlaceholderWithNoVariablesSaysNoneAreKnown) {
  Result<std::string> r = RenderTemplate("${x}", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(known: none)"), std::string::npos) << r.status().message();
}

TEST(Slugify, MakesLowercaseWordsJoinedByUnderscores) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Add user table!", "add_user_table"},
      {"  Issue #123: fix   emails  ", "issue_123_fix_emails"},
      {"add_updated_at-triggers", "add_updated_at_triggers"},
      {"CamelCase", "camelcase"},
      {"", ""},
      {"???", ""},
      {"caf\xC3\xA9 au lait", "caf_au_lait"},  // non-ASCII separates words
      {"0003", "0003"},
      // Longer than 40: cut after the last whole word that fits.
      {"add phone number and email verification columns to users",
       "add_phone_number_and_email_verification"},
      // A word ends exactly at 40 characters: kept.
      {"aaaaaaaaa bbbbbbbbb ccccccccc dddddddddd eeee", "aaaaaaaaa_bbbbbbbbb_ccccccccc_dddddddddd"},
      // One word longer than 40: cut at 40.
      {std::string(100, 'a'), std::string(40, 'a')},
      {"x " + std::string(50, 'b'), "x"},
  };
  for (const auto& [message, slug] : cases) {
    EXPECT_EQ(Slugify(message), slug) << message;
    EXPECT_LE(Slugify(message).size(), 40u) << message;
  }
}

}  // namespace
}  // namespace schemagate
