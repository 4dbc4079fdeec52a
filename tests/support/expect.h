// Substring checks on what a process printed, with the text in the failure.
#ifndef SCHEMAGATE_TESTS_SUPPORT_EXPECT_H_
#define SCHEMAGATE_TESTS_SUPPORT_EXPECT_H_

#include <string>

namespace schemagate::testing {

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace schemagate::testing

#define EXPECT_CONTAINS(haystack, needle)                                                                       \
  EXPECT_TRUE(::schemagate::testing::Contains(haystack, needle)) << "expected to find: " << (needle) << "\nin:\n" \
                                                                 << (haystack)
#define EXPECT_NOT_CONTAINS(haystack, needle)                                                                      \
  EXPECT_FALSE(::schemagate::testing::Contains(haystack, needle)) << "expected not to find: " << (needle) << "\nin:\n" \
                                                                  << (haystack)

#endif  // SCHEMAGATE_TESTS_SUPPORT_EXPECT_H_
