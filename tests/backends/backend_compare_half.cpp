// The half-precision rows of the CUDA-against-CPU table: the CUDA backend's ops on F16 and BF16
// tensors against the CPU backend's F32 ops on the same values, whose half-precision outputs are
// rounded once on the host. backend.h has every op compute in F32 and round once to nearest even
// when it stores a half, so that is the result each CUDA op must give: exactly where the F32 op
// is exact, otherwise within the F32 row's tolerance and the two roundings of the output (one per
// backend). The rows ask nothing of the CPU backend but its F32 ops.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend_compare.h"
#include "core/half.h"
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

// `values` as `dtype` holds them: each rounded to nearest even (core/half.h) and widened back.
HostTensor<float> rounded(const HostTensor<float>& values, DType dtype) {
  std::vector<unsigned char> stored(static_cast<std::size_t>(values.numel()) * dtype_size(dtype));
  floats_into(values.data(), values.numel(), stored.data(), dtype);
  HostTensor<float> result(values.shape());
  floats_from(stored.data(), dtype, values.numel(), result.data());
  return result;
}

HostTensor<float> uniform_in(DType dtype, const Shape& shape, Rng& rng, double low = -1.0,
                             double high = 1.0) {
  return rounded(uniform(shape, rng, low, high), dtype);
}

// The unit roundoff of F16 (2^-11) or BF16 (2^-8).
double unit_roundoff(DType dtype) { return dtype == DType::F16 ? 0x1p-11 : 0x1p-8; }

// `f32` (the F32 op's tolerance) widened by the two roundings of an output to `dtype`, each
// within u·|value| (3u relative covers both, and |value| before rounding against |cpu| after),
// and for F16 below 2^-14 within half its subnormal spacing 2^-24, 2^-24 absolute for both.
Tolerance rounded_to(DType dtype, Tolerance f32, const HostTensor<float>& cpu_values) {
  const double rtol = 3 * unit_roundoff(dtype), atol = dtype == DType::F16 ? 0x1p-24 : 0.0;
  Tolerance tolerance = f32;
  tolerance.atol += atol;
  tolerance.rtol += rtol;
  if (f32.norm >= 0) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < cpu_values.numel(); ++i) {
      sum += std::pow(atol + rtol * std::abs(cpu_values[i]), 2);
    }
    tolerance.norm += std::sqrt(sum);
  }
  return tolerance;
}

// A half-precision output of `values` (the CPU's, rounded) whose F32 op meets `f32`.
Output half_output(const std::string& name, const HostTensor<float>& values, DType dtype,
                   const Tolerance& f32) {
  return {name, values, rounded_to(dtype, f32, values)};
}

// One row's tensors on one backend. Tensors of the row's half dtype are that dtype on the CUDA
// backend and F32 tensors of the same values on the CPU, whose outputs read() rounds as a
// half-precision op stores them; f32() holds the tensors that are F32 on both.
class HalfStage {
 public:
  HalfStage(Backend& backend, DType dtype)
      : backend_(backend), dtype_(dtype), stored_(backend.device().is_cpu() ? DType::F32 : dtype),
        f32_(backend) {}

  // True on the CPU, where half tensors are F32 stand-ins.
  bool stands_in() const { return stored_ == DType::F32; }

  // A half tensor of `values`, which the dtype must hold exactly (uniform_in, rounded).
  const Tensor& input(const HostTensor<float>& values) {
    const Tensor& tensor =
        tensors_.emplace_back(backend_.allocator(), values.shape(), stored_, backend_.device())
            .tensor();
    std::vector<unsigned char> stored(tensor.nbytes());
    floats_into(values.data(), values.numel(), stored.data(), stored_);
    backend_.copy_from_host(tensor, stored.data());
    return tensor;
  }
  const Tensor& output(const Shape& shape) { return input(HostTensor<float>(shape, kNaN)); }

  // A half tensor's values, rounded to the dtype where they were computed in F32.
  HostTensor<float> read(const Tensor& tensor) {
    std::vector<unsigned char> stored(tensor.nbytes());
    backend_.copy_to_host(stored.data(), tensor);
    HostTensor<float> values(tensor.shape());
    floats_from(stored.data(), tensor.dtype(), tensor.numel(), values.data());
    return rounded(values, dtype_);
  }

