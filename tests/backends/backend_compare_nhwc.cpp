// The channels-last rows of the CUDA-against-CPU table: the ops that index planes (convolutions,
// pooling, the input normalisation) and two elementwise ones on NHWC tensors (KRSC filters). The
// CPU backend computes on NCHW copies of them (f32_staging.h), so each row is its NCHW row with
// another memory order on both sides, and meets that row's tolerance: values are written and read
// back in NCHW order (Stage), so the tolerances' magnitudes are the NCHW rows' too. F16 rows run
// the CUDA backend on F16 tensors and the CPU backend on F32 stand-ins of the same values, whose
// outputs are rounded once on the host, as backend_compare_half.cpp does for NCHW.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include "backends/backend_compare.h"
#include "core/half.h"
#include "ops/op_test_util.h"
#include "reference/pooling.h"

namespace r50::backend_compare {
namespace {

constexpr Layout kNhwc = Layout::ChannelsLast;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// ---- half precision: backend_compare_half.cpp's stage and bounds, for channels-last tensors.

// `values` as `dtype` holds them: each rounded to nearest even and widened back.
HostTensor<float> rounded(const HostTensor<float>& values, DType dtype) {
  std::vector<unsigned char> stored(static_cast<std::size_t>(values.numel()) * dtype_size(dtype));
  floats_into(values.data(), values.numel(), stored.data(), dtype);
  HostTensor<float> result(values.shape());
  floats_from(stored.data(), dtype, values.numel(), result.data());
  return result;
}

HostTensor<float> uniform_f16(const Shape& shape, Rng& rng) {
  return rounded(uniform(shape, rng), DType::F16);
}

// An F16 output's tolerance: the F32 op's, widened by the rounding of the output in each backend
// (3u relative with F16's u = 2^-11, and 2^-24 absolute for its subnormals), as
// backend_compare_half.cpp derives it.
Output f16_output(const std::string& name, const HostTensor<float>& values, const Tolerance& f32) {
  const double rtol = 3 * 0x1p-11, atol = 0x1p-24;
  Tolerance tolerance = f32;
  tolerance.atol += atol;
  tolerance.rtol += rtol;
  if (f32.norm >= 0) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < values.numel(); ++i) sum += std::pow(atol + rtol * std::abs(values[i]), 2);
    tolerance.norm += std::sqrt(sum);
  }
  return {name, values, tolerance};
}

// One row's F16 tensors on one backend: F16 on the CUDA backend, F32 stand-ins of the same values
// on the CPU, whose outputs read() rounds to F16 as an F16 op stores them. Values are in NCHW
// order, whatever the tensor's layout; f32() holds the tensors that are F32 on both.
class F16Stage {
 public:
  explicit F16Stage(Backend& backend)
      : backend_(backend), stored_(backend.device().is_cpu() ? DType::F32 : DType::F16), f32_(backend) {}

  // A tensor of `values`, which F16 must hold exactly (uniform_f16, rounded).
  const Tensor& input(const HostTensor<float>& values, Layout layout = kNhwc) {
    const Tensor& tensor =
        tensors_.emplace_back(backend_.allocator(), values.shape(), stored_, backend_.device(), layout)
            .tensor();
    const std::vector<float> ordered =
        layout == kNhwc ? channels_last_order(values)
                        : std::vector<float>(values.data(), values.data() + values.numel());
    std::vector<unsigned char> stored(tensor.nbytes());
    floats_into(ordered.data(), values.numel(), stored.data(), stored_);
    backend_.copy_from_host(tensor, stored.data());
    return tensor;
  }
  const Tensor& output(const Shape& shape, Layout layout = kNhwc) {
    return input(HostTensor<float>(shape, kNaN), layout);
  }

  HostTensor<float> read(const Tensor& tensor) {
    std::vector<unsigned char> stored(tensor.nbytes());
    backend_.copy_to_host(stored.data(), tensor);
    HostTensor<float> values(tensor.shape());
    floats_from(stored.data(), tensor.dtype(), tensor.numel(), values.data());
    if (tensor.layout() == kNhwc) values = from_channels_last_order(tensor.shape(), values.data());
    return rounded(values, DType::F16);
  }

