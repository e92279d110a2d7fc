// defines: add
//
// y = a + b: one thread per element, a grid of 256-thread blocks striding over `count`. Elements
// are float, __half or __nv_bfloat16; the sum is taken in float and stored rounded. Each thread
// reads a[i] and b[i] before writing y[i], so y may alias either input: the pointers are
// deliberately not __restrict__.
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

template <typename T>
__global__ void add_kernel(const T* a, const T* b, T* y, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    y[i] = from_float<T>(to_float(a[i]) + to_float(b[i]));
  }
}

}  // namespace

cudaError_t add(const void* a, const void* b, void* y, Storage storage, std::int64_t count,
                cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    add_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(
        static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(y), count);
    return cudaGetLastError();
  });
}

}  // namespace r50::kernels
