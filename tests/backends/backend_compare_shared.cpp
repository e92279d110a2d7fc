// What the rows of the CUDA-against-CPU table share (backend_compare.h, backend_compare_bounds.h):
// half-precision values and their staging, and the error bounds of convolution, pooling, softmax
// cross-entropy and the input normalisation with their derivations.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend_compare_bounds.h"
#include "core/half.h"
#include "ops/op_test_util.h"
#include "reference/pooling.h"

namespace r50::backend_compare {

// ---- half precision.

HostTensor<float> rounded(const HostTensor<float>& values, DType dtype) {
  std::vector<unsigned char> stored(static_cast<std::size_t>(values.numel()) * dtype_size(dtype));
  floats_into(values.data(), values.numel(), stored.data(), dtype);
  HostTensor<float> result(values.shape());
  floats_from(stored.data(), dtype, values.numel(), result.data());
  return result;
}

HostTensor<float> uniform_in(DType dtype, const Shape& shape, Rng& rng, double low, double high) {
  return rounded(uniform(shape, rng, low, high), dtype);
}

double unit_roundoff(DType dtype) {
  if (dtype == DType::F16) return 0x1p-11;
  if (dtype == DType::BF16) return 0x1p-8;
  return u;
}

Tolerance rounded_to(DType dtype, Tolerance f32, const HostTensor<float>& cpu_values) {
  if (dtype == DType::F32) return f32;
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

Output half_output(const std::string& name, const HostTensor<float>& values, DType dtype,
                   const Tolerance& f32) {
  return {name, values, rounded_to(dtype, f32, values)};
}

DTypeStage::DTypeStage(Backend& backend, DType dtype, CpuTensors cpu_tensors, bool one_element_off)
    : backend_(backend),
      dtype_(dtype),
      stored_(backend.device().is_cpu() && cpu_tensors == CpuTensors::F32StandIns ? DType::F32
                                                                                   : dtype),
      offset_(one_element_off ? 1 : 0),
      f32_(backend) {}

const Tensor& DTypeStage::input(const HostTensor<float>& values, Layout layout) {
  const OwnedTensor& allocation = allocations_.emplace_back(
      backend_.allocator(), Shape{values.numel() + offset_}, stored_, backend_.device());
  auto* first =
      static_cast<unsigned char*>(allocation.tensor().data()) + offset_ * dtype_size(stored_);
  const Tensor& tensor =
      tensors_.emplace_back(first, values.shape(), stored_, backend_.device(), layout);
  const std::vector<float> ordered =
      layout == Layout::ChannelsLast
          ? channels_last_order(values)
          : std::vector<float>(values.data(), values.data() + values.numel());
  std::vector<unsigned char> stored(tensor.nbytes());
  floats_into(ordered.data(), values.numel(), stored.data(), stored_);
  backend_.copy_from_host(tensor, stored.data());
  return tensor;
}

const Tensor& DTypeStage::output(const Shape& shape, Layout layout) {
  return input(HostTensor<float>(shape, std::numeric_limits<float>::quiet_NaN()), layout);
}

// A tensor of the dtype reads back exactly, so only a stand-in's values need rounding.
HostTensor<float> DTypeStage::read(const Tensor& tensor) {
  std::vector<unsigned char> stored(tensor.nbytes());
  backend_.copy_to_host(stored.data(), tensor);
  HostTensor<float> values(tensor.shape());
  floats_from(stored.data(), tensor.dtype(), tensor.numel(), values.data());
  if (tensor.layout() == Layout::ChannelsLast) {
    values = from_channels_last_order(tensor.shape(), values.data());
  }
  return stands_in() ? rounded(values, dtype_) : values;
}

std::vector<std::int32_t> random_labels(Rng& rng, std::int64_t n, std::int64_t k) {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(n));
  for (auto& label : labels)
    label = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(k)));
  return labels;
}