  Stage& f32() { return f32_; }

 private:
  Backend& backend_;
  DType stored_;
  Stage f32_;
  std::deque<OwnedTensor> tensors_;  // a deque keeps the tensors' addresses as it grows
};

// ---- convolutions.

struct ConvShape {
  const char* name;
  Shape x, w;
  Conv2dParams params;
  bool odd;
};

// ResNet-50's 3×3 at 64 channels, its stem (C = 3: no multiple of 8, which NHWC tensor-core
// kernels want), a strided 1×1 downsample, and sizes that are multiples of nothing.
const ConvShape kConvShapes[] = {
    {"Bottleneck3x3Stride1", {2, 64, 28, 28}, {64, 64, 3, 3}, {1, 1}, false},
    {"Stem7x7Stride2Pad3", {2, 3, 56, 56}, {64, 3, 7, 7}, {2, 3}, false},
    {"Downsample1x1Stride2", {2, 256, 14, 14}, {512, 256, 1, 1}, {2, 0}, false},
    {"Odd3x3Stride2", {3, 5, 13, 13}, {7, 5, 3, 3}, {2, 1}, true},
};

// The F32 rows' bound (backend_compare_conv_linear.cpp): the CPU within γ(terms)·magnitude, cuDNN
// within kCudnnAlgorithmFactor times that whatever algorithm it picks for the layout.
Tolerance conv_tolerance(const HostTensor<float>& magnitude, std::int64_t terms) {
  return per_element(magnitude, (1.0 + kCudnnAlgorithmFactor) * sum_bound(terms));
}

// The F16 rows' bound (backend_compare_half.cpp): products of F16 values are exact in fp32, a sum
// on tensor cores may truncate (2·terms·u), and a CUDA-core algorithm, which the stem's C = 3 may
// get, stays within that too; kCudnnAlgorithmFactor times it covers both backends.
Tolerance f16_conv_tolerance(const HostTensor<float>& magnitude, std::int64_t terms) {
  return per_element(magnitude,
                     kCudnnAlgorithmFactor * (sum_bound(terms) + 2.0 * static_cast<double>(terms) * u));
}

// Σ|terms| of each output element: the same convolution of |inputs| by the CPU's F32 NCHW op.
HostTensor<float> forward_magnitude(const HostTensor<float>& x, const HostTensor<float>& w,
                                    const ConvShape& c) {
  HostTensor<float> magnitude(conv2d_output_shape(c.x, c.w, c.params));
  cpu().conv2d_forward(absolute(x).view(), absolute(w).view(), magnitude.view(), c.params);
  return magnitude;
}

HostTensor<float> backward_data_magnitude(const HostTensor<float>& dy, const HostTensor<float>& w,
                                          const HostTensor<float>& before, bool accumulate,
                                          const ConvShape& c) {
  HostTensor<float> magnitude(c.x);
  cpu().conv2d_backward_data(absolute(dy).view(), absolute(w).view(), magnitude.view(), c.params, false);
  if (accumulate) {
    for (std::int64_t i = 0; i < magnitude.numel(); ++i) magnitude[i] += std::abs(before[i]);
  }
  return magnitude;
}

HostTensor<float> backward_filter_magnitude(const HostTensor<float>& x, const HostTensor<float>& dy,
                                            const ConvShape& c) {
  HostTensor<float> magnitude(c.w);
  cpu().conv2d_backward_filter(absolute(x).view(), absolute(dy).view(), magnitude.view(), c.params);
  return magnitude;
}

// A y element sums C·R·S products; a dx element at most K·R·S, one more when accumulating; a dw
// element N·P·Q.
std::int64_t forward_terms(const ConvShape& c) { return c.w[1] * c.w[2] * c.w[3]; }
std::int64_t backward_data_terms(const ConvShape& c, bool accumulate) {
  return c.w[0] * c.w[2] * c.w[3] + (accumulate ? 1 : 0);
}
std::int64_t backward_filter_terms(const ConvShape& c) {
  const Shape y = conv2d_output_shape(c.x, c.w, c.params);
  return y[0] * y[2] * y[3];
}

