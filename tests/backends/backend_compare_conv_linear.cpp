// The convolution and fully connected rows of the CUDA-against-CPU table: the ops that sum long
// dot products, whose tolerances come from the magnitudes of their terms (conv_tolerance derives
// the convolutions' in backend_compare_shared.cpp).
#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend_compare_bounds.h"
#include "ops/op_test_util.h"

namespace r50::backend_compare {
namespace {

// ResNet-50's kinds of convolution at reduced spatial size with its channel counts, and odd sizes.
const ConvShape kConvShapes[] = {
    {"Stem7x7Stride2Pad3", {2, 3, 56, 56}, {64, 3, 7, 7}, {2, 3}, false},
    {"Bottleneck3x3Stride1", {2, 64, 28, 28}, {64, 64, 3, 3}, {1, 1}, false},
    {"Bottleneck3x3Stride2", {2, 128, 28, 28}, {128, 128, 3, 3}, {2, 1}, false},
    {"Pointwise1x1Stride1", {2, 256, 14, 14}, {64, 256, 1, 1}, {1, 0}, false},
    {"Downsample1x1Stride2", {2, 512, 14, 14}, {1024, 512, 1, 1}, {2, 0}, false},
    {"Odd7x7Stride2Pad3", {3, 3, 13, 13}, {5, 3, 7, 7}, {2, 3}, true},
    {"Odd3x3Stride1", {3, 5, 13, 13}, {7, 5, 3, 3}, {1, 1}, true},
    {"Odd3x3Stride2", {3, 5, 13, 13}, {7, 5, 3, 3}, {2, 1}, true},
    {"Odd1x1Stride1", {3, 5, 13, 13}, {7, 5, 1, 1}, {1, 0}, true},
    {"Odd1x1Stride2", {3, 5, 13, 13}, {7, 5, 1, 1}, {2, 0}, true},
};

// The fully connected layer: cuBLAS under its default math (fp32 stays fp32), the bias entering
// the GEMM's sum. Both backends are within γ(terms)·magnitude of the exact value
// (tests/ops/linear_test for the CPU), so within 2·γ(terms)·magnitude of each other, with
// magnitude the op on |inputs|.
struct LinearShape {
  const char* name;
  std::int64_t n, in, out;
  bool odd;
};

const LinearShape kLinearShapes[] = {
    {"Classifier", 8, 2048, 101, false},  // ResNet-50's fc for Food-101
    {"Odd", 5, 300, 37, true},
};

Outputs linear_forward(const LinearShape& s, Backend& backend) {
  Rng rng(21);
  const auto x = uniform({s.n, s.in}, rng), w = uniform({s.out, s.in}, rng);
  const auto b = uniform({s.out}, rng);
  Stage stage(backend);
  const Tensor& y = stage.output({s.n, s.out});
  backend.linear_forward(stage.input(x), stage.input(w), stage.input(b), y);
  HostTensor<float> magnitude({s.n, s.out});
  cpu().linear_forward(absolute(x).view(), absolute(w).view(), absolute(b).view(),
                       magnitude.view());
  // IN products and the bias.
  return {{"y", stage.read(y), per_element(magnitude, 2 * sum_bound(s.in + 1))}};
}

Outputs linear_backward(const LinearShape& s, bool with_dx, Backend& backend) {
  Rng rng(22);
  const auto x = uniform({s.n, s.in}, rng), w = uniform({s.out, s.in}, rng);
  const auto dy = uniform({s.n, s.out}, rng);
  Stage stage(backend);
  const Tensor dx = with_dx ? stage.output({s.n, s.in}) : Tensor();
  const Tensor& dw = stage.output({s.out, s.in});
  const Tensor& db = stage.output({s.out});
  backend.linear_backward(stage.input(x), stage.input(w), stage.input(dy), dx, dw, db);
  HostTensor<float> dx_magnitude({s.n, s.in}), dw_magnitude({s.out, s.in}), db_magnitude({s.out});
  cpu().linear_backward(absolute(x).view(), absolute(w).view(), absolute(dy).view(),
                        dx_magnitude.view(), dw_magnitude.view(), db_magnitude.view());
  // dx sums OUT products per element; dw and db sum N.
  Outputs outputs;
  if (with_dx) {
    outputs.push_back({"dx", stage.read(dx), per_element(dx_magnitude, 2 * sum_bound(s.out))});
  }
  outputs.push_back({"dw", stage.read(dw), per_element(dw_magnitude, 2 * sum_bound(s.n))});
  outputs.push_back({"db", stage.read(db), per_element(db_magnitude, 2 * sum_bound(s.n))});
  return outputs;
}

}  // namespace

std::vector<Row> convolution_rows() {
  std::vector<Row> rows;
  for (const ConvShape& c : kConvShapes) add_f32_convolution_rows(rows, c, {"", Layout::RowMajor, 11, conv_tolerance});
  return rows;
}

std::vector<Row> linear_rows() {
  std::vector<Row> rows;
  for (const LinearShape& s : kLinearShapes) {
    const std::string name = s.name;
    rows.push_back(
        {"LinearForward" + name, s.odd, [s](Backend& b) { return linear_forward(s, b); }});
    rows.push_back(
        {"LinearBackward" + name, s.odd, [s](Backend& b) { return linear_backward(s, true, b); }});
    rows.push_back({"LinearBackwardWithoutDx" + name, s.odd,
                    [s](Backend& b) { return linear_backward(s, false, b); }});
  }
  return rows;
}

}  // namespace r50::backend_compare
