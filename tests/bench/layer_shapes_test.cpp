// bench_layers' list of layer ops against the model's own description of itself
// (resnet50_convolutions.h), and the costs each op is measured against.
#include "layer_shapes.h"

#include <gtest/gtest.h>

#include "layer_costs.h"
#include "resnet50_convolutions.h"

namespace r50 {
namespace {

std::vector<LayerShape> of_op(const std::vector<LayerShape>& layers, LayerOp op) {
  std::vector<LayerShape> found;
  for (const LayerShape& layer : layers) {
    if (layer.op == op) found.push_back(layer);
  }
  return found;
}

int calls(const std::vector<LayerShape>& layers) {
  int total = 0;
  for (const LayerShape& layer : layers) total += layer.calls_per_step;
  return total;
}

bool lists(const std::vector<LayerShape>& layers, const ModelConvolution& c) {
  for (const LayerShape& layer : layers) {
    if (layer.x == c.x && layer.w == c.w && layer.conv.stride == c.stride && layer.conv.padding == c.padding) {
      return true;
    }
  }
  return false;
}

// How many of the model's state entries end in `suffix`.
int count_state(const std::string& suffix) {
  RecordingBackend backend;
  const ResNet50 model(backend, 1000);
  int count = 0;
  for (const StateEntry& entry : model.state()) {
    const std::string& name = entry.name;
    count += name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return count;
}

// Image sizes from torchvision's usual one down to the smallest that leaves layer4 a pixel.
class EveryImageSize : public testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(LayerShapes, EveryImageSize, testing::Values(224, 64, 32));

TEST_P(EveryImageSize, ForwardConvolutionsAreTheModelsDistinctOnes) {
  const std::vector<ModelConvolution> model = model_convolutions(2, GetParam());
  const std::vector<ModelConvolution> distinct = distinct_convolutions(model);
  const std::vector<LayerShape> forward = of_op(training_step_layers(2, GetParam()), LayerOp::ConvForward);
  ASSERT_EQ(forward.size(), distinct.size());
  for (const ModelConvolution& c : distinct) EXPECT_TRUE(lists(forward, c)) << c.name << " " << c.x.str();
  EXPECT_EQ(calls(forward), static_cast<int>(model.size()));  // every convolution once a step
}

TEST_P(EveryImageSize, BackwardFilterHasEveryConvolutionAndBackwardDataAllButTheStems) {
  const std::vector<ModelConvolution> model = model_convolutions(2, GetParam());
  const std::vector<LayerShape> layers = training_step_layers(2, GetParam());
  const std::vector<LayerShape> filter = of_op(layers, LayerOp::ConvBackwardFilter);
  const std::vector<LayerShape> data = of_op(layers, LayerOp::ConvBackwardData);
  EXPECT_EQ(filter.size(), distinct_convolutions(model).size());
  EXPECT_EQ(calls(filter), static_cast<int>(model.size()));
  // The images need no gradient, so conv1 has no backward-data. A shape may come twice: writing
  // dx, and adding into it where a block's two paths meet.
  const std::vector<ModelConvolution> with_dx = distinct_convolutions(model, "conv1.weight");
  std::vector<LayerShape> data_shapes;
  for (const LayerShape& layer : data) {
    if (!lists(data_shapes, ModelConvolution{"", layer.x, layer.w, layer.conv.stride, layer.conv.padding})) {
      data_shapes.push_back(layer);
    }
  }
  ASSERT_EQ(data_shapes.size(), with_dx.size());
  for (const ModelConvolution& c : with_dx) EXPECT_TRUE(lists(data, c)) << c.name;
  EXPECT_EQ(calls(data), static_cast<int>(model.size()) - 1);
}

TEST(LayerShapes, TorchvisionsResNet50At224HasTwentyThreeDistinctConvolutions) {
  // The oracle itself, against a count made by hand from torchvision's definition: the stem, four
  // in layer1 (its conv3 and downsample.0 share a shape) and six in each of layer2 to layer4.
  EXPECT_EQ(distinct_convolutions(model_convolutions(64, 224)).size(), 1u + 4 + 6 + 6 + 6);
}

TEST(LayerShapes, EveryBatchNormRunsForwardAndBackwardOnceAStep) {
  const int batch_norms = count_state(".running_mean");
  const std::vector<LayerShape> unfused = training_step_layers(2, 64, 1000, false);
  EXPECT_EQ(calls(of_op(unfused, LayerOp::BatchNormForward)), batch_norms);
  EXPECT_EQ(calls(of_op(unfused, LayerOp::BatchNormBackward)), batch_norms);
  EXPECT_EQ(calls(of_op(unfused, LayerOp::ReluForward)), batch_norms - 4);  // all but the 4 downsample.1

  // Fused: each block's bn1 and bn2 and the stem's bn1 with their ReLU (2·16 + 1), each block's bn3
  // with the residual sum and ReLU (16), the four shortcut batch norms alone; no separate ReLU.
  const std::vector<LayerShape> fused = training_step_layers(2, 64);
  EXPECT_EQ(calls(of_op(fused, LayerOp::BatchNormReluForward)), 33);
  EXPECT_EQ(calls(of_op(fused, LayerOp::BatchNormReluBackward)), 33);
  EXPECT_EQ(calls(of_op(fused, LayerOp::BatchNormAddReluForward)), 16);
  EXPECT_EQ(calls(of_op(fused, LayerOp::BatchNormAddReluBackward)), 16);
  EXPECT_EQ(calls(of_op(fused, LayerOp::BatchNormForward)), 4);
  EXPECT_EQ(calls(of_op(fused, LayerOp::BatchNormBackward)), 4);
  EXPECT_EQ(33 + 16 + 4, batch_norms);
  EXPECT_EQ(calls(of_op(fused, LayerOp::ReluForward)) + calls(of_op(fused, LayerOp::ReluBackward)), 0);
  // No residual sum at all: where a block's paths meet in the backward, the second convolution's
  // backward-data adds into the first's dx, once per block.
  EXPECT_EQ(calls(of_op(fused, LayerOp::Add)), 0);
  int accumulating = 0;
  for (const LayerShape& layer : of_op(fused, LayerOp::ConvBackwardData)) {
    accumulating += layer.accumulate ? layer.calls_per_step : 0;
  }
  EXPECT_EQ(accumulating, 16);
}

TEST(LayerShapes, TheStemsPoolAndTheHeadAreListedOnce) {
  const std::vector<LayerShape> layers = training_step_layers(2, 224);
  const std::vector<LayerShape> pool = of_op(layers, LayerOp::MaxPoolForward);
  ASSERT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool[0].x, Shape({2, 64, 112, 112}));
  EXPECT_EQ(pool[0].calls_per_step, 1);
  const std::vector<LayerShape> head = of_op(layers, LayerOp::GlobalAvgPoolForward);
  ASSERT_EQ(head.size(), 1u);
  EXPECT_EQ(head[0].x, Shape({2, 2048, 7, 7}));
}

TEST(LayerShapes, NamesSayShapeStrideAndPadding) {
  const std::vector<LayerShape> layers = training_step_layers(64, 224);
  ASSERT_FALSE(layers.empty());
  EXPECT_EQ(layer_op_name(layers[0].op) + "/" + layer_shape_label(layers[0]),
            "conv_forward/C3_H224_K64_R7_S7_stride2_pad3");
  const LayerShape pool = of_op(layers, LayerOp::MaxPoolBackward).at(0);
  EXPECT_EQ(layer_op_name(pool.op) + "/" + layer_shape_label(pool), "max_pool_backward/C64_H112_R3_stride2_pad1");
  const LayerShape residual = of_op(training_step_layers(64, 224, 1000, false), LayerOp::Add).at(0);
  EXPECT_TRUE(residual.in_place);  // the model sums into the block's output
  EXPECT_EQ(layer_shape_label(residual), "C256_H56_inplace");
  const LayerShape fused = of_op(layers, LayerOp::BatchNormAddReluForward).at(0);
  EXPECT_EQ(layer_op_name(fused.op) + "/" + layer_shape_label(fused), "batch_norm_add_relu_forward/C256_H56");
}

TEST(LayerCosts, AConvolutionDoesTwoFlopsPerProductInEveryDirection) {
  LayerShape conv;
  conv.x = {2, 4, 8, 8};
  conv.w = {6, 4, 3, 3};
  conv.conv = {2, 1};  // output 4×4
  const double flops = 2.0 * (2 * 6 * 4 * 4) * (4 * 3 * 3);
  for (LayerOp op : {LayerOp::ConvForward, LayerOp::ConvBackwardData, LayerOp::ConvBackwardFilter}) {
    conv.op = op;
    EXPECT_DOUBLE_EQ(layer_flops(conv), flops) << layer_op_name(op);
    EXPECT_DOUBLE_EQ(layer_min_bytes(conv), 4.0 * (2 * 4 * 8 * 8 + 6 * 4 * 3 * 3 + 2 * 6 * 4 * 4));
  }
}

TEST(LayerCosts, BatchNormReadsItsInputTwiceForwardAndTwoTensorsTwiceBackward) {
  LayerShape bn;
  bn.x = {2, 3, 5, 5};
  const double x = 4.0 * 2 * 3 * 5 * 5;
  bn.op = LayerOp::BatchNormForward;
  EXPECT_DOUBLE_EQ(layer_min_bytes(bn), 3 * x);
  bn.op = LayerOp::BatchNormBackward;
  EXPECT_DOUBLE_EQ(layer_min_bytes(bn), 5 * x);
  EXPECT_DOUBLE_EQ(layer_flops(bn), 0.0);
}

TEST(LayerCosts, FusedBatchNormSavesTheSeparateOpsPasses) {
  LayerShape layer;
  layer.x = {2, 3, 5, 5};
  const auto bytes = [&](LayerOp op) {
    layer.op = op;
    return layer_min_bytes(layer);
  };
  // Forward: the ReLU's read and write, and the sum's, are gone; the residual is still read once.
  EXPECT_DOUBLE_EQ(bytes(LayerOp::BatchNormReluForward), bytes(LayerOp::BatchNormForward));
  EXPECT_DOUBLE_EQ(bytes(LayerOp::BatchNormAddReluForward),
                   bytes(LayerOp::BatchNormForward) + bytes(LayerOp::Add) / 3);
  EXPECT_LT(bytes(LayerOp::BatchNormAddReluForward),
            bytes(LayerOp::BatchNormForward) + bytes(LayerOp::Add) + bytes(LayerOp::ReluForward));
  // Backward: ReLU's mask is recomputed, or with a residual read from y.
  EXPECT_DOUBLE_EQ(bytes(LayerOp::BatchNormReluBackward), bytes(LayerOp::BatchNormBackward));
  EXPECT_LE(bytes(LayerOp::BatchNormAddReluBackward),
            bytes(LayerOp::BatchNormBackward) + bytes(LayerOp::ReluBackward));
}

TEST(LayerCosts, HalfPrecisionConvolutionsMoveTwoBytesAnElementAndDoTheSameFlops) {
  LayerShape conv;
  conv.x = {2, 4, 8, 8};
  conv.w = {6, 4, 3, 3};
  conv.conv = {2, 1};  // output 4×4
  const double elements = 2 * 4 * 8 * 8 + 6 * 4 * 3 * 3 + 2 * 6 * 4 * 4;
  for (DType dtype : {DType::F16, DType::BF16}) {
    conv.dtype = dtype;
    for (LayerOp op : {LayerOp::ConvForward, LayerOp::ConvBackwardData, LayerOp::ConvBackwardFilter}) {
      conv.op = op;
      EXPECT_DOUBLE_EQ(layer_flops(conv), 2.0 * (2 * 6 * 4 * 4) * (4 * 3 * 3)) << layer_op_name(op);
      EXPECT_DOUBLE_EQ(layer_min_bytes(conv), 2.0 * elements) << layer_op_name(op) << " " << dtype_name(dtype);
    }
  }
  // Adding into dx reads it as well, at two bytes an element too.
  conv.op = LayerOp::ConvBackwardData;
  conv.accumulate = true;
  EXPECT_DOUBLE_EQ(layer_min_bytes(conv), 2.0 * (elements + 2 * 4 * 8 * 8));
}

TEST(LayerCosts, HalfPrecisionHalvesTheBytesOfEveryOpOfAStep) {
  // Batch norm's per-channel vectors, F32 under every precision, are left out of the count.
  for (const bool fused : {true, false}) {
    for (LayerShape layer : training_step_layers(2, 64, 1000, fused)) {
      ASSERT_EQ(layer.dtype, DType::F32);
      const double f32 = layer_min_bytes(layer);
      ASSERT_GT(f32, 0) << layer_op_name(layer.op);
      for (DType dtype : {DType::F16, DType::BF16}) {
        layer.dtype = dtype;
        EXPECT_DOUBLE_EQ(layer_min_bytes(layer), f32 / 2) << layer_op_name(layer.op) << " " << dtype_name(dtype);
      }
    }
  }
}

TEST(LayerCosts, TheRooflineIsTheSlowerOfComputeAndMemory) {
  LayerShape conv;
  conv.op = LayerOp::ConvForward;
  conv.x = {1, 1, 3, 3};
  conv.w = {1, 1, 3, 3};  // one output: 18 flops over (9 + 9 + 1) floats
  EXPECT_DOUBLE_EQ(roofline_ms(conv, {1e-9, 1e6}), 18.0);      // 1,000 flop/s: compute-bound, 18 ms
  EXPECT_DOUBLE_EQ(roofline_ms(conv, {1e6, 1e-9}), 76'000.0);  // 1 byte/s: memory-bound, 76 s
}

}  // namespace
}  // namespace r50