  Stage& f32() { return f32_; }

 private:
  Backend& backend_;
  DType dtype_, stored_;
  Stage f32_;
  std::deque<OwnedTensor> tensors_;  // a deque keeps the tensors' addresses as it grows
};

// ---- fill and cast: one rounding of the same F32 value on both sides, so exact.

Outputs fill(DType dtype, Backend& backend) {
  HalfStage stage(backend, dtype);
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
  HalfStage stage(backend, dtype);
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
  HalfStage stage(backend, dtype);
  const Tensor& found = stage.f32().output({1});
  backend.fill(found, 0.0f);
  backend.find_non_finite({stage.f32().input(a), stage.input(b), stage.input(c)}, found);
  return {{"found", stage.f32().read(found), kExact}};
}

Outputs find_non_finite_in_many(DType dtype, Backend& backend) {
  Rng rng(103);
  HalfStage stage(backend, dtype);
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
  HalfStage stage(backend, dtype);
  const Tensor& y = stage.output(kOddShape);
  backend.relu_forward(stage.input(x), y);
  return {{"y", stage.read(y), kExact}};
}

Outputs relu_backward(DType dtype, Backend& backend) {
  Rng rng(152);
  auto y = uniform_in(dtype, kOddShape, rng);
  for (std::int64_t i = 0; i < y.numel(); ++i) y[i] = std::max(y[i], 0.0f);
  const auto dy = uniform_in(dtype, kOddShape, rng);
  HalfStage stage(backend, dtype);
  const Tensor& dx = stage.output(kOddShape);
  backend.relu_backward(stage.input(y), stage.input(dy), dx);
  return {{"dx", stage.read(dx), kExact}};
}

// The F32 sum is correctly rounded on both sides, and so is its rounding to the dtype.
Outputs add(DType dtype, Backend& backend) {
  Rng rng(153);
  const auto a = uniform_in(dtype, kOddShape, rng), b = uniform_in(dtype, kOddShape, rng);
  HalfStage stage(backend, dtype);
  const Tensor& a_tensor = stage.input(a);
  backend.add(a_tensor, stage.input(b), a_tensor);
  return {{"y", stage.read(a_tensor), kExact}};
}

const Pool2dParams kStemPool{3, 2, 1};

Outputs max_pool2d_forward(DType dtype, Backend& backend) {
  Rng rng(161);
  const auto x = uniform_in(dtype, {3, 5, 14, 11}, rng);
  HalfStage stage(backend, dtype);
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
  HalfStage stage(backend, dtype);
  const Tensor& dx = stage.output(x.shape());
  backend.max_pool2d_backward(stage.input(x), stage.input(y), stage.input(dy), dx, kStemPool);
  // As the F32 row: γ(windows)·Σ|the dy a dx element sums|, in each backend.
  const std::int64_t reach = (kStemPool.kernel + kStemPool.stride - 1) / kStemPool.stride;
  const auto magnitude = reference::max_pool2d_backward(x.cast<double>(), y.cast<double>(),
                                                        absolute(dy).cast<double>(), kStemPool);
  return {half_output("dx", stage.read(dx), dtype,
                      per_element(magnitude, 2 * sum_bound(reach * reach)))};
}

// ---- global average pooling, softmax cross-entropy, normalisation: the F32 rows' bounds, and
// the rounding of half outputs.

Outputs global_avg_pool_forward(DType dtype, Backend& backend) {
  Rng rng(163);
  const auto x = uniform_in(dtype, kOddShape, rng);
  HalfStage stage(backend, dtype);
  const Tensor& y = stage.output({kOddShape[0], kOddShape[1]});
  backend.global_avg_pool_forward(stage.input(x), y);
  const auto mean_abs = reference::global_avg_pool_forward(absolute(x).cast<double>());
  const std::int64_t hw = kOddShape[2] * kOddShape[3];
  return {half_output("y", stage.read(y), dtype, per_element(mean_abs, sum_bound(hw) + 2 * u))};
}

