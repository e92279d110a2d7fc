// defines: backend_compare::activations, ChannelStatistics, channel_statistics, BatchNormInputs,
//          batch_norm_inputs, Epilogue, BatchNormForwardTolerances,
//          batch_norm_forward_training_tolerances, batch_norm_forward_inference_tolerance,
//          SavedStatistics, saved_statistics, ReluMask, ReluGradient, relu_gradient,
//          BatchNormBackwardTolerances, batch_norm_backward_training_tolerances,
//          batch_norm_backward_inference_tolerances
//
// Batch norm's inputs and error bounds for the rows of the CUDA-against-CPU table: the F32 rows'
// (backend_compare_batchnorm.cpp, which derives each term beside its definition), which the
// half-precision rows widen by the rounding of their outputs (rounded_to) and the channels-last
// rows take as they are.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/backend_compare.h"

namespace r50::backend_compare {

// Batch norm's inputs as a network has them: each channel centred on its own mean in [-2, 2] with
// its own spread in [0.3, 1.5], so that the mean matters and the variance is not 1.
HostTensor<float> activations(const Shape& shape, Rng& rng);

// Exact per-channel statistics of x [N, C, H, W], in double.
struct ChannelStatistics {
  std::int64_t C, HW, count;
  std::vector<double> mean, var, max_abs;
  std::int64_t channel(std::int64_t i) const { return i / HW % C; }
};
ChannelStatistics channel_statistics(const HostTensor<float>& x);

// One row's inputs, x [N, C, H, W]: x, dy and residual (uniform) rounded to the dtype, the
// per-channel tensors F32.
struct BatchNormInputs {
  HostTensor<float> x, gamma, beta, running_mean, running_var, dy, residual;
};
BatchNormInputs batch_norm_inputs(DType dtype, const Shape& shape, std::uint64_t seed);

// What follows batch norm in the op under test: nothing (batch_norm_*_training), or ReLU with or
// without a residual sum first (batch_norm_relu_*_training).
enum class Epilogue { None, Relu, AddRelu };

struct BatchNormForwardTolerances {
  Tolerance y, saved_mean, saved_invstd, running_mean, running_var;
};

// The training forward's outputs with `params` (the residual is in.residual).
BatchNormForwardTolerances batch_norm_forward_training_tolerances(const BatchNormInputs& in,
                                                                  Epilogue epilogue,
                                                                  const BatchNormParams& params);

// The inference forward's y.
Tolerance batch_norm_forward_inference_tolerance(const BatchNormInputs& in, float eps);

// The statistics the training forward saves for x, as the backward reads them: the exact ones
// rounded once to F32; `mean` and `invstd` hold the same values in double.
struct SavedStatistics {
  ChannelStatistics exact;
  HostTensor<float> saved_mean, saved_invstd;
  std::vector<double> mean, invstd;
};
SavedStatistics saved_statistics(const HostTensor<float>& x);

// Where the rows take the forward's ReLU to have passed its input (relu_gradient says why).
enum class ReluMask {
  FromValue,    // v > 0, dy zeroed near 0 behind either ReLU epilogue: the F32 rows
  FromStoredY,  // y > 0 as stored in the dtype, dy zeroed near 0 without a residual
};

// The forward's y as the backward reads it, and batch norm's output gradient behind the ReLU.
struct ReluGradient {
  HostTensor<float> y, grad;
};

// For a ReLU epilogue zeroes in.dy where v lies near 0 and returns y and grad; without one grad
// is in.dy.
ReluGradient relu_gradient(BatchNormInputs& in, const SavedStatistics& saved, Epilogue epilogue,
                           DType dtype, ReluMask mask);

struct BatchNormBackwardTolerances {
  Tolerance dx, dgamma, dbeta;
};

// The training backward's outputs for the gradient `grad` batch norm's output receives.
BatchNormBackwardTolerances batch_norm_backward_training_tolerances(const BatchNormInputs& in,
                                                                    const HostTensor<float>& grad,
                                                                    const SavedStatistics& saved);

// The inference backward's outputs.
BatchNormBackwardTolerances batch_norm_backward_inference_tolerances(const BatchNormInputs& in,
                                                                     float eps);

}  // namespace r50::backend_compare
