// defines: FUZZ_CHECK
#pragma once

#include <cstdio>
#include <cstdlib>

// A property every input must keep. A failure aborts, which libFuzzer reports as a crash with the
// input saved, and which fails the corpus replay; unlike assert(), it holds in Release builds.
#define FUZZ_CHECK(cond, message)                                                        \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond, \
                   message);                                                             \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
