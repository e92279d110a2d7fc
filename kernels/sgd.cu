// defines: sgd_step
//
// torch.optim.SGD's update, element by element, in torch's order (as src/ops/cpu/sgd.cpp):
//   g = grad + weight_decay·param; buf = first_step ? g : momentum·buf + (1 - dampening)·g;
//   g = nesterov ? g + momentum·buf : buf; param -= lr·g.
// One thread per element, a grid of 256-thread blocks striding over `count`. The formula is kept
// term for term so the rounding matches the CPU backend's (an ulp apart where one side fuses a
// multiply-add and the other does not).
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

struct SgdCoefficients {
  float lr, momentum, weight_decay, keep;  // keep = 1 - dampening, rounded once as on the CPU
  bool use_momentum, nesterov, first_step;
};

__global__ void sgd_step_kernel(float* param, const float* grad, float* momentum_buffer,
                                long long count, SgdCoefficients k) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    float g = grad[i] + k.weight_decay * param[i];
    if (k.use_momentum) {
      const float buf = k.first_step ? g : k.momentum * momentum_buffer[i] + k.keep * g;
      momentum_buffer[i] = buf;
      g = k.nesterov ? g + k.momentum * buf : buf;
    }
    param[i] -= k.lr * g;
  }
}

}  // namespace

cudaError_t sgd_step(float* param, const float* grad, float* momentum_buffer, std::int64_t count,
                     const SgdUpdate& update, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  SgdCoefficients k;
  k.lr = update.lr;
  k.momentum = update.momentum;
  k.weight_decay = update.weight_decay;
  k.keep = 1.0f - update.dampening;
  k.use_momentum = update.momentum != 0.0f;
  k.nesterov = update.nesterov;
  k.first_step = update.first_step;
  sgd_step_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(param, grad, momentum_buffer, count,
                                                               k);
  return cudaGetLastError();
}

}  // namespace r50::kernels
