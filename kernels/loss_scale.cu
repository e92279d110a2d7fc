// defines: update_loss_scale
//
// torch's _amp_update_scale_ on fp16's loss scale state, term for term (the CPU twin is
// Backend::update_loss_scale in src/ops/backend.cpp). One thread: four floats, after the step's
// SGD launches on the same stream have read them.
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

__global__ void update_loss_scale_kernel(float* state, const float* found_non_finite, float growth_factor,
                                         float backoff_factor, int growth_interval) {
  if (*found_non_finite != 0.0f) {
    state[kStateScale] *= backoff_factor;
    state[kStateCleanSteps] = 0.0f;
    state[kStateSkippedSteps] += 1.0f;
    return;
  }
  state[kStateUpdatesApplied] += 1.0f;
  state[kStateCleanSteps] += 1.0f;
  if (state[kStateCleanSteps] == static_cast<float>(growth_interval)) {
    const float grown = state[kStateScale] * growth_factor;
    if (isfinite(grown)) state[kStateScale] = grown;
    state[kStateCleanSteps] = 0.0f;
  }
}

}  // namespace

cudaError_t update_loss_scale(float* state, const float* found_non_finite, float growth_factor,
                              float backoff_factor, int growth_interval, cudaStream_t stream) {
  update_loss_scale_kernel<<<1, 1, 0, stream>>>(state, found_non_finite, growth_factor, backoff_factor,
                                                growth_interval);
  return cudaGetLastError();
}

}  // namespace r50::kernels