Outputs conv_forward(const ConvShape& c, Backend& backend) {
  Rng rng(211);
  const auto x = uniform(c.x, rng), w = uniform(c.w, rng);
  Stage stage(backend);
  const Tensor& y = stage.output(conv2d_output_shape(c.x, c.w, c.params), kNhwc);
  backend.conv2d_forward(stage.input(x, kNhwc), stage.input(w, kNhwc), y, c.params);
  return {{"y", stage.read(y), conv_tolerance(forward_magnitude(x, w, c), forward_terms(c))}};
}

// Overwriting dx, or adding to what it held (cuDNN's beta = 1).
Outputs conv_backward_data(const ConvShape& c, bool accumulate, Backend& backend) {
  Rng rng(212);
  const auto dy = uniform(conv2d_output_shape(c.x, c.w, c.params), rng), w = uniform(c.w, rng);
  const auto before = uniform(c.x, rng);
  Stage stage(backend);
  const Tensor& dx = accumulate ? stage.input(before, kNhwc) : stage.output(c.x, kNhwc);
  backend.conv2d_backward_data(stage.input(dy, kNhwc), stage.input(w, kNhwc), dx, c.params, accumulate);
  return {{"dx", stage.read(dx),
           conv_tolerance(backward_data_magnitude(dy, w, before, accumulate, c),
                          backward_data_terms(c, accumulate))}};
}

Outputs conv_backward_filter(const ConvShape& c, Backend& backend) {
  Rng rng(213);
  const auto x = uniform(c.x, rng), dy = uniform(conv2d_output_shape(c.x, c.w, c.params), rng);
  Stage stage(backend);
  const Tensor& dw = stage.output(c.w, kNhwc);
  backend.conv2d_backward_filter(stage.input(x, kNhwc), stage.input(dy, kNhwc), dw, c.params);
  return {
      {"dw", stage.read(dw), conv_tolerance(backward_filter_magnitude(x, dy, c), backward_filter_terms(c))}};
}

Outputs conv_forward_f16(const ConvShape& c, Backend& backend) {
  Rng rng(221);
  const auto x = uniform_f16(c.x, rng), w = uniform_f16(c.w, rng);
  F16Stage stage(backend);
  const Tensor& y = stage.output(conv2d_output_shape(c.x, c.w, c.params));
  backend.conv2d_forward(stage.input(x), stage.input(w), y, c.params);
  return {f16_output("y", stage.read(y), f16_conv_tolerance(forward_magnitude(x, w, c), forward_terms(c)))};
}

// `before`, exact in F16, is one more term of the fp32 sum, rounded once with it.
Outputs conv_backward_data_f16(const ConvShape& c, bool accumulate, Backend& backend) {
  Rng rng(222);
  const auto dy = uniform_f16(conv2d_output_shape(c.x, c.w, c.params), rng), w = uniform_f16(c.w, rng);
  const auto before = uniform_f16(c.x, rng);
  F16Stage stage(backend);
  const Tensor& dx = accumulate ? stage.input(before) : stage.output(c.x);
  backend.conv2d_backward_data(stage.input(dy), stage.input(w), dx, c.params, accumulate);
  const auto magnitude = backward_data_magnitude(dy, w, before, accumulate, c);
  return {
      f16_output("dx", stage.read(dx), f16_conv_tolerance(magnitude, backward_data_terms(c, accumulate)))};
}

Outputs conv_backward_filter_f16(const ConvShape& c, Backend& backend) {
  Rng rng(223);
  const auto x = uniform_f16(c.x, rng), dy = uniform_f16(conv2d_output_shape(c.x, c.w, c.params), rng);
  F16Stage stage(backend);
  const Tensor& dw = stage.output(c.w);
  backend.conv2d_backward_filter(stage.input(x), stage.input(dy), dw, c.params);
  const auto magnitude = backward_filter_magnitude(x, dy, c);
  return {f16_output("dw", stage.read(dw), f16_conv_tolerance(magnitude, backward_filter_terms(c)))};
}

// ---- pooling: the NCHW rows' bounds (backend_compare_test.cpp).

