// defines: R50_REQUIRE_GPU_OR_SKIP, has_compute_capability_8_0
#pragma once

#include <cstdlib>
#include <cstring>

#include <iostream>

#include <gtest/gtest.h>

#include "core/device_info.h"
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

namespace r50 {

// Whether `info`'s GPU has compute capability 8.0, which tf32 and bf16 (`what`) need; where it has
// not, says so, for a test that then checks nothing (tests/torchvision checks the refusal).
inline bool has_compute_capability_8_0(const DeviceInfo& info, const char* what) {
  if (info.compute_capability_major >= 8) return true;
  std::cout << what << " needs compute capability 8.0; " << info.name << " is " << info.compute_capability()
            << ": nothing to check\n";
  return false;
}

}  // namespace r50
