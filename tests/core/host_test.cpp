#include "core/host.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace r50 {
namespace {

TEST(HostCpuModel, NamesSomeProcessor) { EXPECT_FALSE(host_cpu_model().empty()); }

TEST(SecondsSince, CountsTheTimeSlept) {
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(seconds_since(start), 0.020);
}

}  // namespace
}  // namespace r50
