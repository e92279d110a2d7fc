// defines: R50_REQUIRE_GPU_OR_SKIP
#pragma once

#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

#include "ops/cuda/cuda_probe.h"

// Skips the test, saying why, when no CUDA device answers; with R50_REQUIRE_GPU=1 in the
// environment the same situation fails the test instead.
#define R50_REQUIRE_GPU_OR_SKIP()                                                        \
  do {                                                                                   \
    const ::r50::CudaProbe r50_probe_ = ::r50::probe_cuda();                             \
    if (r50_probe_.device_count == 0) {                                                  \
      const char* r50_require_ = std::getenv("R50_REQUIRE_GPU");                         \
      if (r50_require_ && std::strcmp(r50_require_, "1") == 0)                           \
        FAIL() << "R50_REQUIRE_GPU=1 but no GPU answers: " << r50_probe_.why_not;        \
      GTEST_SKIP() << "no GPU: " << r50_probe_.why_not;                                  \
    }                                                                                    \
  } while (0)
