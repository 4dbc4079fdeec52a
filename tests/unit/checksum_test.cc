#include "core/checksum.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace schemagate {
namespace {

TEST(Sha256Hex, MatchesPublishedTestVectors) {
  // FIPS 180-2 examples and other well-known digests.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"The quick brown fox jumps over the lazy dog",
       "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
      {std::string(1, '\0'), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
      {std::string(1'000'000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const auto& [input, digest] : cases) {
    EXPECT_EQ(Sha256Hex(input), digest) << input.substr(0, 60);
  }
}

TEST(NormalizeForChecksum, StripsTheBomAndTurnsEveryLineEndingIntoLf) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"SELECT 1;\n", "SELECT 1;\n"},
      {"a\r\nb\r\n", "a\nb\n"},
      {"a\rb\r", "a\nb\n"},
      {"a\r\rb", "a\n\nb"},
      {"a\n\rb", "a\n\nb"},
      {"a\r\r\nb", "a\n\nb"},
      {"\xEF\xBB\xBF", ""},
      {"\xEF\xBB\xBFSELECT 1;\r\n", "SELECT 1;\n"},
      {"\xEF\xBB\xBF\xEF\xBB\xBFx", "\xEF\xBB\xBFx"},  // only one leading BOM is stripped
      {"x\xEF\xBB\xBFy", "x\xEF\xBB\xBFy"},            // a BOM inside the text stays
      {"\xEF\xBBx", "\xEF\xBBx"},                      // part of a BOM is no BOM
      {"  trailing spaces  \n\n", "  trailing spaces  \n\n"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(NormalizeForChecksum(input), expected) << testing::PrintToString(input);
  }
}

TEST(Checksum, FileSavedOnWindowsKeepsItsChecksumButAnEditChangesIt) {
  const std::string unix_file = "CREATE TABLE users (id int);\nDROP TABLE users;\n";
  const std::string windows_file =
      "\xEF\xBB\xBF"
      "CREATE TABLE users (id int);\r\nDROP TABLE users;\r\n";
  const std::string edited = "CREATE TABLE users (id bigint);\nDROP TABLE users;\n";
  const std::string checksum = Sha256Hex(NormalizeForChecksum(unix_file));
  EXPECT_EQ(Sha256Hex(NormalizeForChecksum(windows_file)), checksum);
  EXPECT_NE(Sha256Hex(NormalizeForChecksum(edited)), checksum);
  EXPECT_EQ(checksum.size(), 64u);
  EXPECT_EQ(checksum.find_first_not_of("0123456789abcdef"), std::string::npos) << checksum;
}

}  // namespace
}  // namespace schemagate
