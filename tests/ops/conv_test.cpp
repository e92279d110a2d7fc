// The CPU convolutions against the naive oracle (in double), the oracle's backward against finite
// differences, and the checks every conv op makes on its arguments.
#include "reference/conv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dParams params;
};

void PrintTo(const ConvCase& c, std::ostream* os) { *os << c.name; }

// ResNet-50's convolution shapes at a small spatial size, with sizes that are multiples of no
// block size, plus a rectangular filter with stride 3 and a padding wider than its filter.
const ConvCase kConvCases[] = {
    {"Stem7x7Stride2Pad3", {2, 3, 15, 17}, {8, 3, 7, 7}, {2, 3}},
    {"Bottleneck3x3Stride1Pad1", {2, 16, 9, 11}, {12, 16, 3, 3}, {1, 1}},
    {"Bottleneck3x3Stride2Pad1", {2, 16, 10, 9}, {12, 16, 3, 3}, {2, 1}},
    {"Pointwise1x1Stride1", {2, 70, 7, 9}, {67, 70, 1, 1}, {1, 0}},
    {"Downsample1x1Stride2", {2, 32, 9, 8}, {24, 32, 1, 1}, {2, 0}},
    {"Rectangular2x3Stride3Pad1", {3, 5, 13, 6}, {7, 5, 2, 3}, {3, 1}},
    {"Pointwise1x1Pad1", {1, 4, 5, 6}, {3, 4, 1, 1}, {1, 1}},
};

class Conv2dMatchesOracle : public ::testing::TestWithParam<ConvCase> {
 protected:
  Shape y_shape() const {
    return conv2d_output_shape(GetParam().x, GetParam().w, GetParam().params);
  }
};

TEST_P(Conv2dMatchesOracle, Forward) {
  const ConvCase& c = GetParam();
  Rng rng(1);
  const auto x = reference::uniform<float>(c.x, rng);
  const auto w = reference::uniform<float>(c.w, rng);
  HostTensor<float> y(y_shape(), 7.0f);  // stale values must be overwritten
  cpu().conv2d_forward(x.view(), w.view(), y.view(), c.params);

  const auto x64 = x.cast<double>(), w64 = w.cast<double>();
  const auto expected = reference::conv2d_forward(x64, w64, c.params);
  const auto magnitude =
      reference::conv2d_forward(reference::abs_values(x64), reference::abs_values(w64), c.params);
  EXPECT_TRUE(reference::sum_close(y, expected, magnitude, c.w[1] * c.w[2] * c.w[3]));
}

TEST_P(Conv2dMatchesOracle, BackwardData) {
  const ConvCase& c = GetParam();
  Rng rng(2);
  const auto dy = reference::uniform<float>(y_shape(), rng);
  const auto w = reference::uniform<float>(c.w, rng);
  HostTensor<float> dx(c.x, 7.0f);
  cpu().conv2d_backward_data(dy.view(), w.view(), dx.view(), c.params, false);

  const auto dy64 = dy.cast<double>(), w64 = w.cast<double>();
  const auto expected = reference::conv2d_backward_data(dy64, w64, c.x, c.params);
  const auto magnitude = reference::conv2d_backward_data(reference::abs_values(dy64),
                                                         reference::abs_values(w64), c.x, c.params);
  // Each dx element gathers at most one product per (k, r, s).
  EXPECT_TRUE(reference::sum_close(dx, expected, magnitude, c.w[0] * c.w[2] * c.w[3]));
}

// Accumulating adds the result to what dx held: one more term in each element's sum.
TEST_P(Conv2dMatchesOracle, BackwardDataAccumulates) {
  const ConvCase& c = GetParam();
  Rng rng(4);
  const auto dy = reference::uniform<float>(y_shape(), rng);
  const auto w = reference::uniform<float>(c.w, rng);
  const auto before = reference::uniform<float>(c.x, rng);
  HostTensor<float> dx = before;
  cpu().conv2d_backward_data(dy.view(), w.view(), dx.view(), c.params, true);

  const auto dy64 = dy.cast<double>(), w64 = w.cast<double>(), before64 = before.cast<double>();
  auto expected = reference::conv2d_backward_data(dy64, w64, c.x, c.params);
  auto magnitude = reference::conv2d_backward_data(reference::abs_values(dy64), reference::abs_values(w64), c.x,
                                                   c.params);
  for (std::int64_t i = 0; i < expected.numel(); ++i) {
    expected[i] += before64[i];
    magnitude[i] += std::abs(before64[i]);
  }
  EXPECT_TRUE(reference::sum_close(dx, expected, magnitude, c.w[0] * c.w[2] * c.w[3] + 1));
}

TEST_P(Conv2dMatchesOracle, BackwardFilter) {
  const ConvCase& c = GetParam();
  Rng rng(3);
  const auto x = reference::uniform<float>(c.x, rng);
  const auto dy = reference::uniform<float>(y_shape(), rng);
  HostTensor<float> dw(c.w, 7.0f);
  cpu().conv2d_backward_filter(x.view(), dy.view(), dw.view(), c.params);

  const auto x64 = x.cast<double>(), dy64 = dy.cast<double>();
  const auto expected = reference::conv2d_backward_filter(x64, dy64, c.w, c.params);
  const auto magnitude = reference::conv2d_backward_filter(
      reference::abs_values(x64), reference::abs_values(dy64), c.w, c.params);
  const Shape y = y_shape();
  EXPECT_TRUE(reference::sum_close(dw, expected, magnitude, y[0] * y[2] * y[3]));
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dMatchesOracle, ::testing::ValuesIn(kConvCases),
                         [](const auto& info) { return std::string(info.param.name); });

