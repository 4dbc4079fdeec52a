#include <gtest/gtest.h>

#include <string>

#include "core/encoding.h"

namespace schemagate {
namespace {

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

TEST(TruncateUtf8, ShortTextIsUnchanged) {
  EXPECT_EQ(TruncateUtf8("relation \"users\" does not exist", 1024), "relation \"users\" does not exist");
  EXPECT_EQ(TruncateUtf8("", 10), "");
  EXPECT_EQ(TruncateUtf8("abc", 3), "abc");
}

TEST(TruncateUtf8, CutsOnCharacterBoundariesAndCountsCharactersNotBytes) {
  // 1,500 characters of two to four bytes each: a byte cut at 1,024 would
  // split one and leave invalid UTF-8 that an API server refuses.
  for (const std::string ch : {"é", "€", "😀"}) {
    std::string s;
    for (int i = 0; i < 1500; ++i) s += ch;
    const std::string cut = TruncateUtf8(s, 1024);
    EXPECT_EQ(FirstInvalidUtf8(cut), std::string::npos) << ch;
    EXPECT_EQ(CodePoints(cut), 1024u) << ch;
    EXPECT_EQ(cut.substr(cut.size() - 3), "...");
    EXPECT_EQ(cut.substr(0, ch.size() * 1021), s.substr(0, ch.size() * 1021));
  }
  // Exactly at the limit: nothing is cut.
  std::string exact;
  for (int i = 0; i < 1024; ++i) exact += "ü";
  EXPECT_EQ(TruncateUtf8(exact, 1024), exact);
}

TEST(TruncateUtf8, BrokenSequencesBecomeReplacementCharacters) {
  EXPECT_EQ(TruncateUtf8("a\xC3", 10), "a\xEF\xBF\xBD");
  EXPECT_EQ(TruncateUtf8("\xFF\xFEz", 10), "\xEF\xBF\xBD\xEF\xBF\xBDz");
  EXPECT_EQ(FirstInvalidUtf8(TruncateUtf8("x\xE2\x82", 2)), std::string::npos);
}

TEST(TruncateUtf8, TinyLimitsStillHold) {
  EXPECT_EQ(TruncateUtf8("abcdef", 2), "ab");
  EXPECT_EQ(TruncateUtf8("abcdef", 3), "...");
  EXPECT_EQ(TruncateUtf8("abcdef", 4), "a...");
  EXPECT_EQ(TruncateUtf8("abcdef", 0), "");
}

}  // namespace
}  // namespace schemagate