HostTensor<std::int32_t> label_tensor(const std::vector<std::int32_t>& labels) {
  HostTensor<std::int32_t> tensor({static_cast<std::int64_t>(labels.size())});
  std::copy(labels.begin(), labels.end(), tensor.data());
  return tensor;
}

// ---- convolutions and the fully connected layer.

// `magnitude` is computed by the CPU backend: a sum of non-negative terms, good to γ(terms)
// relative, negligible beside 1.
//
// The CPU backend (im2col + SGEMM) is within γ(terms)·magnitude of the exact value
// (tests/ops/conv_test). cuDNN picks its own algorithm, for either layout, under CUDNN_FMA_MATH
// (IEEE fp32, no TF32). Implicit GEMM and direct sums are within the same bound, whatever their
// order. FFT's error is normwise, about log2(tile size)·u·‖x‖·‖w‖ with tiles of at most 64×64;
// for uniform inputs ‖x‖·‖w‖ is about (4/3)·‖magnitude‖/sqrt(R·S), so that is at most
// 16u·‖magnitude‖/sqrt(R·S): within γ(terms)·‖magnitude‖ for 3×3 and 7×7 filters (γ >= 9u for
// their 9 or more terms), and within the allowance below for 1×1 filters (4γ >= 20u here).
// Winograd rounds in its input, filter and output transforms, whose coefficients (up to 5 in Bᵀ
// and 8 in Aᵀ for F(4×4, 3×3)) scale those roundings: an fp32 emulation of F(4×4, 3×3) on uniform
// inputs came out at 3.5 (64 channels) to 6.8 (5 channels) times the normwise error of direct
// summation (F(2×2, 3×3) at about 1), while the bound is more than 100 times direct summation's
// error there, so Winograd stays under a fourteenth of it. The CUDA side is allowed
// kCudnnAlgorithmFactor = 4 times the bound all the same, and the two backends together differ by
// at most (1 + 4)·γ(terms)·magnitude.
Tolerance conv_tolerance(const HostTensor<float>& magnitude, std::int64_t terms) {
  return per_element(magnitude, (1.0 + kCudnnAlgorithmFactor) * sum_bound(terms));
}

// Products of half values are exact in F32; tensor cores may sum with truncation rather than
// rounding to nearest, so the GPU side's bound is the worst case of n sums of 2u each, 2n·u of
// the magnitude, next to the CPU's γ(n).
double tensor_core_bound(std::int64_t terms) {
  return sum_bound(terms) + 2.0 * static_cast<double>(terms) * u;
}

// An output element that sums at most `terms` products of half values, each exact in fp32. The
// CPU's F32 op on these values is within γ(terms)·magnitude, as in the F32 rows. cuDNN runs half
// data with fp32 compute between its loads and stores (cuDNN's PSEUDO_HALF configuration,
// cudnn_conv.cpp): a direct sum on tensor cores, which may truncate, within 2·terms·u·magnitude
// (tensor_core_bound), and a CUDA-core algorithm, which a channels-last stem's C = 3 (no multiple
// of 8) may get, within that too; Winograd and FFT, whose transforms are then fp32 as for F32
// data, within kCudnnAlgorithmFactor times a direct sum's bound by the F32 rows' argument, which
// holds a fortiori against 2·terms·u >= γ(terms). The two backends then differ by at most
// γ + 4·2·terms·u <= kCudnnAlgorithmFactor·tensor_core_bound(terms) times the magnitude before
// each rounds the output to the dtype (half_output).
Tolerance half_conv_tolerance(const HostTensor<float>& magnitude, std::int64_t terms) {
  return per_element(magnitude, kCudnnAlgorithmFactor * tensor_core_bound(terms));
}

Tolerance half_conv_backward_data_tolerance(const HostTensor<float>& dy, const HostTensor<float>& w,
                                            const HostTensor<float>& before, bool accumulate,
                                            const ConvShape& c, DType dtype) {
  Tolerance tolerance = half_conv_tolerance(conv_backward_data_magnitude(dy, w, before, accumulate, c),
                                            conv_backward_data_terms(c, accumulate));
  if (accumulate) {
    const Tolerance rounded = per_element(conv_backward_data_magnitude(dy, w, before, false, c), unit_roundoff(dtype));
    tolerance.atol += rounded.atol;
    tolerance.norm += rounded.norm;
  }
  return tolerance;
}

