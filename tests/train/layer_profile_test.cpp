// The per-layer profile: every module torchvision names gets its forward and backward time, the
// layers fit inside the step that contains them, and profiling leaves the model as it found it.
#include "train/layer_profile.h"

#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"

namespace r50 {
namespace {

constexpr int kBatch = 2, kSize = 32, kClasses = 10;

// One profile for every test: three training steps of ResNet-50 on the CPU.
class LayerProfileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Rng rng(11);
    for (float& value : pixels_) value = static_cast<float>(rng.normal());
    backend_ = make_cpu_backend(0);
    model_ = std::make_unique<ResNet50>(*backend_, kClasses);
    model_->initialize(0);
    TrainStep step(*model_, SgdParams{});
    const Tensor images(pixels_.data(), {kBatch, 3, kSize, kSize}, DType::F32);
    const Tensor labels(classes_.data(), {kBatch}, DType::I32);
    profile_ = profile_layers(step, images, labels, 2);
  }
  static void TearDownTestSuite() {
    model_.reset();
    backend_.reset();
  }

  static const LayerTime* find(const std::string& name) {
    for (const LayerTime& layer : profile_.layers) {
      if (layer.layer == name) return &layer;
    }
    return nullptr;
  }

  static inline std::vector<float> pixels_ = std::vector<float>(kBatch * 3 * kSize * kSize);
  static inline std::vector<std::int32_t> classes_ = {3, 9};
  static inline std::unique_ptr<Backend> backend_;
  static inline std::unique_ptr<ResNet50> model_;
  static inline LayerProfile profile_;
};

// Every module with parameters (from the state_dict's ".weight" names), the parameter-free ones
// torchvision names, the loss and the optimiser, each once. Batch norm runs fused with the ReLU
// and the residual sum after it, as by default, so their forward time is batch norm's and the
// ReLUs are not listed; nor are the residual sums, whose backward the convolutions that meet
// there add into their input's gradient.
TEST_F(LayerProfileTest, TimesEveryLayerOnceInBothDirections) {
  std::set<std::string> expected = {"maxpool", "avgpool", "loss"};
  for (const StateEntry& entry : model_->state()) {
    const std::string suffix = ".weight";
    if (entry.name.size() > suffix.size() && entry.name.compare(entry.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      expected.insert(entry.name.substr(0, entry.name.size() - suffix.size()));
    }
  }
  std::set<std::string> seen;
  for (const LayerTime& layer : profile_.layers) {
    EXPECT_TRUE(seen.insert(layer.layer).second) << layer.layer << " twice";
    EXPECT_EQ(layer.layer.find("relu"), std::string::npos) << layer.layer;
    EXPECT_EQ(layer.layer.find(".add"), std::string::npos) << layer.layer;
    if (layer.layer == "optimizer") continue;
    EXPECT_GT(layer.forward_ms, 0) << layer.layer;
    EXPECT_GT(layer.backward_ms, 0) << layer.layer;
  }
  for (const std::string& name : expected) EXPECT_TRUE(seen.count(name)) << name << " missing";
  // 53 convolutions, 53 batch norms, fc; maxpool, avgpool; loss, optimizer.
  EXPECT_EQ(profile_.layers.size(), 53u + 53u + 1u + 2u + 2u);
}

TEST_F(LayerProfileTest, ListsLayersInTheOrderTheForwardReachesThem) {
  ASSERT_GE(profile_.layers.size(), 3u);
  EXPECT_EQ(profile_.layers[0].layer, "conv1");
  EXPECT_EQ(profile_.layers[1].layer, "bn1");
  EXPECT_EQ(profile_.layers[2].layer, "maxpool");
}

// With the separate ops, each ReLU and residual sum has its own forward time.
TEST_F(LayerProfileTest, UnfusedListsTheReluAndTheSumApart) {
  model_->set_fused_batch_norm_relu(false);
  TrainStep step(*model_, SgdParams{});
  const Tensor images(pixels_.data(), {kBatch, 3, kSize, kSize}, DType::F32);
  const Tensor labels(classes_.data(), {kBatch}, DType::I32);
  const LayerProfile unfused = profile_layers(step, images, labels, 1);
  model_->set_fused_batch_norm_relu(true);
  std::set<std::string> seen;
  for (const LayerTime& layer : unfused.layers) {
    seen.insert(layer.layer);
    if (layer.layer != "optimizer") {
      EXPECT_GT(layer.forward_ms, 0) << layer.layer;
    }
  }
  for (const char* name : {"relu", "layer1.0.relu", "layer1.0.add", "layer4.2.relu"}) {
    EXPECT_TRUE(seen.count(name)) << name << " missing";
  }
  // The fused profile's layers plus the 16 blocks' ReLU and sum, and the stem's ReLU.
  EXPECT_EQ(unfused.layers.size(), profile_.layers.size() + 33u);
}

TEST_F(LayerProfileTest, TheOptimiserIsAllBackwardAndTheLayersFitInTheStep) {
  const LayerTime* optimizer = find("optimizer");
  ASSERT_NE(optimizer, nullptr);
  EXPECT_EQ(optimizer->forward_ms, 0);
  EXPECT_GT(optimizer->backward_ms, 0);
  EXPECT_EQ(profile_.steps, 2);
  EXPECT_GT(profile_.forward_ms(), 0);
  EXPECT_LE(profile_.forward_ms() + profile_.backward_ms(), profile_.step_ms);
  EXPECT_GE(profile_.unaccounted_ms(), 0);
}

TEST_F(LayerProfileTest, SlowestComesSortedAndCapped) {
  const std::vector<LayerTime> slowest = profile_.slowest(10);
  ASSERT_EQ(slowest.size(), 10u);
  for (std::size_t i = 1; i < slowest.size(); ++i) EXPECT_GE(slowest[i - 1].total_ms(), slowest[i].total_ms());
  double largest = 0;
  for (const LayerTime& layer : profile_.layers) largest = std::max(largest, layer.total_ms());
  EXPECT_EQ(slowest[0].total_ms(), largest);
}

TEST_F(LayerProfileTest, LeavesTheModelWithoutAnObserver) { EXPECT_EQ(model_->observer(), nullptr); }

}  // namespace
}  // namespace r50