// The oracle's backward passes are the gradients of L = Σ dy·forward(x, w).
class ConvOracleGradient : public ::testing::Test {
 protected:
  const Conv2dParams params{2, 1};
  Rng rng{4};
  HostTensor<double> x = reference::uniform<double>({2, 3, 5, 6}, rng);
  HostTensor<double> w = reference::uniform<double>({4, 3, 3, 3}, rng);
  HostTensor<double> dy = reference::uniform<double>({2, 4, 3, 3}, rng);

  double loss() const { return reference::dot(reference::conv2d_forward(x, w, params), dy); }
};

TEST_F(ConvOracleGradient, BackwardDataMatchesFiniteDifferences) {
  const auto numeric = reference::numerical_gradient(x, [&] { return loss(); });
  EXPECT_TRUE(reference::gradient_close(reference::conv2d_backward_data(dy, w, x.shape(), params),
                                        numeric));
}

TEST_F(ConvOracleGradient, BackwardFilterMatchesFiniteDifferences) {
  const auto numeric = reference::numerical_gradient(w, [&] { return loss(); });
  EXPECT_TRUE(reference::gradient_close(reference::conv2d_backward_filter(x, dy, w.shape(), params),
                                        numeric));
}

TEST(Conv2dScratch, ComesFromTheBackendAllocatorAndIsReturned) {
  auto backend = make_cpu_backend(1);
  HostTensor<float> x({2, 4, 6, 6}, 1.0f), w({5, 4, 3, 3}, 1.0f), y({2, 5, 6, 6});
  backend->conv2d_forward(x.view(), w.view(), y.view(), {1, 1});
  const AllocatorStats stats = backend->allocator().stats();
  EXPECT_GE(stats.peak_allocated_bytes, sizeof(float) * 4 * 3 * 3 * 6 * 6);  // one image's col
  EXPECT_EQ(stats.allocated_bytes, 0u);
}

TEST(Conv2dScratch, PointwiseStride1UsesNone) {
  auto backend = make_cpu_backend(1);
  HostTensor<float> x({2, 4, 6, 6}, 1.0f), w({5, 4, 1, 1}, 1.0f), y({2, 5, 6, 6}), dx({2, 4, 6, 6});
  backend->conv2d_forward(x.view(), w.view(), y.view(), {1, 0});
  backend->conv2d_backward_data(y.view(), w.view(), dx.view(), {1, 0}, false);
  backend->conv2d_backward_filter(x.view(), y.view(), w.view(), {1, 0});
  EXPECT_EQ(backend->allocator().stats().peak_allocated_bytes, 0u);
}

TEST(Conv2dChecks, WrongOutputShapeNamesBothShapes) {
  HostTensor<float> x({2, 3, 8, 8}), w({4, 3, 3, 3}), y({2, 4, 7, 8});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().conv2d_forward(x.view(), w.view(), y.view(), {1, 1});
      },
      {"conv2d_forward", "y", "[2, 4, 7, 8]", "[2, 4, 8, 8]"}));
}

TEST(Conv2dChecks, ChannelMismatchNamesBothShapes) {
  HostTensor<float> x({2, 3, 8, 8}), w({4, 5, 3, 3}), y({2, 4, 8, 8});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().conv2d_forward(x.view(), w.view(), y.view(), {1, 1});
      },
      {"conv2d_forward", "[2, 3, 8, 8]", "[4, 5, 3, 3]"}));
}

TEST(Conv2dChecks, WrongDtypeIsRefused) {
  HostTensor<double> x({2, 3, 8, 8});
  HostTensor<float> w({4, 3, 3, 3}), y({2, 4, 8, 8});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().conv2d_forward(x.view(), w.view(), y.view(), {1, 1});
      },
      {"conv2d_forward", "x", "F64[2, 3, 8, 8]", "F32"}));
}

TEST(Conv2dChecks, ChannelsLastInputIsRefused) {
  HostTensor<float> x({2, 3, 8, 8}), w({4, 3, 3, 3}), y({2, 4, 8, 8});
  const Tensor nhwc(x.data(), x.shape(), DType::F32, Device::cpu(), Layout::ChannelsLast);
  EXPECT_TRUE(throws_naming([&] { cpu().conv2d_forward(nhwc, w.view(), y.view(), {1, 1}); },
                            {"conv2d_forward", "x", "channels-last", "row-major"}));
}

TEST(Conv2dChecks, TensorOnAnotherDeviceIsRefused) {
  HostTensor<float> x({2, 3, 8, 8}), w({4, 3, 3, 3}), y({2, 4, 8, 8});
  const Tensor on_gpu(y.data(), y.shape(), DType::F32, Device::cuda(0));
  EXPECT_TRUE(throws_naming([&] { cpu().conv2d_forward(x.view(), w.view(), on_gpu, {1, 1}); },
                            {"conv2d_forward", "y", "cuda:0", "cpu"}));
}

TEST(Conv2dChecks, BackwardDataChecksDyAgainstDxAndW) {
  HostTensor<float> dy({2, 4, 4, 4}), w({4, 3, 3, 3}), dx({2, 3, 8, 8});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().conv2d_backward_data(dy.view(), w.view(), dx.view(), {1, 1}, false);
      },
      {"conv2d_backward_data", "dy", "[2, 4, 4, 4]", "[2, 4, 8, 8]"}));
}

TEST(Conv2dChecks, BackwardFilterChecksDwAgainstXAndDy) {
  HostTensor<float> x({2, 3, 8, 8}), dy({2, 4, 8, 8}), dw({4, 2, 3, 3});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().conv2d_backward_filter(x.view(), dy.view(), dw.view(), {1, 1});
      },
      {"conv2d_backward_filter", "dw", "[4, 2, 3, 3]", "[4, 3, 3, 3]"}));
}

}  // namespace
}  // namespace r50
