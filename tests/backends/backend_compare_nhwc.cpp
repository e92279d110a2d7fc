// The channels-last rows of the CUDA-against-CPU table: the ops that index planes (convolutions,
// pooling, the input normalisation) and two elementwise ones on NHWC tensors (KRSC filters). The
// CPU backend computes on NCHW copies of them (f32_staging.h), so each row is its NCHW row with
// another memory order on both sides, and meets that row's tolerance: values are written and read
// back in NCHW order (Stage), so the tolerances' magnitudes are the NCHW rows' too. F16 rows run
// the CUDA backend on F16 tensors and the CPU backend on F32 stand-ins of the same values, whose
// outputs are rounded once on the host (DTypeStage), as backend_compare_half.cpp does for NCHW.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend_compare_bounds.h"
#include "reference/pooling.h"

namespace r50::backend_compare {
namespace {

constexpr Layout kNhwc = Layout::ChannelsLast;

// ---- convolutions: conv_tolerance for F32, half_conv_tolerance for F16.

// ResNet-50's 3×3 at 64 channels, its stem (C = 3: no multiple of 8, which NHWC tensor-core
// kernels want), a strided 1×1 downsample, and sizes that are multiples of nothing.
const ConvShape kConvShapes[] = {
    {"Bottleneck3x3Stride1", {2, 64, 28, 28}, {64, 64, 3, 3}, {1, 1}, false},
    {"Stem7x7Stride2Pad3", {2, 3, 56, 56}, {64, 3, 7, 7}, {2, 3}, false},
    {"Downsample1x1Stride2", {2, 256, 14, 14}, {512, 256, 1, 1}, {2, 0}, false},
    {"Odd3x3Stride2", {3, 5, 13, 13}, {7, 5, 3, 3}, {2, 1}, true},
};

Outputs conv_forward_f16(const ConvShape& c, Backend& backend) {
  Rng rng(221);
  const auto x = uniform_in(DType::F16, c.x, rng), w = uniform_in(DType::F16, c.w, rng);
  DTypeStage stage(backend, DType::F16);
  const Tensor& y = stage.output(conv2d_output_shape(c.x, c.w, c.params), kNhwc);
  backend.conv2d_forward(stage.input(x, kNhwc), stage.input(w, kNhwc), y, c.params);
  return {half_output("y", stage.read(y), DType::F16,
                      half_conv_tolerance(conv_forward_magnitude(x, w, c), conv_forward_terms(c)))};
}

// `before`, exact in F16, is one more term of the fp32 sum, rounded once with it.
Outputs conv_backward_data_f16(const ConvShape& c, bool accumulate, Backend& backend) {
  Rng rng(222);
  const auto dy = uniform_in(DType::F16, conv2d_output_shape(c.x, c.w, c.params), rng);
  const auto w = uniform_in(DType::F16, c.w, rng);
  const auto before = uniform_in(DType::F16, c.x, rng);
  DTypeStage stage(backend, DType::F16);
  const Tensor& dx = accumulate ? stage.input(before, kNhwc) : stage.output(c.x, kNhwc);
  backend.conv2d_backward_data(stage.input(dy, kNhwc), stage.input(w, kNhwc), dx, c.params, accumulate);
  return {half_output("dx", stage.read(dx), DType::F16,
                      half_conv_backward_data_tolerance(dy, w, before, accumulate, c, DType::F16))};
}

Outputs conv_backward_filter_f16(const ConvShape& c, Backend& backend) {
  Rng rng(223);
  const auto x = uniform_in(DType::F16, c.x, rng);
  const auto dy = uniform_in(DType::F16, conv2d_output_shape(c.x, c.w, c.params), rng);
  DTypeStage stage(backend, DType::F16);
  const Tensor& dw = stage.output(c.w, kNhwc);
  backend.conv2d_backward_filter(stage.input(x, kNhwc), stage.input(dy, kNhwc), dw, c.params);
  const auto magnitude = conv_backward_filter_magnitude(x, dy, c);
  return {half_output("dw", stage.read(dw), DType::F16,
                      half_conv_tolerance(magnitude, conv_backward_filter_terms(c)))};
}

// ---- pooling: the NCHW rows' bounds (backend_compare_bounds.h).

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
    const auto x = uniform_in(DType::F16, s.x, rng);
    DTypeStage stage(backend, DType::F16);
    const Tensor& y = stage.output(y_shape, kNhwc);
    backend.max_pool2d_forward(stage.input(x, kNhwc), y, s.params);
    return {{"y", stage.read(y), kExact}};
  }
  const auto x = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& y = stage.output(y_shape, kNhwc);
  backend.max_pool2d_forward(stage.input(x, kNhwc), y, s.params);
  return {{"y", stage.read(y), kExact}};
}