struct PoolShape {
  const char* name;
  Shape x;
  Pool2dParams params;
  bool odd;
};

const PoolShape kPoolShapes[] = {
    {"Stem3x3Stride2Pad1", {2, 64, 56, 56}, {3, 2, 1}, false},
    {"OddEvenSides3x3Stride2Pad1", {3, 5, 14, 11}, {3, 2, 1}, true},
};

// Uniform values, or whole numbers in (-4, 4), which tie within a window so often that the
// backward's first-match rule decides most of its choices.
HostTensor<float> pool_input(const Shape& shape, bool ties, Rng& rng) {
  return ties ? uniform(shape, rng, -4.0, 4.0).cast<int>().cast<float>() : uniform(shape, rng);
}

// Max pooling forward picks one of its inputs: exact.
Outputs max_pool2d_forward(const PoolShape& s, DType dtype, Backend& backend) {
  Rng rng(261);
  const Shape y_shape = max_pool2d_output_shape(s.x, s.params);
  if (dtype == DType::F16) {
    const auto x = uniform_f16(s.x, rng);
    F16Stage stage(backend);
    const Tensor& y = stage.output(y_shape);
    backend.max_pool2d_forward(stage.input(x), y, s.params);
    return {{"y", stage.read(y), kExact}};
  }
  const auto x = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& y = stage.output(y_shape, kNhwc);
  backend.max_pool2d_forward(stage.input(x, kNhwc), y, s.params);
  return {{"y", stage.read(y), kExact}};
}

// A dx element sums the dy of the windows that picked it, at most ceil(kernel/stride)² of them,
// in an order each backend chooses: γ(windows)·Σ|those dy| each.
Tolerance max_pool2d_backward_tolerance(const HostTensor<float>& x, const HostTensor<float>& y,
                                        const HostTensor<float>& dy, const Pool2dParams& params) {
  const std::int64_t reach = (params.kernel + params.stride - 1) / params.stride;
  const auto magnitude =
      reference::max_pool2d_backward(x.cast<double>(), y.cast<double>(), absolute(dy).cast<double>(), params);
  return per_element(magnitude, 2 * sum_bound(reach * reach));
}

Outputs max_pool2d_backward(const PoolShape& s, bool ties, DType dtype, Backend& backend) {
  Rng rng(262);
  if (dtype == DType::F16) {
    const auto x = rounded(pool_input(s.x, ties, rng), DType::F16);
    const auto y = reference::max_pool2d_forward(x, s.params);
    const auto dy = uniform_f16(y.shape(), rng);
    F16Stage stage(backend);
    const Tensor& dx = stage.output(s.x);
    backend.max_pool2d_backward(stage.input(x), stage.input(y), stage.input(dy), dx, s.params);
    return {f16_output("dx", stage.read(dx), max_pool2d_backward_tolerance(x, y, dy, s.params))};
  }
  const auto x = pool_input(s.x, ties, rng);
  const auto y = reference::max_pool2d_forward(x, s.params);
  const auto dy = uniform(y.shape(), rng);
  Stage stage(backend);
  const Tensor& dx = stage.output(s.x, kNhwc);
  backend.max_pool2d_backward(stage.input(x, kNhwc), stage.input(y, kNhwc), stage.input(dy, kNhwc), dx,
                              s.params);
  return {{"dx", stage.read(dx), max_pool2d_backward_tolerance(x, y, dy, s.params)}};
}

struct ShapeCase {
  const char* name;
  Shape x;
  bool odd;
};

// ResNet-50's last feature map, and a few channels (fewer than a warp) over long planes.
const ShapeCase kAveragePoolShapes[] = {
    {"Final7x7", {4, 2048, 7, 7}, false},
    {"Odd", {3, 5, 13, 13}, true},
    {"FewChannelsLongPlanes", {2, 40, 56, 56}, true},
};

