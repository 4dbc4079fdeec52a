#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace schemagate {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

std::string Quoted(std::string_view value) {
  std::string out;
  AppendJsonString(out, value);
  return out;
}

// An independent check: decodes code points and verifies the ranges, rather
// than the byte tables the writer uses.
bool IsWellFormedUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // cut short
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[extra] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += extra + 1;
  }
  return true;
}

TEST(AppendJsonString, EscapesQuotesBackslashesAndControlCharacters) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", R"("")"},
      {"plain text", R"("plain text")"},
      {"say \"hi\"", R"("say \"hi\"")"},
      {"C:\\path\\", R"("C:\\path\\")"},
      {"a\nb", R"("a\nb")"},
      {"a\tb", R"("a\tb")"},
      {"a\r\nb", R"("a\r\nb")"},
      {"\b\f", R"("\b\f")"},
      {std::string("nul\0byte", 8), R"("nul\u0000byte")"},
      {"\x01\x1f", R"("\u0001\u001f")"},
      {"del\x7f", R"("del\u007f")"},
      {"/ and ' stay", R"("/ and ' stay")"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(Quoted(input), expected) << input;
  }
}

TEST(AppendJsonString, PassesWellFormedUtf8ThroughUnchanged) {
  const std::vector<std::string> cases = {
      "caf\xC3\xA9",               // e-acute, two bytes
      "\xC2\x80",                  // U+0080, smallest two-byte
      "\xDF\xBF",                  // U+07FF, largest two-byte
      "\xE0\xA0\x80",              // U+0800, smallest three-byte
      "\xE2\x82\xAC",              // the euro sign
      "\xED\x9F\xBF",              // U+D7FF, just below the surrogates
      "\xEE\x80\x80",              // U+E000, just above the surrogates
      "\xEF\xBF\xBF",              // U+FFFF
      "\xF0\x90\x80\x80",          // U+10000, smallest four-byte
      "\xF0\x9F\x98\x80",          // U+1F600
      "\xF4\x8F\xBF\xBF",          // U+10FFFF, the largest code point
      "\xE6\x97\xA5\xE6\x9C\xAC",  // two CJK characters
      "\xEF\xBF\xBD",              // U+FFFD itself
  };
  for (const std::string& input : cases) {
    EXPECT_EQ(Quoted(input), "\"" + input + "\"") << input;
  }
}

TEST(AppendJsonString, ReplacesEachIllFormedSequenceWithOneReplacementCharacter) {
  const std::string& r = kReplacement;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\x80", r},                                   // a lone continuation byte
      {std::string("a\xBF") + "b", "a" + r + "b"},   // another one, between letters
      {"\xFF", r},                                   // never in UTF-8
      {"\xF5\x80\x80\x80", r + r + r + r},           // a lead byte above U+10FFFF
      {"\xC0\xAF", r + r},                           // overlong '/'
      {"\xC1\xBF", r + r},                           // overlong
      {"\xE0\x80\xAF", r + r + r},                   // overlong three-byte
      {"\xF0\x80\x80\xAF", r + r + r + r},           // overlong four-byte
      {"\xED\xA0\x80", r + r + r},                   // a surrogate (U+D800)
      {"\xF4\x90\x80\x80", r + r + r + r},           // above U+10FFFF
      {"\xC3", r},                                   // cut short at the end
      {"\xC3(", r + "("},                            // cut short by ASCII
      {"\xE2\x82", r},                               // the euro sign without its last byte
      {"\xE2\x82x", r + "x"},                        // ... then ASCII
      {"\xF0\x9F\x98", r},                           // U+1F600 without its last byte
      {std::string("\xF0\x9F\x98") + "A", r + "A"},  // ... then ASCII
      {"\xE2\x82\xE2\x82\xAC", r + "\xE2\x82\xAC"},  // a broken euro sign, then a good one
      {"bad\xFF\xC3(\xED\xA0\x80", "bad" + r + r + "(" + r + r + r},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(Quoted(input), "\"" + expected + "\"");
  }
}

