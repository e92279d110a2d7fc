// defines: add
//
// y = a + b: one thread per element, a grid of 256-thread blocks striding over `count`. Each
// thread reads a[i] and b[i] before writing y[i], so y may alias either input: the pointers are
// deliberately not __restrict__.
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

__global__ void add_kernel(const float* a, const float* b, float* y, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    y[i] = a[i] + b[i];
  }
}

}  // namespace

cudaError_t add(const float* a, const float* b, float* y, std::int64_t count, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  add_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(a, b, y, count);
  return cudaGetLastError();
}

}  // namespace r50::kernels