// y = Σx / HW, [N, C] row-major: γ(HW)·mean|x| and two roundings.
Outputs global_avg_pool_forward(const ShapeCase& s, DType dtype, Backend& backend) {
  Rng rng(263);
  const Shape y_shape{s.x[0], s.x[1]};
  const double rounding = sum_bound(s.x[2] * s.x[3]) + 2 * u;
  if (dtype == DType::F16) {
    const auto x = uniform_f16(s.x, rng);
    F16Stage stage(backend);
    const Tensor& y = stage.output(y_shape, Layout::RowMajor);
    backend.global_avg_pool_forward(stage.input(x), y);
    const auto mean_abs = reference::global_avg_pool_forward(absolute(x).cast<double>());
    return {f16_output("y", stage.read(y), per_element(mean_abs, rounding))};
  }
  const auto x = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& y = stage.output(y_shape);
  backend.global_avg_pool_forward(stage.input(x, kNhwc), y);
  const auto mean_abs = reference::global_avg_pool_forward(absolute(x).cast<double>());
  return {{"y", stage.read(y), per_element(mean_abs, rounding)}};
}

// dx = dy / HW: one rounding on the CPU, at most two on the GPU.
Outputs global_avg_pool_backward(const ShapeCase& s, DType dtype, Backend& backend) {
  Rng rng(264);
  const Shape dy_shape{s.x[0], s.x[1]};
  const Tolerance tolerance = elementwise(0.0, reference::fp32_roundings(3));
  if (dtype == DType::F16) {
    const auto dy = uniform_f16(dy_shape, rng);
    F16Stage stage(backend);
    const Tensor& dx = stage.output(s.x);
    backend.global_avg_pool_backward(stage.input(dy, Layout::RowMajor), dx);
    return {f16_output("dx", stage.read(dx), tolerance)};
  }
  const auto dy = uniform(dy_shape, rng);
  Stage stage(backend);
  const Tensor& dx = stage.output(s.x, kNhwc);
  backend.global_avg_pool_backward(stage.input(dy), dx);
  return {{"dx", stage.read(dx), tolerance}};
}

// ---- uint8 NHWC images to normalised NHWC values: a map element by element, with the NCHW rows'
// bound of 5 roundings of values no larger than 1/min(std) in each backend.

Outputs normalize_images(const Shape& images_shape, DType dtype, Backend& backend) {
  Rng rng(291);
  HostTensor<std::uint8_t> images(images_shape);
  for (std::int64_t i = 0; i < images.numel(); ++i) images[i] = static_cast<std::uint8_t>(rng.below(256));
  const Shape y_shape{images_shape[0], 3, images_shape[1], images_shape[2]};
  const double smallest_std = *std::min_element(kImageNetStd.begin(), kImageNetStd.end());
  const Tolerance tolerance = elementwise(2 * 5 * u / smallest_std, 0.0);
  if (dtype == DType::F16) {
    F16Stage stage(backend);
    const Tensor& y = stage.output(y_shape);
    backend.normalize_images(stage.f32().input(images), y, kImageNetMean, kImageNetStd);
    return {f16_output("y", stage.read(y), tolerance)};
  }
  Stage stage(backend);
  const Tensor& y = stage.output(y_shape, kNhwc);
  backend.normalize_images(stage.input(images), y, kImageNetMean, kImageNetStd);
  return {{"y", stage.read(y), tolerance}};
}

// ---- ReLU and add: elementwise, a layout only their tensors' common order; exact.

const ShapeCase kElementwiseShapes[] = {
    {"Layer3", {4, 256, 14, 14}, false},
    {"Odd", {3, 5, 13, 13}, true},
};

Outputs relu_forward(const ShapeCase& s, Backend& backend) {
  Rng rng(251);
  const auto x = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& y = stage.output(s.x, kNhwc);
  backend.relu_forward(stage.input(x, kNhwc), y);
  return {{"y", stage.read(y), kExact}};
}

Outputs relu_backward(const ShapeCase& s, Backend& backend) {
  Rng rng(252);
  auto y = uniform(s.x, rng);  // the forward's output: about half exact zeros
  for (std::int64_t i = 0; i < y.numel(); ++i) y[i] = std::max(y[i], 0.0f);
  const auto dy = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& dx = stage.output(s.x, kNhwc);
  backend.relu_backward(stage.input(y, kNhwc), stage.input(dy, kNhwc), dx);
  return {{"dx", stage.read(dx), kExact}};
}

