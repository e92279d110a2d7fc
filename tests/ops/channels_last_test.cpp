// Channels-last (NHWC) tensors on the CPU backend (backend.h, Layouts): every op that reads
// planes gives, bit for bit, its row-major result in the other memory order, since the backend
// computes on row-major copies; elementwise ops take any layout as it lies; and a call that mixes
// layouts is refused, naming the argument.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"

namespace r50 {
namespace {

// Host values of a 4-D tensor in NCHW order, and the same tensor held channels-last.
struct Images {
  Shape shape;
  std::vector<float> nchw;
  std::vector<float> nhwc;

  Images(const Shape& s, std::uint64_t seed) : shape(s), nchw(static_cast<std::size_t>(s.numel())) {
    Rng rng(seed);
    for (float& value : nchw) value = static_cast<float>(rng.uniform(-1.0, 1.0));
    nhwc.resize(nchw.size());
    copy_from_host_nchw(cpu(), channels_last(), nchw.data());
  }
  Tensor row_major() { return Tensor(nchw.data(), shape, DType::F32); }
  Tensor channels_last() { return Tensor(nhwc.data(), shape, DType::F32, Device::cpu(), Layout::ChannelsLast); }
  // The channels-last tensor's values in NCHW order.
  std::vector<float> read_channels_last() { return copy_to_host_as_floats(cpu(), channels_last()); }
};

TEST(ChannelsLast, HostCopiesTransposeBetweenTheOrders) {
  Images x({2, 3, 2, 5}, 1);
  // Element (n, c, h, w) lies at ((n·H + h)·W + w)·C + c.
  EXPECT_EQ(x.nhwc[((1 * 2 + 1) * 5 + 4) * 3 + 2], x.nchw[((1 * 3 + 2) * 2 + 1) * 5 + 4]);
  EXPECT_EQ(x.read_channels_last(), x.nchw);
}

TEST(ChannelsLast, ConvolutionsGiveTheRowMajorResults) {
  const Conv2dParams params{2, 1};
  Images x({2, 5, 9, 7}, 2), w({3, 5, 3, 3}, 3);
  const Shape ys = conv2d_output_shape(x.shape, w.shape, params);
  Images y(ys, 4), y_nchw(ys, 4), dy(ys, 5), dx(x.shape, 6), dx_nchw(x.shape, 6), dw(w.shape, 7), dw_nchw(w.shape, 7);
  cpu().conv2d_forward(x.channels_last(), w.channels_last(), y.channels_last(), params);
  cpu().conv2d_forward(x.row_major(), w.row_major(), y_nchw.row_major(), params);
  EXPECT_EQ(y.read_channels_last(), y_nchw.nchw);
  cpu().conv2d_backward_data(dy.channels_last(), w.channels_last(), dx.channels_last(), params, true);
  cpu().conv2d_backward_data(dy.row_major(), w.row_major(), dx_nchw.row_major(), params, true);
  EXPECT_EQ(dx.read_channels_last(), dx_nchw.nchw);
  cpu().conv2d_backward_filter(x.channels_last(), dy.channels_last(), dw.channels_last(), params);
  cpu().conv2d_backward_filter(x.row_major(), dy.row_major(), dw_nchw.row_major(), params);
  EXPECT_EQ(dw.read_channels_last(), dw_nchw.nchw);
}

TEST(ChannelsLast, FusedBatchNormGivesTheRowMajorResults) {
  const Shape shape{3, 5, 4, 6};
  Images x(shape, 8), residual(shape, 9), y(shape, 10), y_nchw(shape, 10), dy(shape, 11), dy_nchw(shape, 11);
  Images dx(shape, 12), dx_nchw(shape, 12), dres(shape, 13), dres_nchw(shape, 13);
  std::vector<float> gamma = {1.0f, 0.5f, 2.0f, -1.0f, 0.25f}, beta = {0.1f, -0.2f, 0.0f, 0.3f, 1.0f};
  struct Channels {
    std::vector<float> rm = std::vector<float>(5, 0.0f), rv = std::vector<float>(5, 1.0f), mean = std::vector<float>(5),
                       invstd = std::vector<float>(5), dgamma = std::vector<float>(5), dbeta = std::vector<float>(5);
    Tensor t(std::vector<float>& v) { return Tensor(v.data(), {5}, DType::F32); }
  } a, b;
  const Tensor g(gamma.data(), {5}, DType::F32), be(beta.data(), {5}, DType::F32);
  cpu().batch_norm_relu_forward_training(x.channels_last(), g, be, a.t(a.rm), a.t(a.rv), residual.channels_last(),
                                         y.channels_last(), a.t(a.mean), a.t(a.invstd), {});
  cpu().batch_norm_relu_forward_training(x.row_major(), g, be, b.t(b.rm), b.t(b.rv), residual.row_major(),
                                         y_nchw.row_major(), b.t(b.mean), b.t(b.invstd), {});
  EXPECT_EQ(y.read_channels_last(), y_nchw.nchw);
  EXPECT_EQ(a.rv, b.rv);
  cpu().batch_norm_relu_backward_training(x.channels_last(), y.channels_last(), dy.channels_last(), g, be, a.t(a.mean),
                                          a.t(a.invstd), dx.channels_last(), dres.channels_last(), a.t(a.dgamma),
                                          a.t(a.dbeta));
  cpu().batch_norm_relu_backward_training(x.row_major(), y_nchw.row_major(), dy_nchw.row_major(), g, be, b.t(b.mean),
                                          b.t(b.invstd), dx_nchw.row_major(), dres_nchw.row_major(), b.t(b.dgamma),
                                          b.t(b.dbeta));
  EXPECT_EQ(dx.read_channels_last(), dx_nchw.nchw);
  EXPECT_EQ(dres.read_channels_last(), dres_nchw.nchw);
  EXPECT_EQ(a.dgamma, b.dgamma);
  EXPECT_EQ(a.dbeta, b.dbeta);
}

TEST(ChannelsLast, PoolingAndNormalisationGiveTheRowMajorResults) {
  const Pool2dParams pool;
  Images x({2, 4, 9, 9}, 14);
  const Shape ys = max_pool2d_output_shape(x.shape, pool);
  Images y(ys, 15), y_nchw(ys, 15), dy(ys, 16), dx(x.shape, 17), dx_nchw(x.shape, 17);
  cpu().max_pool2d_forward(x.channels_last(), y.channels_last(), pool);
  cpu().max_pool2d_forward(x.row_major(), y_nchw.row_major(), pool);
  EXPECT_EQ(y.read_channels_last(), y_nchw.nchw);
  cpu().max_pool2d_backward(x.channels_last(), y.channels_last(), dy.channels_last(), dx.channels_last(), pool);
  cpu().max_pool2d_backward(x.row_major(), y_nchw.row_major(), dy.row_major(), dx_nchw.row_major(), pool);
  EXPECT_EQ(dx.read_channels_last(), dx_nchw.nchw);

  std::vector<float> features(8), features_nchw(8);
  cpu().global_avg_pool_forward(x.channels_last(), Tensor(features.data(), {2, 4}, DType::F32));
  cpu().global_avg_pool_forward(x.row_major(), Tensor(features_nchw.data(), {2, 4}, DType::F32));
  EXPECT_EQ(features, features_nchw);
  cpu().global_avg_pool_backward(Tensor(features.data(), {2, 4}, DType::F32), dx.channels_last());
  cpu().global_avg_pool_backward(Tensor(features.data(), {2, 4}, DType::F32), dx_nchw.row_major());
  EXPECT_EQ(dx.read_channels_last(), dx_nchw.nchw);

  std::vector<std::uint8_t> pixels(2 * 5 * 6 * 3);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 37 % 256);
  Images images({2, 3, 5, 6}, 18), images_nchw({2, 3, 5, 6}, 18);
  const Tensor raw(pixels.data(), {2, 5, 6, 3}, DType::U8);
  cpu().normalize_images(raw, images.channels_last(), kImageNetMean, kImageNetStd);
  cpu().normalize_images(raw, images_nchw.row_major(), kImageNetMean, kImageNetStd);
  EXPECT_EQ(images.read_channels_last(), images_nchw.nchw);
}

TEST(ChannelsLast, ElementwiseOpsTakeTheLayoutAsItLies) {
  Images a({2, 3, 4, 5}, 19), b({2, 3, 4, 5}, 20);
  std::vector<float> expected(a.nchw.size());
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = a.nchw[i] + b.nchw[i];
  cpu().add(a.channels_last(), b.channels_last(), a.channels_last());
  EXPECT_EQ(a.read_channels_last(), expected);
}

TEST(ChannelsLast, AnOpRefusesTensorsOfTwoLayouts) {
  Images x({2, 3, 8, 8}, 21), w({4, 3, 1, 1}, 22), y({2, 4, 8, 8}, 23);
  EXPECT_TRUE(throws_naming([&] { cpu().conv2d_forward(x.channels_last(), w.row_major(), y.channels_last(), {}); },
                            {"conv2d_forward", "w", "row-major", "expected a channels-last tensor"}));
  Images a({2, 3, 4, 5}, 24);
  EXPECT_TRUE(throws_naming([&] { cpu().add(a.channels_last(), a.row_major(), a.channels_last()); },
                            {"add", "b", "row-major", "channels-last"}));
}

}  // namespace
}  // namespace r50
