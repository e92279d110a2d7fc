// The CUDA backend against the CPU backend, op by op (ggml's test-backend-ops): a row of the table
// builds its inputs from a seeded Rng, runs one op on the backend it is given and returns the
// outputs, each with the tolerance it must meet (backend_compare.h). The harness runs every row on
// both backends and compares output by output: ‖cuda − cpu‖₂ within the tolerance's norm, and on
// odd shapes (sizes that are multiples of no block size) |cuda − cpu| <= atol + rtol·|cpu| element
// by element as well, showing the first elements that are not. Adding an op or a shape is adding
// a row; the convolution, fully connected, batch-norm, half-precision, channels-last and tf32 rows
// live in files of their own. The convolution rows run twice: with the convolutions on cuDNN's
// legacy API, as every row, and on its graph API.
//
// A tolerance is the sum of the two backends' error bounds against the exact result, derived
// beside each row (or beside a bound that rows of several files share: backend_compare_bounds.h,
// backend_compare_batchnorm.h) from the op's summation length and fp32's unit roundoff
// u = 2^-24. Sums use γ(n) = fp32_sum_error_bound(n) relative to Σ|terms| (λ·sqrt(n)·u with
// λ = 6, never more than n·u; reference/numerics.h says why), which holds for any order of
// summation. The CPU backend is proven within these bounds by tests/ops against the
// double-precision oracles; of the CUDA side only the contract of kernels/kernels.h (fp32
// arithmetic) is assumed, not its particular accumulators.
#include "backends/backend_compare_bounds.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "backends/cuda_backend_for_tests.h"
#include "gpu_skip.h"
#include "ops/op_test_util.h"
#include "reference/pooling.h"
#include "reference/softmax_cross_entropy.h"