Outputs global_avg_pool_backward(DType dtype, Backend& backend) {
  Rng rng(164);
  const auto dy = uniform_in(dtype, {kOddShape[0], kOddShape[1]}, rng);
  HalfStage stage(backend, dtype);
  const Tensor& dx = stage.output(kOddShape);
  backend.global_avg_pool_backward(stage.input(dy), dx);
  return {half_output("dx", stage.read(dx), dtype, elementwise(0.0, reference::fp32_roundings(3)))};
}

std::vector<std::int32_t> random_labels(Rng& rng, std::int64_t n, std::int64_t k) {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(n));
  for (auto& label : labels) {
    label = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(k)));
  }
  return labels;
}

HostTensor<std::int32_t> label_tensor(const std::vector<std::int32_t>& labels) {
  HostTensor<std::int32_t> tensor({static_cast<std::int64_t>(labels.size())});
  for (std::size_t i = 0; i < labels.size(); ++i) tensor[static_cast<std::int64_t>(i)] = labels[i];
  return tensor;
}

// Half logits, F32 probs and loss: the F32 row's bounds on the same logits (backend_compare_test).
Outputs softmax_cross_entropy_forward(DType dtype, Backend& backend) {
  Rng rng(171);
  const std::int64_t n = 33, k = 1000;
  const double largest = 8.0;
  const auto logits = uniform_in(dtype, {n, k}, rng, -largest, largest);
  const auto labels = random_labels(rng, n, k);
  HalfStage stage(backend, dtype);
  const Tensor& probs = stage.f32().output({n, k});
  const Tensor& loss = stage.f32().output({1});
  const Tensor& label_values = stage.f32().input(label_tensor(labels));
  backend.softmax_cross_entropy_forward(stage.input(logits), label_values, probs, loss);
  const double L = 2 * largest + std::log(double(k));
  const double e = sum_bound(k) + 4 * u * L + 2 * u;
  return {{"probs", stage.f32().read(probs), elementwise(0.0, e + u * L + 3 * u)},
          {"loss", stage.f32().read(loss), elementwise(e, sum_bound(n) + 2 * u)}};
}

