// The half-precision rows of the CUDA-against-CPU table: the CUDA backend's ops on F16 and BF16
// tensors against the CPU backend's F32 ops on the same values, whose half-precision outputs are
// rounded once on the host. backend.h has every op compute in F32 and round once to nearest even
// when it stores a half, so that is the result each CUDA op must give: exactly where the F32 op
// is exact, otherwise within the F32 row's tolerance and the two roundings of the output (one per
// backend). The rows ask nothing of the CPU backend but its F32 ops.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend_compare_batchnorm.h"
#include "backends/backend_compare_bounds.h"
#include "ops/op_test_util.h"
#include "reference/pooling.h"
#include "reference/softmax_cross_entropy.h"

namespace r50::backend_compare {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

struct HalfType {
  const char* name;
  DType dtype;
};

const HalfType kHalfTypes[] = {{"F16", DType::F16}, {"BF16", DType::BF16}};

// ---- fill and cast: one rounding of the same F32 value on both sides, so exact.

Outputs fill(DType dtype, Backend& backend) {
  DTypeStage stage(backend, dtype);
  const Tensor& y = stage.output({1001});
  backend.fill(y, -0.1f);
  return {{"y", stage.read(y), kExact}};
}

// F32 -> half with a scale that rounds (3), half -> F32 with a loss scale's inverse, and half ->
// half in place. On the CPU each is the F32 cast of the same values.
Outputs cast(DType dtype, Backend& backend) {
  Rng rng(101);
  const auto x = uniform({3, 5, 13, 13}, rng);
  const auto h = uniform_in(dtype, {1001}, rng, -100.0, 100.0);
  const auto in_place = uniform_in(dtype, {4, 64, 7, 7}, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& narrowed = stage.output(x.shape());
  backend.cast(stage.f32().input(x), narrowed, 3.0f);
  const Tensor& widened = stage.f32().output(h.shape());
  backend.cast(stage.input(h), widened, 1.0f / 1024);
  const Tensor& halved = stage.input(in_place);
  backend.cast(halved, halved, 0.5f);
  return {{"narrowed", stage.read(narrowed), kExact},
          {"widened", stage.f32().read(widened), kExact},
          {"halved_in_place", stage.read(halved), kExact}};
}

// found over an F32 and two half tensors, with a non-finite value planted in tensor `bad` at
// element `at` (bad < 0: none), and over more tiny tensors than one launch's table holds.
Outputs find_non_finite(DType dtype, int bad, float value, Backend& backend) {
  Rng rng(102);
  auto a = uniform({3, 5, 13, 13}, rng);
  auto b = uniform_in(dtype, {1001}, rng), c = uniform_in(dtype, {4, 64, 7, 7}, rng);
  if (bad == 0) a[a.numel() - 1] = value;
  if (bad == 1) b[517] = value;
  if (bad == 2) c[0] = value;
  DTypeStage stage(backend, dtype);
  const Tensor& found = stage.f32().output({1});
  backend.fill(found, 0.0f);
  backend.find_non_finite({stage.f32().input(a), stage.input(b), stage.input(c)}, found);
  return {{"found", stage.f32().read(found), kExact}};
}

Outputs find_non_finite_in_many(DType dtype, Backend& backend) {
  Rng rng(103);
  DTypeStage stage(backend, dtype);
  std::vector<Tensor> tensors;
  for (int i = 0; i < 4000; ++i) {
    auto values = uniform_in(dtype, {3}, rng);
    if (i == 3999) values[2] = kInf;
    tensors.push_back(stage.input(values));
  }
  const Tensor& found = stage.f32().output({1});
  backend.fill(found, 0.0f);
  backend.find_non_finite(tensors, found);
  return {{"found", stage.f32().read(found), kExact}};
}

// ---- ReLU, add, max pooling forward: the F32 op is exact, so the rounded result is.

const Shape kOddShape{3, 5, 13, 13};

Outputs relu_forward(DType dtype, Backend& backend) {
  Rng rng(151);
  const auto x = uniform_in(dtype, kOddShape, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& y = stage.output(kOddShape);
  backend.relu_forward(stage.input(x), y);
  return {{"y", stage.read(y), kExact}};
}

Outputs relu_backward(DType dtype, Backend& backend) {
  Rng rng(152);
  auto y = uniform_in(dtype, kOddShape, rng);
  for (std::int64_t i = 0; i < y.numel(); ++i) y[i] = std::max(y[i], 0.0f);
  const auto dy = uniform_in(dtype, kOddShape, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& dx = stage.output(kOddShape);
  backend.relu_backward(stage.input(y), stage.input(dy), dx);
  return {{"dx", stage.read(dx), kExact}};
}

// The F32 sum is correctly rounded on both sides, and so is its rounding to the dtype.
Outputs add(DType dtype, Backend& backend) {
  Rng rng(153);
  const auto a = uniform_in(dtype, kOddShape, rng), b = uniform_in(dtype, kOddShape, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& a_tensor = stage.input(a);
  backend.add(a_tensor, stage.input(b), a_tensor);
  return {{"y", stage.read(a_tensor), kExact}};
}

const Pool2dParams kStemPool{3, 2, 1};

Outputs max_pool2d_forward(DType dtype, Backend& backend) {
  Rng rng(161);
  const auto x = uniform_in(dtype, {3, 5, 14, 11}, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& y = stage.output(max_pool2d_output_shape(x.shape(), kStemPool));
  backend.max_pool2d_forward(stage.input(x), y, kStemPool);
  return {{"y", stage.read(y), kExact}};
}

// Half values tie more often than floats: the first match in each window must still win.
Outputs max_pool2d_backward(DType dtype, Backend& backend) {
  Rng rng(162);
  const auto x = rounded(uniform({3, 5, 14, 11}, rng, -4.0, 4.0).cast<int>().cast<float>(), dtype);
  const auto y = reference::max_pool2d_forward(x, kStemPool);
  const auto dy = uniform_in(dtype, y.shape(), rng);
  DTypeStage stage(backend, dtype);
  const Tensor& dx = stage.output(x.shape());
  backend.max_pool2d_backward(stage.input(x), stage.input(y), stage.input(dy), dx, kStemPool);
  return {half_output("dx", stage.read(dx), dtype, max_pool2d_backward_tolerance(x, y, dy, kStemPool))};
}

// ---- global average pooling, softmax cross-entropy, normalisation: the F32 rows' bounds, and
// the rounding of half outputs.

Outputs global_avg_pool_forward(DType dtype, Backend& backend) {
  Rng rng(163);
  const auto x = uniform_in(dtype, kOddShape, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& y = stage.output({kOddShape[0], kOddShape[1]});
  backend.global_avg_pool_forward(stage.input(x), y);
  return {half_output("y", stage.read(y), dtype, global_avg_pool_forward_tolerance(x))};
}

Outputs global_avg_pool_backward(DType dtype, Backend& backend) {
  Rng rng(164);
  const auto dy = uniform_in(dtype, {kOddShape[0], kOddShape[1]}, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& dx = stage.output(kOddShape);
  backend.global_avg_pool_backward(stage.input(dy), dx);
  return {half_output("dx", stage.read(dx), dtype, elementwise(0.0, reference::fp32_roundings(3)))};
}

// Half logits, F32 probs and loss: the F32 row's bounds on the same logits (backend_compare_test).
Outputs softmax_cross_entropy_forward(DType dtype, Backend& backend) {
  Rng rng(171);
  const std::int64_t n = 33, k = 1000;
  const double largest = 8.0;
  const auto logits = uniform_in(dtype, {n, k}, rng, -largest, largest);
  const auto labels = random_labels(rng, n, k);
  DTypeStage stage(backend, dtype);
  const Tensor& probs = stage.f32().output({n, k});
  const Tensor& loss = stage.f32().output({1});
  const Tensor& label_values = stage.f32().input(label_tensor(labels));
  backend.softmax_cross_entropy_forward(stage.input(logits), label_values, probs, loss);
  const SoftmaxCrossEntropyTolerances tolerance =
      softmax_cross_entropy_forward_tolerances(n, k, largest);
  return {{"probs", stage.f32().read(probs), tolerance.probs},
          {"loss", stage.f32().read(loss), tolerance.loss}};
}

// F32 probs, half dlogits scaled by a loss scale.
Outputs softmax_cross_entropy_backward(DType dtype, Backend& backend) {
  Rng rng(172);
  const std::int64_t n = 7, k = 101;
  const auto logits = uniform({n, k}, rng, -8.0, 8.0);
  const auto labels = random_labels(rng, n, k);
  const HostTensor<float> probs =
      reference::softmax_cross_entropy_forward(logits.cast<double>(), labels).probs.cast<float>();
  DTypeStage stage(backend, dtype);
  const Tensor& dlogits = stage.output({n, k});
  backend.softmax_cross_entropy_backward(stage.f32().input(probs),
                                         stage.f32().input(label_tensor(labels)), dlogits, 1024.0f);
  return {half_output("dlogits", stage.read(dlogits), dtype,
                      elementwise(0.0, 2 * reference::fp32_roundings(3)))};
}

Outputs normalize_images(DType dtype, Backend& backend) {
  Rng rng(191);
  HostTensor<std::uint8_t> images({3, 13, 17, 3});
  for (std::int64_t i = 0; i < images.numel(); ++i) {
    images[i] = static_cast<std::uint8_t>(rng.below(256));
  }
  DTypeStage stage(backend, dtype);
  const Tensor& y = stage.output({3, 3, 13, 17});
  backend.normalize_images(stage.f32().input(images), y, kImageNetMean, kImageNetStd);
  return {half_output("y", stage.read(y), dtype, normalize_images_tolerance())};
}

// ---- SGD with half gradients read through a loss scale's inverse.

// The CPU side reads the same gradients, pre-multiplied by the power of two grad_scale (exact),
// with grad_scale 1; both sides then run the F32 update, within the F32 row's bounds.
struct SgdEntry {
  HostTensor<float> param, grad, buffer;
  bool first_step;
};

constexpr float kGradScale = 1.0f / 128;

SgdEntry sgd_entry(DType dtype, const Shape& shape, bool first_step, Rng& rng) {
  return {uniform(shape, rng), uniform_in(dtype, shape, rng, -128.0, 128.0),
          first_step ? HostTensor<float>(shape, 123.0f) : uniform(shape, rng), first_step};
}

const Tensor& sgd_grad(DTypeStage& stage, const HostTensor<float>& grad) {
  if (!stage.stands_in()) return stage.input(grad);
  HostTensor<float> scaled = grad;
  for (std::int64_t i = 0; i < scaled.numel(); ++i) scaled[i] *= kGradScale;
  return stage.f32().input(scaled);
}

// The F32 row's bounds (backend_compare_test's sgd_step) on the scaled gradient.
std::pair<Tolerance, Tolerance> sgd_tolerances(const SgdEntry& entry, const SgdParams& params) {
  HostTensor<double> buffer_terms(entry.param.shape()), param_terms(entry.param.shape());
  for (std::int64_t i = 0; i < entry.param.numel(); ++i) {
    buffer_terms[i] = (entry.first_step ? 0.0 : params.momentum * std::abs(entry.buffer[i])) +
                      kGradScale * std::abs(entry.grad[i]) +
                      params.weight_decay * std::abs(entry.param[i]);
    param_terms[i] = std::abs(entry.param[i]) + params.lr * buffer_terms[i];
  }
  return {per_element(param_terms, 2 * sum_bound(5)), per_element(buffer_terms, 2 * sum_bound(3))};
}

Outputs sgd_step(DType dtype, Backend& backend) {
  Rng rng(181);
  const SgdEntry entry = sgd_entry(dtype, {201, 201}, false, rng);
  DTypeStage stage(backend, dtype);
  SgdParams params;
  params.grad_scale = stage.stands_in() ? 1.0f : kGradScale;
  const Tensor& param = stage.f32().input(entry.param);
  const Tensor& buffer = stage.f32().input(entry.buffer);
  backend.sgd_step(param, sgd_grad(stage, entry.grad), buffer, params, entry.first_step);
  const auto [param_tolerance, buffer_tolerance] = sgd_tolerances(entry, params);
  return {{"param", stage.f32().read(param), param_tolerance},
          {"momentum_buffer", stage.f32().read(buffer), buffer_tolerance}};
}

// sgd_step_all with compute copies: on the CPU, per-entry sgd_step, the copy the updated
// parameter rounded on the host, as cast(param, compute_copy) writes it.
Outputs sgd_step_all(DType dtype, Backend& backend) {
  Rng rng(182);
  const std::vector<SgdEntry> entries = {sgd_entry(dtype, {201, 201}, true, rng),
                                         sgd_entry(dtype, {64}, false, rng),
                                         sgd_entry(dtype, {101, 2048}, false, rng)};
  DTypeStage stage(backend, dtype);
  SgdParams params;
  params.grad_scale = stage.stands_in() ? 1.0f : kGradScale;
  std::vector<SgdTensors> tensors;
  for (const SgdEntry& entry : entries) {
    SgdTensors t;
    t.param = stage.f32().input(entry.param);
    t.grad = sgd_grad(stage, entry.grad);
    t.momentum_buffer = stage.f32().input(entry.buffer);
    t.first_step = entry.first_step;
    if (!stage.stands_in()) t.compute_copy = stage.output(entry.param.shape());
    tensors.push_back(t);
  }
  if (stage.stands_in()) {
    for (const SgdTensors& t : tensors) {
      backend.sgd_step(t.param, t.grad, t.momentum_buffer, params, t.first_step);
    }
  } else {
    backend.sgd_step_all(tensors, params);
  }
  Outputs outputs;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string name = std::to_string(i);
    const auto [param_tolerance, buffer_tolerance] = sgd_tolerances(entries[i], params);
    const HostTensor<float> param = stage.f32().read(tensors[i].param);
    const HostTensor<float> copy =
        stage.stands_in() ? rounded(param, dtype) : stage.read(tensors[i].compute_copy);
    outputs.push_back({"param" + name, param, param_tolerance});
    outputs.push_back({"momentum_buffer" + name, stage.f32().read(tensors[i].momentum_buffer),
                       buffer_tolerance});
    outputs.push_back(half_output("compute_copy" + name, copy, dtype, param_tolerance));
  }
  return outputs;
}

// ---- the fully connected layer on tensor cores.

Outputs linear_forward(DType dtype, Backend& backend) {
  Rng rng(121);
  const std::int64_t n = 5, in = 300, out = 37;
  const auto x = uniform_in(dtype, {n, in}, rng), w = uniform_in(dtype, {out, in}, rng);
  const auto b = uniform_in(dtype, {out}, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& y = stage.output({n, out});
  backend.linear_forward(stage.input(x), stage.input(w), stage.input(b), y);
  HostTensor<float> magnitude({n, out});
  cpu().linear_forward(absolute(x).view(), absolute(w).view(), absolute(b).view(),
                       magnitude.view());
  return {half_output("y", stage.read(y), dtype, per_element(magnitude, tensor_core_bound(in + 1)))};
}

Outputs linear_backward(DType dtype, Backend& backend) {
  Rng rng(122);
  const std::int64_t n = 5, in = 300, out = 37;
  const auto x = uniform_in(dtype, {n, in}, rng), w = uniform_in(dtype, {out, in}, rng);
  const auto dy = uniform_in(dtype, {n, out}, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& dx = stage.output({n, in});
  const Tensor& dw = stage.output({out, in});
  const Tensor& db = stage.output({out});
  backend.linear_backward(stage.input(x), stage.input(w), stage.input(dy), dx, dw, db);
  HostTensor<float> dx_magnitude({n, in}), dw_magnitude({out, in}), db_magnitude({out});
  cpu().linear_backward(absolute(x).view(), absolute(w).view(), absolute(dy).view(),
                        dx_magnitude.view(), dw_magnitude.view(), db_magnitude.view());
  // dx sums OUT products per element; dw and db sum N.
  return {half_output("dx", stage.read(dx), dtype, per_element(dx_magnitude, tensor_core_bound(out))),
          half_output("dw", stage.read(dw), dtype, per_element(dw_magnitude, tensor_core_bound(n))),
          half_output("db", stage.read(db), dtype, per_element(db_magnitude, tensor_core_bound(n)))};
}

// ---- convolutions through cuDNN on tensor cores.

// ResNet-50's 3×3 convolution at 64 channels and a small spatial size, and the F32 table's odd
// shapes (backend_compare_conv_linear.cpp), within half_conv_tolerance.

const ConvShape kConvShapes[] = {
    {"Bottleneck3x3Stride1", {2, 64, 14, 14}, {64, 64, 3, 3}, {1, 1}, false},
    {"Odd7x7Stride2Pad3", {3, 3, 13, 13}, {5, 3, 7, 7}, {2, 3}, true},
    {"Odd3x3Stride2", {3, 5, 13, 13}, {7, 5, 3, 3}, {2, 1}, true},
    {"Odd1x1Stride2", {3, 5, 13, 13}, {7, 5, 1, 1}, {2, 0}, true},
};

Outputs conv_forward(DType dtype, const ConvShape& c, Backend& backend) {
  Rng rng(131);
  const auto x = uniform_in(dtype, c.x, rng), w = uniform_in(dtype, c.w, rng);
  const Shape y_shape = conv2d_output_shape(c.x, c.w, c.params);
  DTypeStage stage(backend, dtype);
  const Tensor& y = stage.output(y_shape);
  backend.conv2d_forward(stage.input(x), stage.input(w), y, c.params);
  return {half_output("y", stage.read(y), dtype,
                      half_conv_tolerance(conv_forward_magnitude(x, w, c), conv_forward_terms(c)))};
}

// Overwriting dx, or adding to what it held (cuDNN's beta = 1): `before`, exact in the dtype, is
// one more term of the fp32 sum, rounded once with it.
Outputs conv_backward_data(DType dtype, const ConvShape& c, bool accumulate, Backend& backend) {
  Rng rng(132);
  const auto dy = uniform_in(dtype, conv2d_output_shape(c.x, c.w, c.params), rng);
  const auto w = uniform_in(dtype, c.w, rng), before = uniform_in(dtype, c.x, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& dx = accumulate ? stage.input(before) : stage.output(c.x);
  backend.conv2d_backward_data(stage.input(dy), stage.input(w), dx, c.params, accumulate);
  return {half_output("dx", stage.read(dx), dtype,
                      half_conv_backward_data_tolerance(dy, w, before, accumulate, c, dtype))};
}

Outputs conv_backward_filter(DType dtype, const ConvShape& c, Backend& backend) {
  Rng rng(133);
  const Shape y_shape = conv2d_output_shape(c.x, c.w, c.params);
  const auto x = uniform_in(dtype, c.x, rng), dy = uniform_in(dtype, y_shape, rng);
  DTypeStage stage(backend, dtype);
  const Tensor& dw = stage.output(c.w);
  backend.conv2d_backward_filter(stage.input(x), stage.input(dy), dw, c.params);
  const auto magnitude = conv_backward_filter_magnitude(x, dy, c);
  return {half_output("dw", stage.read(dw), dtype,
                      half_conv_tolerance(magnitude, conv_backward_filter_terms(c)))};
}

// ---- batch norm: half activations and their gradients, F32 per-channel tensors. The inputs are
// values the dtype holds, which both backends widen to F32 exactly, so every bound is the F32
// rows' (backend_compare_batchnorm.h) on the same values, and the half outputs add their rounding
// (half_output).

const ShapeCase kNormShapes[] = {
    {"Layer2", {4, 128, 28, 28}, false},     // planes of a multiple of 4 values: 4 per access
    {"StemLike", {2, 16, 112, 112}, false},  // few long channels: the reductions split
    {"Odd", {3, 5, 13, 13}, true},           // one value per access
};

Outputs batch_norm_forward_training(DType dtype, const ShapeCase& s, Epilogue epilogue,
                                    Backend& backend) {
  const BatchNormInputs in = batch_norm_inputs(dtype, s.x, 141);
  const std::int64_t C = s.x[1];
  const BatchNormParams params;
  DTypeStage stage(backend, dtype);
  Stage& f32 = stage.f32();
  const Tensor& y = stage.output(s.x);
  const Tensor& x = stage.input(in.x);
  const Tensor& gamma = f32.input(in.gamma);
  const Tensor& beta = f32.input(in.beta);
  const Tensor& running_mean = f32.input(in.running_mean);
  const Tensor& running_var = f32.input(in.running_var);
  const Tensor& saved_mean = f32.output({C});
  const Tensor& saved_invstd = f32.output({C});
  if (epilogue == Epilogue::None) {
    backend.batch_norm_forward_training(x, gamma, beta, running_mean, running_var, y, saved_mean,
                                        saved_invstd, params);
  } else {
    const Tensor residual = epilogue == Epilogue::AddRelu ? stage.input(in.residual) : Tensor();
    backend.batch_norm_relu_forward_training(x, gamma, beta, running_mean, running_var, residual,
                                             y, saved_mean, saved_invstd, params);
  }
  const BatchNormForwardTolerances tolerance =
      batch_norm_forward_training_tolerances(in, epilogue, params);
  return {half_output("y", stage.read(y), dtype, tolerance.y),
          {"saved_mean", f32.read(saved_mean), tolerance.saved_mean},
          {"saved_invstd", f32.read(saved_invstd), tolerance.saved_invstd},
          {"running_mean", f32.read(running_mean), tolerance.running_mean},
          {"running_var", f32.read(running_var), tolerance.running_var}};
}

Outputs batch_norm_backward_training(DType dtype, const ShapeCase& s, Epilogue epilogue,
                                     Backend& backend) {
  BatchNormInputs in = batch_norm_inputs(dtype, s.x, 142);
  const std::int64_t C = s.x[1];
  const SavedStatistics saved = saved_statistics(in.x);
  const ReluGradient relu = relu_gradient(in, saved, epilogue, dtype, ReluMask::FromStoredY);
  DTypeStage stage(backend, dtype);
  Stage& f32 = stage.f32();
  const Tensor& dx = stage.output(s.x);
  const Tensor& dgamma = f32.output({C});
  const Tensor& dbeta = f32.output({C});
  const Tensor dresidual = epilogue == Epilogue::AddRelu ? stage.output(s.x) : Tensor();
  const Tensor& x = stage.input(in.x);
  const Tensor& dy = stage.input(in.dy);
  if (epilogue == Epilogue::None) {
    backend.batch_norm_backward_training(x, dy, f32.input(in.gamma), f32.input(saved.saved_mean),
                                         f32.input(saved.saved_invstd), dx, dgamma, dbeta);
  } else {
    backend.batch_norm_relu_backward_training(
        x, stage.input(relu.y), dy, f32.input(in.gamma), f32.input(in.beta),
        f32.input(saved.saved_mean), f32.input(saved.saved_invstd), dx, dresidual, dgamma, dbeta);
  }
  const BatchNormBackwardTolerances tolerance =
      batch_norm_backward_training_tolerances(in, relu.grad, saved);
  Outputs outputs{half_output("dx", stage.read(dx), dtype, tolerance.dx),
                  {"dgamma", f32.read(dgamma), tolerance.dgamma},
                  {"dbeta", f32.read(dbeta), tolerance.dbeta}};
  if (epilogue == Epilogue::AddRelu) {
    outputs.push_back({"dresidual", stage.read(dresidual), kExact});
  }
  return outputs;
}

}  // namespace

std::vector<Row> half_precision_rows() {
  std::vector<Row> rows;
  for (const HalfType& h : kHalfTypes) {
    const std::size_t first = rows.size();
    const std::string name = h.name;
    const DType d = h.dtype;
    const auto row = [&](const std::string& op, Outputs (*run)(DType, Backend&)) {
      rows.push_back({op + name, true, [d, run](Backend& b) { return run(d, b); }});
    };
    row("Fill", fill);
    row("Cast", cast);
    row("FindNonFiniteInMany", find_non_finite_in_many);
    rows.push_back({"FindNonFiniteNone" + name, true,
                    [d](Backend& b) { return find_non_finite(d, -1, 0.0f, b); }});
    rows.push_back({"FindNonFiniteInfInF32" + name, true,
                    [d](Backend& b) { return find_non_finite(d, 0, -kInf, b); }});
    rows.push_back({"FindNonFiniteNaN" + name, true,
                    [d](Backend& b) { return find_non_finite(d, 1, kNaN, b); }});
    rows.push_back({"FindNonFiniteInf" + name, true,
                    [d](Backend& b) { return find_non_finite(d, 2, kInf, b); }});
    row("ReluForward", relu_forward);
    row("ReluBackward", relu_backward);
    row("AddIntoA", add);
    row("MaxPool2dForward", max_pool2d_forward);
    row("MaxPool2dBackward", max_pool2d_backward);
    row("GlobalAvgPoolForward", global_avg_pool_forward);
    row("GlobalAvgPoolBackward", global_avg_pool_backward);
    row("SoftmaxCrossEntropyForward", softmax_cross_entropy_forward);
    row("SoftmaxCrossEntropyBackward", softmax_cross_entropy_backward);
    row("NormalizeImages", normalize_images);
    row("SgdWithGradScale", sgd_step);
    row("SgdStepAllWithComputeCopies", sgd_step_all);
    row("LinearForward", linear_forward);
    row("LinearBackward", linear_backward);
    for (const ConvShape& c : kConvShapes) {
      const std::string shape = c.name;
      rows.push_back({"Conv2dForward" + shape + name, c.odd,
                      [d, c](Backend& b) { return conv_forward(d, c, b); }});
      rows.push_back({"Conv2dBackwardData" + shape + name, c.odd,
                      [d, c](Backend& b) { return conv_backward_data(d, c, false, b); }});
      rows.push_back({"Conv2dBackwardDataAccumulate" + shape + name, c.odd,
                      [d, c](Backend& b) { return conv_backward_data(d, c, true, b); }});
      rows.push_back({"Conv2dBackwardFilter" + shape + name, c.odd,
                      [d, c](Backend& b) { return conv_backward_filter(d, c, b); }});
    }
    for (const ShapeCase& s : kNormShapes) {
      const std::string shape = s.name;
      const auto norm_row = [&](const std::string& op, Epilogue epilogue,
                                Outputs (*run)(DType, const ShapeCase&, Epilogue, Backend&)) {
        rows.push_back({op + shape + name, s.odd,
                        [d, s, epilogue, run](Backend& b) { return run(d, s, epilogue, b); }});
      };
      norm_row("BatchNormForwardTraining", Epilogue::None, batch_norm_forward_training);
      norm_row("BatchNormReluForwardTraining", Epilogue::Relu, batch_norm_forward_training);
      norm_row("BatchNormAddReluForwardTraining", Epilogue::AddRelu, batch_norm_forward_training);
      norm_row("BatchNormBackwardTraining", Epilogue::None, batch_norm_backward_training);
      norm_row("BatchNormReluBackwardTraining", Epilogue::Relu, batch_norm_backward_training);
      norm_row("BatchNormAddReluBackwardTraining", Epilogue::AddRelu, batch_norm_backward_training);
    }
    for (std::size_t i = first; i < rows.size(); ++i) rows[i].dtype = d;
  }
  return rows;
}

}  // namespace r50::backend_compare
