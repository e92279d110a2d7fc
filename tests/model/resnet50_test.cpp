// ResNet-50's structure, names and initialisation against torchvision's.
#include "model/resnet50.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"

namespace r50 {
namespace {

std::vector<float> to_host(Backend& backend, const Tensor& tensor) {
  std::vector<float> values(static_cast<std::size_t>(tensor.numel()));
  backend.copy_to_host(values.data(), tensor);
  return values;
}

const StateEntry& find_entry(const ResNet50& model, const std::string& name) {
  for (const StateEntry& entry : model.state()) {
    if (entry.name == name) return entry;
  }
  throw std::runtime_error("no state entry " + name);
}

TEST(ResNet50, HasTorchvisionsParameterCountFor101Classes) {
  auto backend = make_cpu_backend(1);
  EXPECT_EQ(ResNet50(*backend, 101).parameter_count(), 23'714'981);
}

TEST(ResNet50, HasTorchvisionsParameterCountFor1000Classes) {
  auto backend = make_cpu_backend(1);
  EXPECT_EQ(ResNet50(*backend, 1000).parameter_count(), 25'557'032);
}

// torchvision's state_dict: 53 convolutions, 53 batch norms (weight, bias and three buffers each)
// and fc's weight and bias: 161 parameters and 159 buffers.
TEST(ResNet50, StateDictHasTorchvisionsEntriesInItsOrder) {
  auto backend = make_cpu_backend(1);
  const ResNet50 model(*backend, 101);
  const std::vector<StateEntry>& state = model.state();
  ASSERT_EQ(state.size(), 320u);
  EXPECT_EQ(model.parameters().size(), 161u);
  const std::vector<std::string> first = {"conv1.weight",          "bn1.weight",
                                          "bn1.bias",              "bn1.running_mean",
                                          "bn1.running_var",       "bn1.num_batches_tracked",
                                          "layer1.0.conv1.weight", "layer1.0.bn1.weight"};
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(state[i].name, first[i]) << "entry " << i;
  EXPECT_EQ(state[state.size() - 2].name, "fc.weight");
  EXPECT_EQ(state.back().name, "fc.bias");
}

TEST(ResNet50, OnlyTheFirstBlockOfEachStageHasADownsample) {
  auto backend = make_cpu_backend(1);
  const ResNet50 model(*backend, 10);
  std::vector<std::string> downsampled;
  for (const StateEntry& entry : model.state()) {
    if (entry.name.find(".downsample.0.weight") != std::string::npos) downsampled.push_back(entry.name);
  }
  EXPECT_EQ(downsampled, (std::vector<std::string>{"layer1.0.downsample.0.weight", "layer2.0.downsample.0.weight",
                                                   "layer3.0.downsample.0.weight", "layer4.0.downsample.0.weight"}));
}

// v1.5 puts the stride on the 3×3 convolution; the shapes alone do not show where the stride is,
// but the weight shapes show the bottleneck widths and the expansion of 4.
TEST(ResNet50, BottleneckWidthsAndExpansionMatchTorchvision) {
  auto backend = make_cpu_backend(1);
  const ResNet50 model(*backend, 101);
  EXPECT_EQ(find_entry(model, "layer1.0.conv1.weight").tensor.shape(), Shape({64, 64, 1, 1}));
  EXPECT_EQ(find_entry(model, "layer2.0.conv2.weight").tensor.shape(), Shape({128, 128, 3, 3}));
  EXPECT_EQ(find_entry(model, "layer3.5.conv3.weight").tensor.shape(), Shape({1024, 256, 1, 1}));
  EXPECT_EQ(find_entry(model, "layer4.0.downsample.0.weight").tensor.shape(), Shape({2048, 1024, 1, 1}));
  EXPECT_EQ(find_entry(model, "fc.weight").tensor.shape(), Shape({101, 2048}));
}

TEST(ResNet50, ForwardGivesOneRowOfLogitsPerImage) {
  auto backend = make_cpu_backend(0);
  ResNet50 model(*backend, 7);
  model.initialize(0);
  std::vector<float> images(2 * 3 * 32 * 32, 0.5f);
  const Tensor input(images.data(), {2, 3, 32, 32}, DType::F32);
  const Tensor& logits = model.forward(input, BatchNormMode::RunningStatistics);
  EXPECT_EQ(logits.shape(), Shape({2, 7}));
  for (float value : to_host(*backend, logits)) EXPECT_TRUE(std::isfinite(value));
}

// kaiming_normal_(mode="fan_out", nonlinearity="relu"): std sqrt(2 / fan_out). With n draws the
// sample standard deviation is within 5 standard errors, std·5/sqrt(2n), of it.
TEST(ResNet50Init, ConvolutionsAreKaimingNormalOverFanOut) {
  auto backend = make_cpu_backend(1);
  ResNet50 model(*backend, 101);
  model.initialize(3);
  for (const std::string name : {"conv1.weight", "layer1.0.conv2.weight", "layer4.2.conv3.weight"}) {
    const Tensor& weight = find_entry(model, name).tensor;
    const double fan_out = static_cast<double>(weight.dim(0) * weight.dim(2) * weight.dim(3));
    const double expected = std::sqrt(2.0 / fan_out);
    const std::vector<float> values = to_host(*backend, weight);
    double sum = 0, sum_squares = 0;
    for (float v : values) {
      sum += v;
      sum_squares += static_cast<double>(v) * v;
    }
    const double n = static_cast<double>(values.size());
    const double mean = sum / n;
    const double stddev = std::sqrt(sum_squares / n - mean * mean);
    EXPECT_NEAR(stddev, expected, 5 * expected / std::sqrt(2 * n)) << name;
    EXPECT_NEAR(mean, 0.0, 5 * expected / std::sqrt(n)) << name;
  }
}

TEST(ResNet50Init, BatchNormStartsAsTheIdentityWithFreshStatistics) {
  auto backend = make_cpu_backend(1);
  ResNet50 model(*backend, 101);
  model.initialize(3);
  auto all_equal = [&](const std::string& name, float value) {
    const std::vector<float> values = to_host(*backend, find_entry(model, name).tensor);
    return std::all_of(values.begin(), values.end(), [value](float v) { return v == value; });
  };
  EXPECT_TRUE(all_equal("layer2.1.bn2.weight", 1.0f));
  EXPECT_TRUE(all_equal("layer2.1.bn2.bias", 0.0f));
  EXPECT_TRUE(all_equal("layer2.1.bn2.running_mean", 0.0f));
  EXPECT_TRUE(all_equal("layer2.1.bn2.running_var", 1.0f));
  EXPECT_EQ(*find_entry(model, "layer2.1.bn2.num_batches_tracked").counter, 0);
}

// nn.Linear's default: weight and bias uniform in ±1/sqrt(in_features).
TEST(ResNet50Init, ClassifierIsUniformWithinOneOverSqrtFanIn) {
  auto backend = make_cpu_backend(1);
  ResNet50 model(*backend, 101);
  model.initialize(3);
  const double bound = 1.0 / std::sqrt(2048.0);
  for (const std::string name : {"fc.weight", "fc.bias"}) {
    const std::vector<float> values = to_host(*backend, find_entry(model, name).tensor);
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    EXPECT_GE(*low, -bound) << name;
    EXPECT_LE(*high, bound) << name;
  }
  // 206,848 draws fill the interval: the extremes lie within 0.1% of the bounds.
  const std::vector<float> weight = to_host(*backend, find_entry(model, "fc.weight").tensor);
  EXPECT_GT(*std::max_element(weight.begin(), weight.end()), 0.999 * bound);
}

TEST(ResNet50Init, SameSeedSameWeightsOtherSeedOtherWeights) {
  auto backend = make_cpu_backend(1);
  ResNet50 a(*backend, 10), b(*backend, 10);
  a.initialize(11);
  b.initialize(11);
  EXPECT_EQ(to_host(*backend, a.conv1().weight().value), to_host(*backend, b.conv1().weight().value));
  b.initialize(12);
  EXPECT_NE(to_host(*backend, a.conv1().weight().value), to_host(*backend, b.conv1().weight().value));
}

// One forward and backward under batch statistics from the same weights and input, with batch
// norm and its ReLU (and residual sum) fused or not: the CPU backend's fused ops compose the
// separate ones, so any difference is in how the model wires them (which residual, which
// gradient goes to the shortcut), and every gradient and statistic must agree bit for bit.
TEST(ResNet50, FusedBatchNormReluGivesTheSeparateOpsResults) {
  auto backend = make_cpu_backend(0);
  std::vector<float> images(2 * 3 * 32 * 32), dlogits_values(2 * 5);
  Rng rng(5);
  for (float& v : images) v = static_cast<float>(rng.uniform(-2.0, 2.0));
  for (float& v : dlogits_values) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  const Tensor input(images.data(), {2, 3, 32, 32}, DType::F32);
  const Tensor dlogits(dlogits_values.data(), {2, 5}, DType::F32);

  std::vector<std::vector<float>> results[2];
  for (const bool fused : {true, false}) {
    ResNet50 model(*backend, 5);
    model.initialize(9);
    model.set_fused_batch_norm_relu(fused);
    std::vector<std::vector<float>>& result = results[fused ? 0 : 1];
    result.push_back(to_host(*backend, model.forward(input, BatchNormMode::BatchStatistics)));
    model.backward(dlogits);
    for (const Parameter* parameter : model.parameters()) result.push_back(to_host(*backend, parameter->grad));
    for (const StateEntry& entry : model.state()) {
      if (entry.kind == StateEntry::Kind::RunningStatistic) result.push_back(to_host(*backend, entry.tensor));
    }
  }
  ASSERT_EQ(results[0].size(), results[1].size());
  for (std::size_t i = 0; i < results[0].size(); ++i) EXPECT_EQ(results[0][i], results[1][i]) << "result " << i;
  // The gradients are not all zero: the comparison compared something.
  EXPECT_NE(results[0][1], std::vector<float>(results[0][1].size(), 0.0f));
}

// The same step with the model's activations and convolution weights channels-last: the CPU
// backend computes each op on row-major copies and the elementwise ones in place, so every result,
// read back in NCHW order, must agree bit for bit; and the state_dict reads in torchvision's order.
TEST(ResNet50, ChannelsLastGivesTheRowMajorResults) {
  auto backend = make_cpu_backend(0);
  std::vector<float> images(2 * 3 * 32 * 32), dlogits_values(2 * 5);
  Rng rng(6);
  for (float& v : images) v = static_cast<float>(rng.uniform(-2.0, 2.0));
  for (float& v : dlogits_values) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  const Tensor dlogits(dlogits_values.data(), {2, 5}, DType::F32);

  std::vector<std::vector<float>> results[2];
  for (const Layout layout : {Layout::RowMajor, Layout::ChannelsLast}) {
    ResNet50 model(*backend, 5, DType::F32, layout);
    model.initialize(9);
    std::vector<float> stored(images.size());
    const Tensor input(stored.data(), {2, 3, 32, 32}, DType::F32, Device::cpu(), layout);
    copy_from_host_nchw(*backend, input, images.data());
    std::vector<std::vector<float>>& result = results[layout == Layout::RowMajor ? 0 : 1];
    result.push_back(copy_to_host_as_floats(*backend, model.forward(input, BatchNormMode::BatchStatistics)));
    model.backward(dlogits);
    for (const Parameter* parameter : model.parameters()) {
      EXPECT_EQ(parameter->value.tensor().layout(), parameter->value.shape().rank() == 4 ? layout : Layout::RowMajor);
      result.push_back(copy_to_host_as_floats(*backend, parameter->value));
      result.push_back(copy_to_host_as_floats(*backend, parameter->grad));
    }
    for (const StateEntry& entry : model.state()) {
      if (entry.kind == StateEntry::Kind::RunningStatistic) result.push_back(to_host(*backend, entry.tensor));
    }
  }
  ASSERT_EQ(results[0].size(), results[1].size());
  for (std::size_t i = 0; i < results[0].size(); ++i) EXPECT_EQ(results[0][i], results[1][i]) << "result " << i;
  EXPECT_NE(results[0][2], std::vector<float>(results[0][2].size(), 0.0f));
}

TEST(ResNet50, RefusesImagesInAnotherLayoutThanItsOwn) {
  auto backend = make_cpu_backend(0);
  ResNet50 model(*backend, 5, DType::F32, Layout::ChannelsLast);
  std::vector<float> images(1 * 3 * 32 * 32);
  try {
    model.forward(Tensor(images.data(), {1, 3, 32, 32}, DType::F32), BatchNormMode::RunningStatistics);
    FAIL() << "row-major images were accepted by a channels-last model";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("channels-last as the model"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace r50
