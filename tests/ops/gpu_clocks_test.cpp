// NVML's reading where it cannot answer: no driver library (a machine without a GPU) or a GPU it
// does not know. Either way the answer says so, and why, instead of failing.
#include "ops/cuda/gpu_clocks.h"

#include <gtest/gtest.h>

namespace r50 {
namespace {

TEST(GpuClocks, AnUnknownGpuGetsNoFiguresAndAReason) {
  const GpuClocks clocks = read_gpu_clocks("00000000:FF:1F.7");
  EXPECT_FALSE(clocks.known);
  EXPECT_NE(clocks.unknown_why.find("NVML"), std::string::npos) << clocks.unknown_why;
  EXPECT_EQ(clocks.max_sm_mhz, 0);
  EXPECT_EQ(clocks.power_limit_watts, 0);
}

}  // namespace
}  // namespace r50