HostTensor<float> conv_forward_magnitude(const HostTensor<float>& x, const HostTensor<float>& w,
                                         const ConvShape& c) {
  HostTensor<float> magnitude(conv2d_output_shape(c.x, c.w, c.params));
  cpu().conv2d_forward(absolute(x).view(), absolute(w).view(), magnitude.view(), c.params);
  return magnitude;
}

HostTensor<float> conv_backward_data_magnitude(const HostTensor<float>& dy,
                                               const HostTensor<float>& w,
                                               const HostTensor<float>& before, bool accumulate,
                                               const ConvShape& c) {
  HostTensor<float> magnitude(c.x);
  cpu().conv2d_backward_data(absolute(dy).view(), absolute(w).view(), magnitude.view(), c.params,
                             false);
  if (accumulate) {
    for (std::int64_t i = 0; i < magnitude.numel(); ++i) magnitude[i] += std::abs(before[i]);
  }
  return magnitude;
}

HostTensor<float> conv_backward_filter_magnitude(const HostTensor<float>& x,
                                                 const HostTensor<float>& dy, const ConvShape& c) {
  HostTensor<float> magnitude(c.w);
  cpu().conv2d_backward_filter(absolute(x).view(), absolute(dy).view(), magnitude.view(),
                               c.params);
  return magnitude;
}

std::int64_t conv_forward_terms(const ConvShape& c) { return c.w[1] * c.w[2] * c.w[3]; }

// A dx element gathers at most one product per (k, r, s).
std::int64_t conv_backward_data_terms(const ConvShape& c, bool accumulate) {
  return c.w[0] * c.w[2] * c.w[3] + (accumulate ? 1 : 0);
}

// A dw element sums one product per (n, p, q).
std::int64_t conv_backward_filter_terms(const ConvShape& c) {
  const Shape y = conv2d_output_shape(c.x, c.w, c.params);
  return y[0] * y[2] * y[3];
}

namespace {

Outputs f32_conv_forward(const ConvShape& c, const F32ConvolutionRows& how, Backend& backend) {
  Rng rng(how.seed);
  const auto x = uniform(c.x, rng), w = uniform(c.w, rng);
  Stage stage(backend);
  const Tensor& y = stage.output(conv2d_output_shape(c.x, c.w, c.params), how.layout);
  backend.conv2d_forward(stage.input(x, how.layout), stage.input(w, how.layout), y, c.params);
  return {{"y", stage.read(y), how.tolerance(conv_forward_magnitude(x, w, c), conv_forward_terms(c))}};
}

// Overwriting dx, or adding to what it held (cuDNN's beta = 1; one more term per element).
Outputs f32_conv_backward_data(const ConvShape& c, const F32ConvolutionRows& how, bool accumulate,
                               Backend& backend) {
  Rng rng(how.seed + 1);
  const auto dy = uniform(conv2d_output_shape(c.x, c.w, c.params), rng), w = uniform(c.w, rng);
  const auto before = uniform(c.x, rng);
  Stage stage(backend);
  const Tensor& dx = accumulate ? stage.input(before, how.layout) : stage.output(c.x, how.layout);
  backend.conv2d_backward_data(stage.input(dy, how.layout), stage.input(w, how.layout), dx, c.params, accumulate);
  return {{"dx", stage.read(dx),
           how.tolerance(conv_backward_data_magnitude(dy, w, before, accumulate, c),
                         conv_backward_data_terms(c, accumulate))}};
}

Outputs f32_conv_backward_filter(const ConvShape& c, const F32ConvolutionRows& how, Backend& backend) {
  Rng rng(how.seed + 2);
  const auto x = uniform(c.x, rng), dy = uniform(conv2d_output_shape(c.x, c.w, c.params), rng);
  Stage stage(backend);
  const Tensor& dw = stage.output(c.w, how.layout);
  backend.conv2d_backward_filter(stage.input(x, how.layout), stage.input(dy, how.layout), dw, c.params);
  return {{"dw", stage.read(dw),
           how.tolerance(conv_backward_filter_magnitude(x, dy, c), conv_backward_filter_terms(c))}};
}

}  // namespace

