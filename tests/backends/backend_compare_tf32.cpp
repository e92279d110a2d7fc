// The convolution rows under --precision tf32: F32 tensors on a tf32 CUDA backend, whose cuDNN may
// run them on tensor cores in TF32, against the CPU backend's IEEE fp32, row-major and
// channels-last. The harness runs them where the GPU has TF32 (compute capability 8.0 and newer)
// and passes over them, saying so, elsewhere.
#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend_compare_bounds.h"

namespace r50::backend_compare {
namespace {

// TF32 keeps 10 of fp32's 23 fraction bits. An input rounded to it, or truncated, as tensor cores
// fed fp32 values may do, is within 2^-10 of itself, relatively; the product of two such inputs is
// within 2·2^-10 + 2^-20 of the exact product, and exact in fp32 (11 by 11 significant bits). Its
// sum on tensor cores, which may truncate, adds at most 2·terms·u of the rounded products'
// magnitude (tensor_core_bound), itself within (1 + that product bound) of the inputs' magnitude.
double tf32_bound(std::int64_t terms) {
  const double product = 2 * 0x1p-10 + 0x1p-20;
  return product + (1 + product) * 2.0 * static_cast<double>(terms) * u;
}

// The CPU's γ(terms) and kCudnnAlgorithmFactor times the GPU's direct bound, which covers Winograd
// and FFT by the F32 rows' argument (conv_tolerance). Backward data's accumulated `before` is one
// more term, added in fp32 without rounding to TF32: within the same bound.
Tolerance tf32_conv_tolerance(const HostTensor<float>& magnitude, std::int64_t terms) {
  return per_element(magnitude, sum_bound(terms) + kCudnnAlgorithmFactor * tf32_bound(terms));
}

// ResNet-50's 3×3 at 64 channels (TF32 tensor-core kernels want channel counts that are multiples
// of 4), its stem (C = 3, which they do not take channels-last), and sizes that are multiples of
// nothing.
const ConvShape kConvShapes[] = {
    {"Bottleneck3x3Stride1", {2, 64, 14, 14}, {64, 64, 3, 3}, {1, 1}, false},
    {"Stem7x7Stride2Pad3", {2, 3, 28, 28}, {64, 3, 7, 7}, {2, 3}, false},
    {"Odd3x3Stride2", {3, 5, 13, 13}, {7, 5, 3, 3}, {2, 1}, true},
};

}  // namespace

std::vector<Row> tf32_rows() {
  std::vector<Row> rows;
  for (const ConvShape& c : kConvShapes) {
    add_f32_convolution_rows(rows, c, {"Tf32", Layout::RowMajor, 311, tf32_conv_tolerance, Precision::Tf32});
    add_f32_convolution_rows(rows, c, {"NhwcTf32", Layout::ChannelsLast, 311, tf32_conv_tolerance, Precision::Tf32});
  }
  return rows;
}

}  // namespace r50::backend_compare