namespace r50::backend_compare {
namespace {

// ---- copies and fill: bytes moved, nothing computed, so exact.

Outputs copy_round_trip(Backend& backend) {
  Rng rng(1);
  const auto x = uniform({3, 5, 13, 13}, rng);
  HostTensor<std::int32_t> labels({1001});
  for (std::int64_t i = 0; i < labels.numel(); ++i)
    labels[i] = static_cast<std::int32_t>(rng.below(2000)) - 1000;  // exact as floats
  HostTensor<std::uint8_t> images({3, 13, 17, 3});
  for (std::int64_t i = 0; i < images.numel(); ++i)
    images[i] = static_cast<std::uint8_t>(rng.below(256));
  Stage stage(backend);
  return {{"f32", stage.read(stage.input(x)), kExact},
          {"i32", stage.read<std::int32_t>(stage.input(labels)).cast<float>(), kExact},
          {"u8", stage.read<std::uint8_t>(stage.input(images)).cast<float>(), kExact}};
}

Outputs copy_on_device(Backend& backend) {
  Rng rng(2);
  const auto x = uniform({3, 5, 13, 13}, rng);
  Stage stage(backend);
  const Tensor& copy = stage.output(x.shape());
  backend.copy(copy, stage.input(x));
  return {{"dst", stage.read(copy), kExact}};
}

Outputs fill(Backend& backend) {
  Stage stage(backend);
  const Tensor& small = stage.output({1001});
  const Tensor& large = stage.output({4, 64, 28, 28});
  backend.fill(small, -0.1f);
  backend.fill(large, 0.0f);
  return {{"small", stage.read(small), kExact}, {"large", stage.read(large), kExact}};
}

// ---- ReLU and add: a comparison and a select, or one correctly rounded addition: exact.

const ShapeCase kElementwiseShapes[] = {
    {"Layer3", {4, 256, 14, 14}, false},
    {"Odd", {3, 5, 13, 13}, true},
};

Outputs relu_forward(const ShapeCase& s, bool in_place, Backend& backend) {
  Rng rng(51);
  const auto x = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& input = stage.input(x);
  const Tensor& y = in_place ? input : stage.output(s.x);
  backend.relu_forward(input, y);
  return {{"y", stage.read(y), kExact}};
}

Outputs relu_backward(const ShapeCase& s, bool in_place, Backend& backend) {
  Rng rng(52);
  auto y = uniform(s.x, rng);  // the forward's output: about half exact zeros
  for (std::int64_t i = 0; i < y.numel(); ++i) y[i] = std::max(y[i], 0.0f);
  const auto dy = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& dy_tensor = stage.input(dy);
  const Tensor& dx = in_place ? dy_tensor : stage.output(s.x);
  backend.relu_backward(stage.input(y), dy_tensor, dx);
  return {{"dx", stage.read(dx), kExact}};
}

enum class AddInto { New, A, B };

Outputs add(const ShapeCase& s, AddInto into, Backend& backend) {
  Rng rng(53);
  const auto a = uniform(s.x, rng), b = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& a_tensor = stage.input(a);
  const Tensor& b_tensor = stage.input(b);
  const Tensor& y = into == AddInto::A   ? a_tensor
                    : into == AddInto::B ? b_tensor
                                         : stage.output(s.x);
  backend.add(a_tensor, b_tensor, y);
  return {{"y", stage.read(y), kExact}};
}

// ---- pooling.

const PoolShape kPoolShapes[] = {
    {"Stem3x3Stride2Pad1", {2, 64, 56, 56}, {3, 2, 1}, false},
    {"Odd3x3Stride2Pad1", {3, 5, 13, 13}, {3, 2, 1}, true},
    {"OddEvenSides3x3Stride2Pad1", {3, 5, 14, 11}, {3, 2, 1}, true},
};

// Max pooling forward picks one of its inputs: exact.
Outputs max_pool2d_forward(const PoolShape& s, Backend& backend) {
  Rng rng(61);
  const auto x = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& y = stage.output(max_pool2d_output_shape(s.x, s.params));
  backend.max_pool2d_forward(stage.input(x), y, s.params);
  return {{"y", stage.read(y), kExact}};
}

Outputs max_pool2d_backward(const PoolShape& s, Backend& backend) {
  Rng rng(62);
  const auto x = uniform(s.x, rng);
  const auto y = reference::max_pool2d_forward(x, s.params);
  const auto dy = uniform(y.shape(), rng);
  Stage stage(backend);
  const Tensor& dx = stage.output(s.x);
  backend.max_pool2d_backward(stage.input(x), stage.input(y), stage.input(dy), dx, s.params);
  return {{"dx", stage.read(dx), max_pool2d_backward_tolerance(x, y, dy, s.params)}};
}

const ShapeCase kAveragePoolShapes[] = {
    {"Final7x7", {4, 2048, 7, 7}, false},
    {"Odd", {3, 5, 13, 13}, true},
};

Outputs global_avg_pool_forward(const ShapeCase& s, Backend& backend) {
  Rng rng(63);
  const auto x = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& y = stage.output({s.x[0], s.x[1]});
  backend.global_avg_pool_forward(stage.input(x), y);
  return {{"y", stage.read(y), global_avg_pool_forward_tolerance(x)}};
}

Outputs global_avg_pool_backward(const ShapeCase& s, Backend& backend) {
  Rng rng(64);
  const auto dy = uniform({s.x[0], s.x[1]}, rng);
  Stage stage(backend);
  const Tensor& dx = stage.output(s.x);
  backend.global_avg_pool_backward(stage.input(dy), dx);
  // dx = dy / HW: one rounding on the CPU, at most two on the GPU (a reciprocal and a product).
  return {{"dx", stage.read(dx), elementwise(0.0, reference::fp32_roundings(3))}};
}

// ---- softmax cross-entropy: Food-101's 101 classes and ImageNet's 1000, odd batches.

struct ClassShape {
  const char* name;
  std::int64_t n, k;
};

const ClassShape kClassShapes[] = {
    {"Food101Classes", 7, 101},
    {"ImageNetClasses", 33, 1000},
};

Outputs softmax_cross_entropy_forward(const ClassShape& s, Backend& backend) {
  Rng rng(71);
  const double largest = 8.0;
  const auto logits = uniform({s.n, s.k}, rng, -largest, largest);
  const auto labels = random_labels(rng, s.n, s.k);
  Stage stage(backend);
  const Tensor& probs = stage.output({s.n, s.k});
  const Tensor& loss = stage.output({1});
  backend.softmax_cross_entropy_forward(stage.input(logits), stage.input(label_tensor(labels)),
                                        probs, loss);
  const SoftmaxCrossEntropyTolerances tolerance =
      softmax_cross_entropy_forward_tolerances(s.n, s.k, largest);
  return {{"probs", stage.read(probs), tolerance.probs},
          {"loss", stage.read(loss), tolerance.loss}};
}

// With `on_device`, loss_grad is read from device memory, as fp16's loss scale is.
Outputs softmax_cross_entropy_backward(const ClassShape& s, bool on_device, Backend& backend) {
  Rng rng(72);
  const auto logits = uniform({s.n, s.k}, rng, -8.0, 8.0);
  const auto labels = random_labels(rng, s.n, s.k);
  const HostTensor<float> probs =
      reference::softmax_cross_entropy_forward(logits.cast<double>(), labels).probs.cast<float>();
  const float loss_grad = 0.75f;
  Stage stage(backend);
  const Tensor& dlogits = stage.output({s.n, s.k});
  const Tensor& probs_tensor = stage.input(probs);
  const Tensor& labels_tensor = stage.input(label_tensor(labels));
  if (on_device) {
    backend.softmax_cross_entropy_backward(probs_tensor, labels_tensor, dlogits,
                                           stage.input(reference::vector_of({loss_grad})));
  } else {
    backend.softmax_cross_entropy_backward(probs_tensor, labels_tensor, dlogits, loss_grad);
  }
  // loss_grad/N, probs - onehot and their product: three roundings in each backend.
  return {{"dlogits", stage.read(dlogits), elementwise(0.0, 2 * reference::fp32_roundings(3))}};
}

// ---- the SGD step on 201² parameters (no multiple of a block size), torch's ResNet recipe.

Outputs sgd_step(bool momentum, bool first_step, Backend& backend) {
  Rng rng(81);
  const Shape shape{201, 201};
  SgdParams params;  // lr 0.1, momentum 0.9, weight decay 1e-4
  if (!momentum) params.momentum = 0.0f;
  const auto param = uniform(shape, rng), grad = uniform(shape, rng);
  // The buffer of an earlier step; on the first step a stale value that must be ignored.
  const auto buffer = first_step ? HostTensor<float>(shape, 123.0f) : uniform(shape, rng);
  Stage stage(backend);
  const Tensor& param_tensor = stage.input(param);
  const Tensor buffer_tensor = momentum ? stage.input(buffer) : Tensor();
  backend.sgd_step(param_tensor, stage.input(grad), buffer_tensor, params, first_step);
  // buf = momentum·buf + grad + wd·param is a 3-term sum, param - lr·buf 2 more roundings
  // (tests/ops/sgd_test): γ(3) and γ(5) of the terms' magnitudes in each backend. Without
  // momentum, param - lr·(grad + wd·param) rounds no more.
  HostTensor<double> buffer_terms(shape), param_terms(shape);
  for (std::int64_t i = 0; i < param.numel(); ++i) {
    buffer_terms[i] = (first_step ? 0.0 : params.momentum * std::abs(buffer[i])) +
                      std::abs(grad[i]) + params.weight_decay * std::abs(param[i]);
    param_terms[i] = std::abs(param[i]) + params.lr * buffer_terms[i];
  }
  Outputs outputs{{"param", stage.read(param_tensor), per_element(param_terms, 2 * sum_bound(5))}};
  if (momentum) {
    outputs.push_back({"momentum_buffer", stage.read(buffer_tensor),
                       per_element(buffer_terms, 2 * sum_bound(3))});
  }
  return outputs;
}

// ---- fp16's loss scale on the device: the update under it, and the scale's own update.

// sgd_step_all of two tensors under a DeviceLossScale whose scale is 1024, the gradients scaled
// by it, `updates_applied` updates so far (0: this is the first) and `found` the overflow flag.
// Unscaling by a power of two is exact, so the tolerances are sgd_step's; a skipped step leaves
// param and buffer as they were, exactly.
Outputs sgd_step_all_under_device_loss_scale(float updates_applied, float found, Backend& backend) {
  Rng rng(83);
  const float scale = 1024.0f;
  SgdParams params;
  Stage stage(backend);
  const Tensor& state = stage.input(reference::vector_of({scale, 5.0f, 2.0f, updates_applied}));
  const DeviceLossScale loss_scale{state, stage.input(reference::vector_of({found}))};
  const bool first_update = updates_applied == 0.0f && found == 0.0f;
  std::vector<SgdTensors> tensors;
  std::vector<HostTensor<double>> buffer_terms, param_terms;
  for (const Shape& shape : {Shape{201, 201}, Shape{37}}) {
    const auto param = uniform(shape, rng), grad = uniform(shape, rng), buffer = uniform(shape, rng);
    HostTensor<float> scaled_grad = grad;
    for (std::int64_t i = 0; i < grad.numel(); ++i) scaled_grad[i] = grad[i] * scale;
    // first_step true, which the device's count overrides either way.
    tensors.push_back({stage.input(param), stage.input(scaled_grad), stage.input(buffer), true, Tensor()});
    HostTensor<double> buffer_term(shape), param_term(shape);
    for (std::int64_t i = 0; i < param.numel(); ++i) {
      buffer_term[i] = (first_update ? 0.0 : params.momentum * std::abs(buffer[i])) + std::abs(grad[i]) +
                       params.weight_decay * std::abs(param[i]);
      param_term[i] = std::abs(param[i]) + params.lr * buffer_term[i];
    }
    buffer_terms.push_back(buffer_term);
    param_terms.push_back(param_term);
  }
  backend.sgd_step_all(tensors, params, loss_scale);
  Outputs outputs;
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    const std::string name = std::to_string(t);
    outputs.push_back({"param" + name, stage.read(tensors[t].param),
                       found != 0.0f ? kExact : per_element(param_terms[t], 2 * sum_bound(5))});
    outputs.push_back({"momentum_buffer" + name, stage.read(tensors[t].momentum_buffer),
                       found != 0.0f ? kExact : per_element(buffer_terms[t], 2 * sum_bound(3))});
  }
  return outputs;
}

// update_loss_scale from {scale, clean steps, 2 skipped, 7 updates} with growth every 4 clean
// steps: every value is a small integer or a power of two, so both backends agree exactly.
Outputs update_loss_scale(float scale, float clean_steps, float found, Backend& backend) {
  LossScaleParams params;
  params.growth_interval = 4;
  Stage stage(backend);
  const Tensor& state = stage.input(reference::vector_of({scale, clean_steps, 2.0f, 7.0f}));
  backend.update_loss_scale({state, stage.input(reference::vector_of({found}))}, params);
  return {{"state", stage.read(state), kExact}};
}

// ---- uint8 NHWC images to normalised NCHW floats.

Outputs normalize_images(const Shape& images_shape, Backend& backend) {
  Rng rng(91);
  HostTensor<std::uint8_t> images(images_shape);
  for (std::int64_t i = 0; i < images.numel(); ++i)
    images[i] = static_cast<std::uint8_t>(rng.below(256));
  const std::int64_t N = images_shape[0], H = images_shape[1], W = images_shape[2];
  Stage stage(backend);
  const Tensor& y = stage.output({N, 3, H, W});
  backend.normalize_images(stage.input(images), y, kImageNetMean, kImageNetStd);
  return {{"y", stage.read(y), normalize_images_tolerance()}};
}

// ---- the table.

std::vector<Row> rows() {
  std::vector<Row> table = {
      {"CopyFromHostAndBack", true, copy_round_trip},
      {"CopyOnDevice", true, copy_on_device},
      {"Fill", true, fill},
  };
  for (auto group : {convolution_rows(), linear_rows(), batch_norm_rows(), half_precision_rows(),
                     nhwc_rows(), nhwc_batch_norm_rows(), tf32_rows()}) {
    table.insert(table.end(), group.begin(), group.end());
  }
  for (const ShapeCase& s : kElementwiseShapes) {
    const std::string name = s.name;
    table.push_back(
        {"ReluForward" + name, s.odd, [s](Backend& b) { return relu_forward(s, false, b); }});
    table.push_back(
        {"ReluForwardInPlace" + name, s.odd, [s](Backend& b) { return relu_forward(s, true, b); }});
    table.push_back(
        {"ReluBackward" + name, s.odd, [s](Backend& b) { return relu_backward(s, false, b); }});
    table.push_back({"ReluBackwardInPlace" + name, s.odd,
                     [s](Backend& b) { return relu_backward(s, true, b); }});
    table.push_back({"Add" + name, s.odd, [s](Backend& b) { return add(s, AddInto::New, b); }});
    table.push_back({"AddIntoA" + name, s.odd, [s](Backend& b) { return add(s, AddInto::A, b); }});
    table.push_back({"AddIntoB" + name, s.odd, [s](Backend& b) { return add(s, AddInto::B, b); }});
  }
  for (const PoolShape& s : kPoolShapes) {
    const std::string name = s.name;
    table.push_back(
        {"MaxPool2dForward" + name, s.odd, [s](Backend& b) { return max_pool2d_forward(s, b); }});
    table.push_back(
        {"MaxPool2dBackward" + name, s.odd, [s](Backend& b) { return max_pool2d_backward(s, b); }});
  }
  for (const ShapeCase& s : kAveragePoolShapes) {
    const std::string name = s.name;
    table.push_back({"GlobalAvgPoolForward" + name, s.odd,
                     [s](Backend& b) { return global_avg_pool_forward(s, b); }});
    table.push_back({"GlobalAvgPoolBackward" + name, s.odd,
                     [s](Backend& b) { return global_avg_pool_backward(s, b); }});
  }
  for (const ClassShape& s : kClassShapes) {
    const std::string name = s.name;
    table.push_back({"SoftmaxCrossEntropyForward" + name, true,
                     [s](Backend& b) { return softmax_cross_entropy_forward(s, b); }});
    table.push_back({"SoftmaxCrossEntropyBackward" + name, true,
                     [s](Backend& b) { return softmax_cross_entropy_backward(s, false, b); }});
    table.push_back({"SoftmaxCrossEntropyBackwardLossGradOnDevice" + name, true,
                     [s](Backend& b) { return softmax_cross_entropy_backward(s, true, b); }});
  }
  table.push_back(
      {"SgdFirstStepWithMomentum", true, [](Backend& b) { return sgd_step(true, true, b); }});
  table.push_back(
      {"SgdLaterStepWithMomentum", true, [](Backend& b) { return sgd_step(true, false, b); }});
  table.push_back(
      {"SgdWithoutMomentum", true, [](Backend& b) { return sgd_step(false, false, b); }});
  table.push_back({"SgdStepAllUnderDeviceLossScaleFirstUpdate", true,
                   [](Backend& b) { return sgd_step_all_under_device_loss_scale(0.0f, 0.0f, b); }});
  table.push_back({"SgdStepAllUnderDeviceLossScaleLaterUpdate", true,
                   [](Backend& b) { return sgd_step_all_under_device_loss_scale(3.0f, 0.0f, b); }});
  table.push_back({"SgdStepAllUnderDeviceLossScaleSkipsAnOverflow", true,
                   [](Backend& b) { return sgd_step_all_under_device_loss_scale(0.0f, 1.0f, b); }});
  table.push_back({"UpdateLossScaleAfterAnOverflow", false,
                   [](Backend& b) { return update_loss_scale(1024.0f, 3.0f, 1.0f, b); }});
  table.push_back({"UpdateLossScaleAfterACleanStep", false,
                   [](Backend& b) { return update_loss_scale(1024.0f, 1.0f, 0.0f, b); }});
  table.push_back({"UpdateLossScaleGrowsAtTheInterval", false,
                   [](Backend& b) { return update_loss_scale(1024.0f, 3.0f, 0.0f, b); }});
  table.push_back({"NormalizeImages224", false, [](Backend& b) {
                     return normalize_images({2, 224, 224, 3}, b);
                   }});
  table.push_back({"NormalizeImagesOdd", true, [](Backend& b) {
                     return normalize_images({3, 13, 17, 3}, b);
                   }});
  return table;
}

// ---- the harness.

// One output of the CUDA run against the CPU run's, with the tolerance the CPU run derived.
::testing::AssertionResult matches(const Output& cuda_output, const Output& cpu_output,
                                   bool odd_shape) {
  const HostTensor<float>& a = cuda_output.values;
  const HostTensor<float>& b = cpu_output.values;
  const Tolerance& tolerance = cpu_output.tolerance;
  if (a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << cpu_output.name << ": shape " << a.shape().str()
                                         << " on cuda but " << b.shape().str() << " on cpu";
  }
  double norm_limit = tolerance.norm;
  if (norm_limit < 0) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < b.numel(); ++i)
      sum += std::pow(tolerance.atol + tolerance.rtol * std::abs(b[i]), 2);
    norm_limit = std::sqrt(sum);
  }
  double difference = 0.0;
  for (std::int64_t i = 0; i < a.numel(); ++i)
    difference += std::pow(double(a[i]) - double(b[i]), 2);
  difference = std::sqrt(difference);
  const double b_norm = reference::norm2(b);
  const double relative = b_norm > 0 ? difference / b_norm : difference;
  const double relative_limit = b_norm > 0 ? norm_limit / b_norm : norm_limit;
  std::cout << "  " << cpu_output.name << ": relative error " << relative << " (limit "
            << relative_limit << ")\n";
  const ::testing::AssertionResult close =
      reference::all_close(a, b, tolerance.atol, tolerance.rtol);
  if (!(difference <= norm_limit)) {
    return ::testing::AssertionFailure()
           << cpu_output.name << ": relative error " << relative << " exceeds " << relative_limit
           << " (cuda against cpu); element by element: "
           << (close ? "within atol and rtol" : close.message());
  }
  if (odd_shape && !close)
    return ::testing::AssertionFailure() << cpu_output.name << ": " << close.message();
  return ::testing::AssertionSuccess();
}

