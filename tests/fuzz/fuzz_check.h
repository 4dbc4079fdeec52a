// FUZZ_CHECK: an invariant of a fuzz target. A failure prints the condition
// and aborts, so libFuzzer keeps the input as a crash like any other.
#ifndef SCHEMAGATE_TESTS_FUZZ_FUZZ_CHECK_H_
#define SCHEMAGATE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

#endif  // SCHEMAGATE_TESTS_FUZZ_FUZZ_CHECK_H_
