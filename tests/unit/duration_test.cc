#include "core/duration.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace schemagate {
namespace {

TEST(ParseDuration, AcceptsPlainSecondsUnitsAndCombinedUnits) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"30", 30'000},
      {"0", 0},
      {"007", 7'000},
      {"500ms", 500},
      {"30s", 30'000},
      {"5m", 300'000},
      {"1h", 3'600'000},
      {"1h30m", 5'400'000},
      {"90m", 5'400'000},
      {"2m500ms", 120'500},
      {"1h2m3s4ms", 3'723'004},
      {"0s", 0},
      {"9223372036854775807ms", INT64_MAX},
  };
  for (const auto& [text, millis] : cases) {
    Result<Millis> d = ParseDuration(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status().message();
    EXPECT_EQ(d->count(), millis) << text;
  }
}

TEST(ParseDuration, RejectsMalformedInputQuotingItAndShowingTheAcceptedForms) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"-5", "cannot be negative"},
      {"-5s", "cannot be negative"},
      {" 5", "expected a number"},
      {"5 ", "unexpected ' '"},
      {"5 m", "unexpected ' '"},
      {"m5", "expected a number at 'm5'"},
      {"5x", "unknown unit 'x'"},
      {"5M", "unknown unit 'M'"},
      {"5min", "unknown unit 'min'"},
      {"5 minutes", "unexpected ' '"},
      {"1.5s", "fractions are not accepted"},
      {"1h30", "'30' has no unit"},
      {"30m1h", "largest to smallest"},
      {"1h1h", "largest to smallest"},
      {"+5", "expected a number"},
      {"9223372036854775808ms", "too large"},
      {"99999999999999999999", "too large"},
      {"9223372036854776s", "too large"},
      {"2562047788015h1h", "largest to smallest"},
      {"2562047788016h", "too large"},
  };
  for (const auto& [text, reason] : cases) {
    Result<Millis> d = ParseDuration(text);
    ASSERT_FALSE(d.ok()) << "accepted '" << text << "'";
    EXPECT_EQ(d.status().code(), Code::kUsage) << text;
    const std::string& message = d.status().message();
    EXPECT_NE(message.find("invalid duration '" + text + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
    EXPECT_NE(message.find("30, or a number with a unit: 500ms, 30s, 5m, 1h"), std::string::npos)
        << message;
    EXPECT_NE(message.find("1h30m"), std::string::npos) << message;
  }
}

TEST(FormatDuration, WritesTheShortestExactForm) {
  const std::vector<std::pair<int64_t, std::string>> cases = {
      {0, "0s"},
      {1, "1ms"},
      {500, "500ms"},
      {1'500, "1500ms"},
      {1'000, "1s"},
      {30'000, "30s"},
      {60'000, "1m"},
      {90'000, "1m30s"},
      {300'000, "5m"},
      {3'600'000, "1h"},
      {3'601'000, "1h1s"},
      {5'400'000, "1h30m"},
      {5'430'000, "1h30m30s"},
      {86'400'000, "24h"},
      {-30'000, "-30s"},
      {-1'500, "-1500ms"},
  };
  for (const auto& [millis, text] : cases) {
    EXPECT_EQ(FormatDuration(Millis(millis)), text) << millis;
  }
}

TEST(FormatDuration, OutputParsesBackToTheSameValue) {
  const std::vector<int64_t> values = {0,
                                       1,
                                       999,
                                       1'000,
                                       59'999,
                                       61'000,
                                       3'599'000,
                                       3'600'001,
                                       7'384'000,
                                       INT64_MAX,
                                       INT64_MAX - (INT64_MAX % 1000)};
  for (int64_t millis : values) {
    const std::string text = FormatDuration(Millis(millis));
    Result<Millis> back = ParseDuration(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().message();
    EXPECT_EQ(back->count(), millis) << text;
  }
}

}  // namespace
}  // namespace schemagate
