// The CPU backend's own methods: identity, copies and fill.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;

TEST(CpuBackend, IsNamedCpuAndLivesOnTheCpu) {
  auto backend = make_cpu_backend(1);
  EXPECT_EQ(backend->name(), "cpu");
  EXPECT_EQ(backend->device(), Device::cpu());
  backend->synchronize();  // nothing is ever pending
}

TEST(CpuBackend, CopiesToAndFromTheHost) {
  const std::vector<float> source = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -1.0f};
  HostTensor<float> tensor({2, 3});
  cpu().copy_from_host(tensor.view(), source.data());
  std::vector<float> back(6, 0.0f);
  cpu().copy_to_host(back.data(), tensor.view());
  EXPECT_EQ(back, source);
}

TEST(CpuBackend, CopiesBetweenTensorsOfOneShapeAndDtype) {
  HostTensor<std::int32_t> src({4}), dst({4});
  for (int i = 0; i < 4; ++i) src[i] = i * 10;
  cpu().copy(dst.view(), src.view());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(dst[i], i * 10);
}

TEST(CpuBackend, CopyBetweenShapesNamesBoth) {
  HostTensor<float> src({2, 3}), dst({3, 2});
  EXPECT_TRUE(
      throws_naming([&] { cpu().copy(dst.view(), src.view()); }, {"copy", "[3, 2]", "[2, 3]"}));
}

TEST(CpuBackend, FillsEveryElement) {
  HostTensor<float> tensor({201, 201}, 1.0f);  // large enough to be split across threads
  cpu().fill(tensor.view(), -0.5f);
  EXPECT_TRUE(reference::all_close(tensor, HostTensor<double>(tensor.shape(), -0.5), 0.0, 0.0));
}

TEST(CpuBackend, FillRefusesNonFloatTensors) {
  HostTensor<std::int32_t> tensor({3});
  EXPECT_TRUE(throws_naming([&] { cpu().fill(tensor.view(), 1.0f); }, {"fill", "I32[3]"}));
}

}  // namespace
}  // namespace r50