// The row on the CUDA backend of its precision, with the convolutions on cuDNN's `api`, against
// the row on the CPU backend. A tf32 or bf16 row passes, saying why, on a GPU below compute
// capability 8.0, which refuses a tf32 backend (tests/torchvision/tf32_test.cpp checks that
// refusal) and has no bf16 convolutions or GEMMs.
void expect_cuda_matches_cpu(const Row& row, CudnnApi api) {
  const bool needs_8_0 = row.precision == Precision::Tf32 || row.dtype == DType::BF16;
  if (needs_8_0 && !has_compute_capability_8_0(cuda().device_info(), row.dtype == DType::BF16 ? "bf16" : "tf32")) {
    return;
  }
  const Outputs expected = row.run(cpu());
  const Outputs actual = row.run(cuda(api, row.precision));
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(actual[i].name, expected[i].name);
    EXPECT_TRUE(matches(actual[i], expected[i], row.odd_shape));
  }
}

std::string row_name(const ::testing::TestParamInfo<Row>& info) { return info.param.name; }

// Every row, the convolutions on cuDNN's legacy API.
class CudaMatchesCpu : public ::testing::TestWithParam<Row> {};

TEST_P(CudaMatchesCpu, Op) {
  R50_REQUIRE_GPU_OR_SKIP();
  expect_cuda_matches_cpu(GetParam(), CudnnApi::Legacy);
}

INSTANTIATE_TEST_SUITE_P(Ops, CudaMatchesCpu, ::testing::ValuesIn(rows()), row_name);

// The convolution rows (every direction, dtype, layout and precision) again with the convolutions
// on cuDNN's graph API, within the same tolerances: its numerics are the legacy API's.
std::vector<Row> convolutions_in(const std::vector<Row>& table) {
  std::vector<Row> convolutions;
  for (const Row& row : table) {
    if (row.name.rfind("Conv2d", 0) == 0) convolutions.push_back(row);
  }
  return convolutions;
}

class CudnnGraphApiMatchesCpu : public ::testing::TestWithParam<Row> {};

TEST_P(CudnnGraphApiMatchesCpu, Op) {
  R50_REQUIRE_GPU_OR_SKIP();
  expect_cuda_matches_cpu(GetParam(), CudnnApi::Graph);
}

INSTANTIATE_TEST_SUITE_P(Convolutions, CudnnGraphApiMatchesCpu, ::testing::ValuesIn(convolutions_in(rows())),
                         row_name);

}  // namespace
}  // namespace r50::backend_compare
