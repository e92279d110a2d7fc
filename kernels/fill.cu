// defines: fill
//
// out[i] = value: one thread per element, a grid of 256-thread blocks striding over `count`.
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

__global__ void fill_kernel(float* out, long long count, float value) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    out[i] = value;
  }
}

}  // namespace

cudaError_t fill(float* out, std::int64_t count, float value, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  fill_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(out, count, value);
  return cudaGetLastError();
}

}  // namespace r50::kernels
