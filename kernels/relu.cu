// defines: relu_forward, relu_backward
//
// y = x < 0 ? 0 : x (a NaN fails the comparison and stays NaN, as in torch and the CPU backend);
// dx = y > 0 ? dy : 0. One thread per element, a grid of 256-thread blocks striding over `count`.
// Each thread reads element i before writing element i, so y may alias x and dx may alias dy:
// the pointers are deliberately not __restrict__.
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

__global__ void relu_forward_kernel(const float* x, float* y, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    const float v = x[i];
    y[i] = v < 0.0f ? 0.0f : v;
  }
}

__global__ void relu_backward_kernel(const float* y, const float* dy, float* dx, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    const float g = dy[i];
    dx[i] = y[i] > 0.0f ? g : 0.0f;
  }
}

}  // namespace

cudaError_t relu_forward(const float* x, float* y, std::int64_t count, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  relu_forward_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(x, y, count);
  return cudaGetLastError();
}

cudaError_t relu_backward(const float* y, const float* dy, float* dx, std::int64_t count,
                          cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  relu_backward_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(y, dy, dx, count);
  return cudaGetLastError();
}

}  // namespace r50::kernels