void add_f32_convolution_rows(std::vector<Row>& rows, const ConvShape& c, const F32ConvolutionRows& how) {
  const auto row = [&](const char* op, std::function<Outputs(Backend&)> run) {
    rows.push_back({op + std::string(c.name) + how.suffix, c.odd, std::move(run), how.precision});
  };
  row("Conv2dForward", [c, how](Backend& b) { return f32_conv_forward(c, how, b); });
  row("Conv2dBackwardData", [c, how](Backend& b) { return f32_conv_backward_data(c, how, false, b); });
  row("Conv2dBackwardDataAccumulate", [c, how](Backend& b) { return f32_conv_backward_data(c, how, true, b); });
  row("Conv2dBackwardFilter", [c, how](Backend& b) { return f32_conv_backward_filter(c, how, b); });
}

// ---- pooling, softmax cross-entropy, the input normalisation.

// A dx element sums the dy of the windows that picked it, at most ceil(kernel/stride)² of them,
// in an order each backend chooses: γ(windows)·Σ|those dy| each; magnitude is that sum.
Tolerance max_pool2d_backward_tolerance(const HostTensor<float>& x, const HostTensor<float>& y,
                                        const HostTensor<float>& dy, const Pool2dParams& params) {
  const std::int64_t reach = (params.kernel + params.stride - 1) / params.stride;
  const auto magnitude = reference::max_pool2d_backward(x.cast<double>(), y.cast<double>(),
                                                        absolute(dy).cast<double>(), params);
  return per_element(magnitude, 2 * sum_bound(reach * reach));
}

// y = Σx / HW: an fp32 sum is within γ(HW)·Σ|x|, so γ(HW)·mean|x| after the division, which
// rounds once more (u·|y| <= u·mean|x|); the CPU rounds its double result once.
Tolerance global_avg_pool_forward_tolerance(const HostTensor<float>& x) {
  const auto mean_abs = reference::global_avg_pool_forward(absolute(x).cast<double>());
  return per_element(mean_abs, sum_bound(x.shape()[2] * x.shape()[3]) + 2 * u);
}

// In fp32, with L = 2·max|x| + ln K bounding |x - m|, |x - logsumexp| and |logsumexp|:
// x - m rounds (u·L), exp adds 2 ulp, the sum of K positive terms γ(K) relative, the log and
// the two subtractions u·L each: logsumexp and each row's loss are within
// e = γ(K) + 4u·L + 2u. probs = exp(x - logsumexp) is then within e + u·L + 2u relative, and
// the CPU (double, rounded once) u more. The loss is the mean of N positive row losses: e
// absolute, and γ(N) + u relative for the sum and division, u more on the CPU.
SoftmaxCrossEntropyTolerances softmax_cross_entropy_forward_tolerances(std::int64_t n,
                                                                       std::int64_t k,
                                                                       double largest) {
  const double L = 2 * largest + std::log(double(k));
  const double e = sum_bound(k) + 4 * u * L + 2 * u;
  return {elementwise(0.0, e + u * L + 3 * u), elementwise(e, sum_bound(n) + 2 * u)};
}

// y = value/255·(1/std) - mean/std in any arrangement: at most 5 roundings (the two constants,
// the product, the sum), each of a value no larger than 1/min(std) (|y| <= 2.7 and
// mean/std <= 2.2 are smaller), in each backend.
Tolerance normalize_images_tolerance() {
  const double smallest_std = *std::min_element(kImageNetStd.begin(), kImageNetStd.end());
  return elementwise(2 * 5 * u / smallest_std, 0.0);
}

}  // namespace r50::backend_compare