TEST(AppendJsonString, OutputIsWellFormedUtf8WithoutRawControlCharactersForAnyBytes) {
  // Every one- and two-byte input, and three-byte inputs around the
  // interesting lead bytes: the output must always be valid JSON text.
  std::vector<std::string> inputs;
  for (int a = 0; a < 256; ++a) {
    inputs.push_back(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) {
      inputs.push_back(std::string{static_cast<char>(a), static_cast<char>(b)});
    }
  }
  for (int a : {0xE0, 0xED, 0xEF, 0xF0, 0xF4}) {
    for (int b = 0x70; b < 0xC8; ++b) {
      for (int c : {0x41, 0x80, 0xBF, 0xC0}) {
        inputs.push_back(
            std::string{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
      }
    }
  }
  for (const std::string& input : inputs) {
    const std::string out = Quoted(input);
    ASSERT_TRUE(IsWellFormedUtf8(out)) << testing::PrintToString(input);
    for (unsigned char c : out) {
      ASSERT_GE(c, 0x20) << testing::PrintToString(input);
    }
  }
}

TEST(JsonWriter, WritesCompactDocuments) {
  struct Case {
    std::string name;
    std::function<void(JsonWriter&)> write;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"empty object", [](JsonWriter& w) { w.BeginObject().EndObject(); }, "{}"},
      {"empty array", [](JsonWriter& w) { w.BeginArray().EndArray(); }, "[]"},
      {"one field", [](JsonWriter& w) { w.BeginObject().Field("a", 1).EndObject(); }, R"({"a":1})"},
      {"every value type",
       [](JsonWriter& w) {
         w.BeginObject()
             .Field("s", "text")
             .Field("view", std::string_view("v"))
             .Field("i", 42)
             .Field("big", int64_t{-9223372036854775807 - 1})
             .Field("t", true)
             .Field("f", false)
             .Key("n")
             .Null()
             .Field("list", std::vector<std::string>{"x", "y"})
             .Field("none", std::vector<std::string>{})
             .EndObject();
       },
       R"({"s":"text","view":"v","i":42,"big":-9223372036854775808,"t":true,"f":false,)"
       R"("n":null,"list":["x","y"],"none":[]})"},
      {"nested containers",
       [](JsonWriter& w) {
         w.BeginObject()
             .Key("runs")
             .BeginArray()
             .BeginObject()
             .Field("revision", "0001")
             .EndObject()
             .BeginObject()
             .Field("revision", "0002")
             .Key("heads")
             .BeginArray()
             .EndArray()
             .EndObject()
             .EndArray()
             .Field("after", 0)
             .EndObject();
       },
       R"({"runs":[{"revision":"0001"},{"revision":"0002","heads":[]}],"after":0})"},
      {"array of scalars",
       [](JsonWriter& w) { w.BeginArray().Int(1).String("two").Bool(true).Null().EndArray(); },
       R"([1,"two",true,null])"},
      {"keys are escaped like values",
       [](JsonWriter& w) { w.BeginObject().Field("a\"b\n", "c").EndObject(); },
       R"({"a\"b\n":"c"})"},
      {"top-level scalar", [](JsonWriter& w) { w.String("just\tthis"); }, R"("just\tthis")"},
  };
  for (const Case& c : cases) {
    JsonWriter w;
    c.write(w);
    EXPECT_EQ(w.str(), c.expected) << c.name;
  }
}

TEST(JsonWriter, ReplacesInvalidUtf8InKeysAndValues) {
  JsonWriter w;
  w.BeginObject().Field("k\xFF", "error: \xC3(").EndObject();
  EXPECT_EQ(w.str(), "{\"k" + kReplacement + "\":\"error: " + kReplacement + "(\"}");
}

}  // namespace
}  // namespace schemagate