// F32 probs, half dlogits scaled by a loss scale.
Outputs softmax_cross_entropy_backward(DType dtype, Backend& backend) {
  Rng rng(172);
  const std::int64_t n = 7, k = 101;
  const auto logits = uniform({n, k}, rng, -8.0, 8.0);
  const auto labels = random_labels(rng, n, k);
  const HostTensor<float> probs =
      reference::softmax_cross_entropy_forward(logits.cast<double>(), labels).probs.cast<float>();
  HalfStage stage(backend, dtype);
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
  HalfStage stage(backend, dtype);
  const Tensor& y = stage.output({3, 3, 13, 17});
  backend.normalize_images(stage.f32().input(images), y, kImageNetMean, kImageNetStd);
  const double smallest_std = *std::min_element(kImageNetStd.begin(), kImageNetStd.end());
  return {half_output("y", stage.read(y), dtype, elementwise(2 * 5 * u / smallest_std, 0.0))};
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

const Tensor& sgd_grad(HalfStage& stage, const HostTensor<float>& grad) {
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
  HalfStage stage(backend, dtype);
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
  HalfStage stage(backend, dtype);
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

// Products of half values are exact in F32; tensor cores may sum with truncation rather than
// rounding to nearest, so the GPU side's bound is the worst case of n sums of 2u each, 2n·u of
// the magnitude, next to the CPU's γ(n).
double tensor_core_bound(std::int64_t terms) {
  return sum_bound(terms) + 2.0 * static_cast<double>(terms) * u;
}

Outputs linear_forward(DType dtype, Backend& backend) {
  Rng rng(121);
  const std::int64_t n = 5, in = 300, out = 37;
  const auto x = uniform_in(dtype, {n, in}, rng), w = uniform_in(dtype, {out, in}, rng);
  const auto b = uniform_in(dtype, {out}, rng);
  HalfStage stage(backend, dtype);
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
  HalfStage stage(backend, dtype);
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
// shapes (backend_compare_conv_linear.cpp).
struct ConvShape {
  const char* name;
  Shape x, w;
  Conv2dParams params;
  bool odd;
};

const ConvShape kConvShapes[] = {
    {"Bottleneck3x3Stride1", {2, 64, 14, 14}, {64, 64, 3, 3}, {1, 1}, false},
    {"Odd7x7Stride2Pad3", {3, 3, 13, 13}, {5, 3, 7, 7}, {2, 3}, true},
    {"Odd3x3Stride2", {3, 5, 13, 13}, {7, 5, 3, 3}, {2, 1}, true},
    {"Odd1x1Stride2", {3, 5, 13, 13}, {7, 5, 1, 1}, {2, 0}, true},
};

// An output element that sums at most `terms` products of half values, each exact in fp32;
// `magnitude` is the same convolution of |inputs| by the CPU's F32 op (Σ|terms| per element).
// The CPU's F32 op on these values is within γ(terms)·magnitude, as in the F32 rows. cuDNN runs
// half data with fp32 compute between its loads and stores (cuDNN's PSEUDO_HALF configuration,
// cudnn_conv.cpp): a direct sum on tensor cores, which may truncate, within 2·terms·u·magnitude
// (tensor_core_bound); Winograd and FFT, whose transforms are then fp32 as for F32 data, within
// kCudnnAlgorithmFactor times a direct sum's bound by the F32 rows' argument, which holds a
// fortiori against 2·terms·u >= γ(terms). The two backends then
// differ by at most γ + 4·2·terms·u <= kCudnnAlgorithmFactor·tensor_core_bound(terms) times the
// magnitude before each rounds the output to the dtype (half_output).
Tolerance half_conv_tolerance(const HostTensor<float>& magnitude, std::int64_t terms) {
  return per_element(magnitude, kCudnnAlgorithmFactor * tensor_core_bound(terms));
}

Outputs conv_forward(DType dtype, const ConvShape& c, Backend& backend) {
  Rng rng(131);
  const auto x = uniform_in(dtype, c.x, rng), w = uniform_in(dtype, c.w, rng);
  const Shape y_shape = conv2d_output_shape(c.x, c.w, c.params);
  HalfStage stage(backend, dtype);
  const Tensor& y = stage.output(y_shape);
  backend.conv2d_forward(stage.input(x), stage.input(w), y, c.params);
  HostTensor<float> magnitude(y_shape);
  cpu().conv2d_forward(absolute(x).view(), absolute(w).view(), magnitude.view(), c.params);
  const std::int64_t terms = c.w[1] * c.w[2] * c.w[3];
  return {half_output("y", stage.read(y), dtype, half_conv_tolerance(magnitude, terms))};
}

// Overwriting dx, or adding to what it held (cuDNN's beta = 1): `before`, exact in the dtype, is
// one more term of the fp32 sum, rounded once with it.
Outputs conv_backward_data(DType dtype, const ConvShape& c, bool accumulate, Backend& backend) {
  Rng rng(132);
  const auto dy = uniform_in(dtype, conv2d_output_shape(c.x, c.w, c.params), rng);
  const auto w = uniform_in(dtype, c.w, rng), before = uniform_in(dtype, c.x, rng);
  HalfStage stage(backend, dtype);
  const Tensor& dx = accumulate ? stage.input(before) : stage.output(c.x);
  backend.conv2d_backward_data(stage.input(dy), stage.input(w), dx, c.params, accumulate);
  HostTensor<float> magnitude(c.x);
  cpu().conv2d_backward_data(absolute(dy).view(), absolute(w).view(), magnitude.view(), c.params,
                             false);
  if (accumulate) {
    for (std::int64_t i = 0; i < magnitude.numel(); ++i) magnitude[i] += std::abs(before[i]);
  }
  // A dx element gathers at most one product per (k, r, s).
  const std::int64_t terms = c.w[0] * c.w[2] * c.w[3] + (accumulate ? 1 : 0);
  return {half_output("dx", stage.read(dx), dtype, half_conv_tolerance(magnitude, terms))};
}

Outputs conv_backward_filter(DType dtype, const ConvShape& c, Backend& backend) {
  Rng rng(133);
  const Shape y_shape = conv2d_output_shape(c.x, c.w, c.params);
  const auto x = uniform_in(dtype, c.x, rng), dy = uniform_in(dtype, y_shape, rng);
  HalfStage stage(backend, dtype);
  const Tensor& dw = stage.output(c.w);
  backend.conv2d_backward_filter(stage.input(x), stage.input(dy), dw, c.params);
  HostTensor<float> magnitude(c.w);
  cpu().conv2d_backward_filter(absolute(x).view(), absolute(dy).view(), magnitude.view(),
                               c.params);
  // A dw element sums one product per (n, p, q).
  const std::int64_t terms = y_shape[0] * y_shape[2] * y_shape[3];
  return {half_output("dw", stage.read(dw), dtype, half_conv_tolerance(magnitude, terms))};
}

// ---- batch norm: half activations and their gradients, F32 per-channel tensors. The inputs are
// values the dtype holds, which both backends widen to F32 exactly, so every bound is the F32
// rows' (backend_compare_batchnorm.cpp derives each term) on the same values, and the half
// outputs add their rounding (half_output).

struct NormShape {
  const char* name;
  Shape x;
  bool odd;
};

const NormShape kNormShapes[] = {
    {"Layer2", {4, 128, 28, 28}, false},     // planes of a multiple of 4 values: 4 per access
    {"StemLike", {2, 16, 112, 112}, false},  // few long channels: the reductions split
    {"Odd", {3, 5, 13, 13}, true},           // one value per access
};

// The F32 rows' inputs rounded to the dtype: activations with each channel centred on its own
// mean in [-2, 2] with its own spread in [0.3, 1.5], dy and the residual uniform.
struct BatchNormInputs {
  HostTensor<float> x, gamma, beta, running_mean, running_var, dy, residual;
};

BatchNormInputs batch_norm_inputs(DType dtype, const Shape& shape, std::uint64_t seed) {
  Rng rng(seed);
  const std::int64_t C = shape[1];
  BatchNormInputs in;
  in.x = rounded(activations(shape, rng), dtype);
  in.gamma = uniform({C}, rng, 0.5, 1.5);
  in.beta = uniform({C}, rng);
  in.running_mean = uniform({C}, rng);
  in.running_var = uniform({C}, rng, 0.5, 2.0);
  in.dy = uniform_in(dtype, shape, rng);
  in.residual = uniform_in(dtype, shape, rng, -2.0, 2.0);
  return in;
}

// What follows batch norm: nothing, or ReLU with or without a residual sum first.
enum class Epilogue { None, Relu, AddRelu };

Outputs batch_norm_forward_training(DType dtype, const NormShape& s, Epilogue epilogue,
                                    Backend& backend) {
  const BatchNormInputs in = batch_norm_inputs(dtype, s.x, 141);
  const std::int64_t C = s.x[1];
  const BatchNormParams params;
  HalfStage stage(backend, dtype);
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
  // The F32 row's bounds, per channel with κ its variance's condition number and γ = γ(count):
  // mean 3γ·max|x| and a rounding per backend; invstd half the variance's 3κγ and 4 roundings;
  // the running statistics m times those and their own roundings; y the mean's and scale's
  // errors carried through, 8 roundings, and 2 for a residual sum (ReLU adds nothing).
  const ChannelStatistics stats = channel_statistics(in.x);
  const double m = params.momentum, g = sum_bound(stats.count);
  HostTensor<double> mean_limit({C}), invstd_rtol({C}), invstd_limit({C}), running_mean_limit({C}),
      running_var_limit({C}), y_limit(s.x);
  std::vector<double> invstd(C);
  for (std::int64_t c = 0; c < C; ++c) {
    const double kappa = std::sqrt(1.0 + stats.mean[c] * stats.mean[c] / stats.var[c]);
    mean_limit[c] = 3 * g * stats.max_abs[c] + 2 * u * std::abs(stats.mean[c]);
    invstd_rtol[c] = 1.5 * kappa * g + 4 * u;
    invstd[c] = 1.0 / std::sqrt(stats.var[c] + params.eps);
    invstd_limit[c] = invstd_rtol[c] * invstd[c];
    running_mean_limit[c] =
        m * mean_limit[c] + 5 * u * (std::abs(in.running_mean[c]) + std::abs(stats.mean[c]));
    const double unbiased = stats.var[c] * stats.count / (stats.count - 1.0);
    running_var_limit[c] =
        (3 * kappa * g + 6 * u) * ((1 - m) * in.running_var[c] + m * unbiased);
  }
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = stats.channel(i);
    const double scale = std::abs(in.gamma[c]) * invstd[c];
    const double centred = std::abs(in.x[i] - stats.mean[c]);
    y_limit[i] = scale * mean_limit[c] + centred * scale * (invstd_rtol[c] + 2 * u) +
                 8 * u * (scale * (std::abs(in.x[i]) + std::abs(stats.mean[c])) +
                          std::abs(in.beta[c]));
    if (epilogue == Epilogue::AddRelu) {
      y_limit[i] +=
          2 * u * (scale * centred + std::abs(in.beta[c]) + std::abs(in.residual[i]));
    }
  }
  return {half_output("y", stage.read(y), dtype, per_element(y_limit)),
          {"saved_mean", f32.read(saved_mean), per_element(mean_limit)},
          {"saved_invstd", f32.read(saved_invstd), per_element(invstd_limit)},
          {"running_mean", f32.read(running_mean), per_element(running_mean_limit)},
          {"running_var", f32.read(running_var), per_element(running_var_limit)}};
}

// The dtype's smallest positive value: F16's subnormal 2^-24, BF16's 2^-133.
double smallest_positive(DType dtype) { return dtype == DType::F16 ? 0x1p-24 : 0x1p-133; }

Outputs batch_norm_backward_training(DType dtype, const NormShape& s, Epilogue epilogue,
                                     Backend& backend) {
  BatchNormInputs in = batch_norm_inputs(dtype, s.x, 142);
  const std::int64_t C = s.x[1];
  // The saved statistics as the forward leaves them: exact, rounded once to F32.
  const ChannelStatistics stats = channel_statistics(in.x);
  HostTensor<float> saved_mean({C}), saved_invstd({C});
  std::vector<double> mean(C), invstd(C);
  for (std::int64_t c = 0; c < C; ++c) {
    saved_mean[c] = static_cast<float>(stats.mean[c]);
    saved_invstd[c] = static_cast<float>(1.0 / std::sqrt(stats.var[c] + 1e-5));
    mean[c] = saved_mean[c];
    invstd[c] = saved_invstd[c];
  }
  // Behind the ReLU, batch norm's gradient `grad` is dy where the forward's stored
  // y = max(v, 0) is positive, v = (x - mean)·invstd·gamma + beta (+ residual) made here in
  // double and y rounded to the dtype. With a residual both backends must read y (backend.h),
  // so their masks are y's exactly and dy stays whole. Without one a backend may recompute v in
  // fp32 from x and the saved statistics, rounded to the dtype before its sign is tested as y
  // was (kernels.h): positive exactly where v exceeds half the smallest positive value of the
  // dtype, and that v is within a few roundings of the exact one, so dy is zeroed where v lies
  // within 64 roundings of 0 (as the F32 rows) plus that smallest value, and `grad` is exact
  // whichever mask a backend takes.
  HostTensor<float> y(s.x), grad = in.dy;
  if (epilogue != Epilogue::None) {
    for (std::int64_t i = 0; i < in.x.numel(); ++i) {
      const std::int64_t c = stats.channel(i);
      const double centred = (double(in.x[i]) - mean[c]) * invstd[c] * in.gamma[c];
      const double r = epilogue == Epilogue::AddRelu ? in.residual[i] : 0.0;
      const double v = centred + in.beta[c] + r;
      if (epilogue == Epilogue::Relu &&
          std::abs(v) <= 64 * u * (std::abs(centred) + std::abs(in.beta[c])) +
                             smallest_positive(dtype)) {
        in.dy[i] = 0.0f;
      }
      y[i] = static_cast<float>(v > 0.0 ? v : 0.0);
    }
    y = rounded(y, dtype);
    for (std::int64_t i = 0; i < y.numel(); ++i) grad[i] = y[i] > 0.0f ? in.dy[i] : 0.0f;
  }
  HalfStage stage(backend, dtype);
  Stage& f32 = stage.f32();
  const Tensor& dx = stage.output(s.x);
  const Tensor& dgamma = f32.output({C});
  const Tensor& dbeta = f32.output({C});
  const Tensor dresidual = epilogue == Epilogue::AddRelu ? stage.output(s.x) : Tensor();
  const Tensor& x = stage.input(in.x);
  const Tensor& dy = stage.input(in.dy);
  if (epilogue == Epilogue::None) {
    backend.batch_norm_backward_training(x, dy, f32.input(in.gamma), f32.input(saved_mean),
                                         f32.input(saved_invstd), dx, dgamma, dbeta);
  } else {
    backend.batch_norm_relu_backward_training(
        x, stage.input(y), dy, f32.input(in.gamma), f32.input(in.beta), f32.input(saved_mean),
        f32.input(saved_invstd), dx, dresidual, dgamma, dbeta);
  }
  // The F32 row's bounds, γ = γ(count): dbeta = Σ grad within γ·Σ|grad| and a rounding per
  // backend; dgamma = Σ grad·xhat the same with 3 roundings more per term; dx = scale·(grad -
  // dbeta/count - xhat·dgamma/count) their errors over count and 6 roundings per backend of the
  // three terms, all times |scale|.
  const double count = double(stats.count), g = sum_bound(stats.count);
  HostTensor<double> dbeta_limit({C}), dgamma_limit({C}), dx_limit(s.x);
  std::vector<double> sum_grad(C), sum_grad_xhat(C), sum_abs_grad(C), sum_abs_grad_xhat(C);
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = stats.channel(i);
    const double xhat = (in.x[i] - mean[c]) * invstd[c];
    sum_grad[c] += grad[i];
    sum_grad_xhat[c] += grad[i] * xhat;
    sum_abs_grad[c] += std::abs(grad[i]);
    sum_abs_grad_xhat[c] += std::abs(grad[i] * xhat);
  }
  for (std::int64_t c = 0; c < C; ++c) {
    dbeta_limit[c] = g * sum_abs_grad[c] + 2 * u * std::abs(sum_grad[c]);
    dgamma_limit[c] = (g + 3 * u) * sum_abs_grad_xhat[c] + 2 * u * std::abs(sum_grad_xhat[c]);
  }
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = stats.channel(i);
    const double xhat = std::abs((in.x[i] - mean[c]) * invstd[c]);
    const double scale = std::abs(in.gamma[c]) * invstd[c];
    dx_limit[i] = scale * ((dbeta_limit[c] + xhat * dgamma_limit[c]) / count +
                           12 * u *
                               (std::abs(grad[i]) +
                                (std::abs(sum_grad[c]) + xhat * std::abs(sum_grad_xhat[c])) /
                                    count));
  }
  Outputs outputs{half_output("dx", stage.read(dx), dtype, per_element(dx_limit)),
                  {"dgamma", f32.read(dgamma), per_element(dgamma_limit)},
                  {"dbeta", f32.read(dbeta), per_element(dbeta_limit)}};
  if (epilogue == Epilogue::AddRelu) {
    outputs.push_back({"dresidual", stage.read(dresidual), kExact});
  }
  return outputs;
}

}  // namespace

std::vector<Row> half_precision_rows() {
  std::vector<Row> rows;
  for (const HalfType& h : kHalfTypes) {
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
    for (const NormShape& s : kNormShapes) {
      const std::string shape = s.name;
      const auto norm_row = [&](const std::string& op, Epilogue epilogue,
                                Outputs (*run)(DType, const NormShape&, Epilogue, Backend&)) {
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
  }
  return rows;
}

}  // namespace r50::backend_compare
