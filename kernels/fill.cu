// defines: fill
//
// out[i] = value, rounded once to the storage: one thread per element, a grid of 256-thread
// blocks striding over `count`.
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

template <typename T>
__global__ void fill_kernel(T* out, long long count, float value) {
  const T stored = from_float<T>(value);
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    out[i] = stored;
  }
}

}  // namespace

cudaError_t fill(void* out, Storage storage, std::int64_t count, float value, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    fill_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(static_cast<T*>(out), count, value);
    return cudaGetLastError();
  });
}

}  // namespace r50::kernels
