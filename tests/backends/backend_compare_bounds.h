// defines: backend_compare::kCudnnAlgorithmFactor, conv_tolerance, tensor_core_bound,
//          half_conv_tolerance, half_conv_backward_data_tolerance, conv_forward_magnitude,
//          conv_backward_data_magnitude,
//          conv_backward_filter_magnitude, conv_forward_terms, conv_backward_data_terms,
//          conv_backward_filter_terms, F32ConvolutionRows, add_f32_convolution_rows,
//          max_pool2d_backward_tolerance,
//          global_avg_pool_forward_tolerance, SoftmaxCrossEntropyTolerances,
//          softmax_cross_entropy_forward_tolerances, normalize_images_tolerance
//
// The error bounds that rows of several files of the CUDA-against-CPU table share: the F32 rows',
// which the half-precision rows widen by the rounding of their outputs (rounded_to) and the
// channels-last rows take as they are. Each is derived beside its definition in
// backend_compare_shared.cpp; batch norm's are in backend_compare_batchnorm.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend_compare.h"

namespace r50::backend_compare {

// ---- convolutions and the fully connected layer.

// How many times a direct sum's error bound cuDNN's Winograd and FFT algorithms may take (derived
// at conv_tolerance), for the convolution rows of every dtype and layout.
constexpr double kCudnnAlgorithmFactor = 4.0;

// An F32 convolution output whose elements each sum at most `terms` products, `magnitude` the
// same convolution of |inputs|: (1 + kCudnnAlgorithmFactor)·γ(terms)·magnitude.
Tolerance conv_tolerance(const HostTensor<float>& magnitude, std::int64_t terms);

// A sum of `terms` products of half values on tensor cores, relative to Σ|terms|: 2·terms·u on
// the GPU beside the CPU's γ(terms).
double tensor_core_bound(std::int64_t terms);

// The same for half data: kCudnnAlgorithmFactor·tensor_core_bound(terms)·magnitude, before each
// backend rounds the output (half_output).
Tolerance half_conv_tolerance(const HostTensor<float>& magnitude, std::int64_t terms);

// dx of a half-precision backward data convolution (dy, w and the `before` it accumulates into
// as values of `dtype`): half_conv_tolerance, and where dx accumulates, one more rounding. cuDNN
// may round the convolution to the dtype before it adds `before` (beta = 1), where the CPU rounds
// the sum once: up to u·|convolution| more per element (seen on an H100 with cuDNN 9.14, 1×1
// stride 2, fp16 and bf16).
Tolerance half_conv_backward_data_tolerance(const HostTensor<float>& dy, const HostTensor<float>& w,
                                            const HostTensor<float>& before, bool accumulate,
                                            const ConvShape& c, DType dtype);

// Σ|terms| of each output element: the same convolution of |inputs| by the CPU's F32 NCHW op,
// plus |before| where dx accumulates into it.
HostTensor<float> conv_forward_magnitude(const HostTensor<float>& x, const HostTensor<float>& w,
                                         const ConvShape& c);
HostTensor<float> conv_backward_data_magnitude(const HostTensor<float>& dy,
                                               const HostTensor<float>& w,
                                               const HostTensor<float>& before, bool accumulate,
                                               const ConvShape& c);
HostTensor<float> conv_backward_filter_magnitude(const HostTensor<float>& x,
                                                 const HostTensor<float>& dy, const ConvShape& c);

// A y element sums C·R·S products; a dx element at most K·R·S, one more when accumulating; a dw
// element N·P·Q.
std::int64_t conv_forward_terms(const ConvShape& c);
std::int64_t conv_backward_data_terms(const ConvShape& c, bool accumulate);
std::int64_t conv_backward_filter_terms(const ConvShape& c);

// The four rows of one F32 convolution shape, as the row-major, channels-last and tf32 rows run
// it: forward, backward data overwriting and accumulating, backward filter, named op + `suffix`.
// Tensors are in `layout`; inputs come from Rng(seed) for the forward, seed + 1 and seed + 2 for
// the backward data and filter; each output's tolerance is `tolerance` of its magnitude and
// terms. `precision` is the CUDA backend's (Row::precision).
struct F32ConvolutionRows {
  std::string suffix;
  Layout layout;
  std::uint64_t seed;
  Tolerance (*tolerance)(const HostTensor<float>& magnitude, std::int64_t terms);
  Precision precision = Precision::Fp32;
};
void add_f32_convolution_rows(std::vector<Row>& rows, const ConvShape& c, const F32ConvolutionRows& how);

// ---- pooling, softmax cross-entropy, the input normalisation.

// Max pooling backward's dx, with y the forward's output on x.
Tolerance max_pool2d_backward_tolerance(const HostTensor<float>& x, const HostTensor<float>& y,
                                        const HostTensor<float>& dy, const Pool2dParams& params);

// Global average pooling forward's y for input x.
Tolerance global_avg_pool_forward_tolerance(const HostTensor<float>& x);

struct SoftmaxCrossEntropyTolerances {
  Tolerance probs, loss;
};

// The forward's outputs for n rows of k logits in [-largest, largest].
SoftmaxCrossEntropyTolerances softmax_cross_entropy_forward_tolerances(std::int64_t n,
                                                                       std::int64_t k,
                                                                       double largest);

// normalize_images' y.
Tolerance normalize_images_tolerance();

}  // namespace r50::backend_compare