// Into a, as the residual connection adds.
Outputs add(const ShapeCase& s, Backend& backend) {
  Rng rng(253);
  const auto a = uniform(s.x, rng), b = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& a_tensor = stage.input(a, kNhwc);
  backend.add(a_tensor, stage.input(b, kNhwc), a_tensor);
  return {{"y", stage.read(a_tensor), kExact}};
}

}  // namespace

std::vector<Row> nhwc_rows() {
  std::vector<Row> rows;
  for (const ConvShape& c : kConvShapes) {
    const std::string name = std::string(c.name) + "Nhwc";
    rows.push_back({"Conv2dForward" + name, c.odd, [c](Backend& b) { return conv_forward(c, b); }});
    rows.push_back(
        {"Conv2dBackwardData" + name, c.odd, [c](Backend& b) { return conv_backward_data(c, false, b); }});
    rows.push_back({"Conv2dBackwardDataAccumulate" + name, c.odd,
                    [c](Backend& b) { return conv_backward_data(c, true, b); }});
    rows.push_back(
        {"Conv2dBackwardFilter" + name, c.odd, [c](Backend& b) { return conv_backward_filter(c, b); }});
    rows.push_back(
        {"Conv2dForward" + name + "F16", c.odd, [c](Backend& b) { return conv_forward_f16(c, b); }});
    rows.push_back({"Conv2dBackwardData" + name + "F16", c.odd,
                    [c](Backend& b) { return conv_backward_data_f16(c, false, b); }});
    rows.push_back({"Conv2dBackwardDataAccumulate" + name + "F16", c.odd,
                    [c](Backend& b) { return conv_backward_data_f16(c, true, b); }});
    rows.push_back({"Conv2dBackwardFilter" + name + "F16", c.odd,
                    [c](Backend& b) { return conv_backward_filter_f16(c, b); }});
  }
  for (const DType dtype : {DType::F32, DType::F16}) {
    const std::string suffix = dtype == DType::F16 ? "NhwcF16" : "Nhwc";
    for (const PoolShape& s : kPoolShapes) {
      const std::string name = s.name + suffix;
      rows.push_back({"MaxPool2dForward" + name, s.odd,
                      [s, dtype](Backend& b) { return max_pool2d_forward(s, dtype, b); }});
      rows.push_back({"MaxPool2dBackward" + name, s.odd,
                      [s, dtype](Backend& b) { return max_pool2d_backward(s, false, dtype, b); }});
      rows.push_back({"MaxPool2dBackwardTies" + name, s.odd,
                      [s, dtype](Backend& b) { return max_pool2d_backward(s, true, dtype, b); }});
    }
    for (const ShapeCase& s : kAveragePoolShapes) {
      const std::string name = s.name + suffix;
      rows.push_back({"GlobalAvgPoolForward" + name, s.odd,
                      [s, dtype](Backend& b) { return global_avg_pool_forward(s, dtype, b); }});
      rows.push_back({"GlobalAvgPoolBackward" + name, s.odd,
                      [s, dtype](Backend& b) { return global_avg_pool_backward(s, dtype, b); }});
    }
    rows.push_back({"NormalizeImages224" + suffix, false, [dtype](Backend& b) {
                      return normalize_images({2, 224, 224, 3}, dtype, b);
                    }});
    rows.push_back({"NormalizeImagesOdd" + suffix, true, [dtype](Backend& b) {
                      return normalize_images({3, 13, 17, 3}, dtype, b);
                    }});
  }
  for (const ShapeCase& s : kElementwiseShapes) {
    const std::string name = s.name + std::string("Nhwc");
    rows.push_back({"ReluForward" + name, s.odd, [s](Backend& b) { return relu_forward(s, b); }});
    rows.push_back({"ReluBackward" + name, s.odd, [s](Backend& b) { return relu_backward(s, b); }});
    rows.push_back({"AddIntoA" + name, s.odd, [s](Backend& b) { return add(s, b); }});
  }
  return rows;
}

}  // namespace r50::backend_compare