Outputs max_pool2d_backward(const PoolShape& s, bool ties, DType dtype, Backend& backend) {
  Rng rng(262);
  if (dtype == DType::F16) {
    const auto x = rounded(pool_input(s.x, ties, rng), DType::F16);
    const auto y = reference::max_pool2d_forward(x, s.params);
    const auto dy = uniform_in(DType::F16, y.shape(), rng);
    DTypeStage stage(backend, DType::F16);
    const Tensor& dx = stage.output(s.x, kNhwc);
    backend.max_pool2d_backward(stage.input(x, kNhwc), stage.input(y, kNhwc), stage.input(dy, kNhwc), dx,
                                s.params);
    return {half_output("dx", stage.read(dx), DType::F16,
                        max_pool2d_backward_tolerance(x, y, dy, s.params))};
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

// ResNet-50's last feature map, and a few channels (fewer than a warp) over long planes.
const ShapeCase kAveragePoolShapes[] = {
    {"Final7x7", {4, 2048, 7, 7}, false},
    {"Odd", {3, 5, 13, 13}, true},
    {"FewChannelsLongPlanes", {2, 40, 56, 56}, true},
};

// y = Σx / HW, [N, C] row-major.
Outputs global_avg_pool_forward(const ShapeCase& s, DType dtype, Backend& backend) {
  Rng rng(263);
  const Shape y_shape{s.x[0], s.x[1]};
  if (dtype == DType::F16) {
    const auto x = uniform_in(DType::F16, s.x, rng);
    DTypeStage stage(backend, DType::F16);
    const Tensor& y = stage.output(y_shape);
    backend.global_avg_pool_forward(stage.input(x, kNhwc), y);
    return {half_output("y", stage.read(y), DType::F16, global_avg_pool_forward_tolerance(x))};
  }
  const auto x = uniform(s.x, rng);
  Stage stage(backend);
  const Tensor& y = stage.output(y_shape);
  backend.global_avg_pool_forward(stage.input(x, kNhwc), y);
  return {{"y", stage.read(y), global_avg_pool_forward_tolerance(x)}};
}

// dx = dy / HW: one rounding on the CPU, at most two on the GPU.
Outputs global_avg_pool_backward(const ShapeCase& s, DType dtype, Backend& backend) {
  Rng rng(264);
  const Shape dy_shape{s.x[0], s.x[1]};
  const Tolerance tolerance = elementwise(0.0, reference::fp32_roundings(3));
  if (dtype == DType::F16) {
    const auto dy = uniform_in(DType::F16, dy_shape, rng);
    DTypeStage stage(backend, DType::F16);
    const Tensor& dx = stage.output(s.x, kNhwc);
    backend.global_avg_pool_backward(stage.input(dy), dx);
    return {half_output("dx", stage.read(dx), DType::F16, tolerance)};
  }
  const auto dy = uniform(dy_shape, rng);
  Stage stage(backend);
  const Tensor& dx = stage.output(s.x, kNhwc);
  backend.global_avg_pool_backward(stage.input(dy), dx);
  return {{"dx", stage.read(dx), tolerance}};
}

// ---- uint8 NHWC images to normalised NHWC values: a map element by element, with the NCHW rows'
// bound (normalize_images_tolerance).

Outputs normalize_images(const Shape& images_shape, DType dtype, Backend& backend) {
  Rng rng(291);
  HostTensor<std::uint8_t> images(images_shape);
  for (std::int64_t i = 0; i < images.numel(); ++i) images[i] = static_cast<std::uint8_t>(rng.below(256));
  const Shape y_shape{images_shape[0], 3, images_shape[1], images_shape[2]};
  const Tolerance tolerance = normalize_images_tolerance();
  if (dtype == DType::F16) {
    DTypeStage stage(backend, DType::F16);
    const Tensor& y = stage.output(y_shape, kNhwc);
    backend.normalize_images(stage.f32().input(images), y, kImageNetMean, kImageNetStd);
    return {half_output("y", stage.read(y), DType::F16, tolerance)};
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
    add_f32_convolution_rows(rows, c, {"Nhwc", kNhwc, 211, conv_tolerance});
    const std::string name = std::string(c.name) + "Nhwc";
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
