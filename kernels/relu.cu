// defines: relu_forward, relu_backward
//
// y = x < 0 ? 0 : x (a NaN fails the comparison and stays NaN, as in torch and the CPU backend);
// dx = y > 0 ? dy : 0. One thread per element, a grid of 256-thread blocks striding over `count`.
// Elements are float, __half or __nv_bfloat16, read as float and stored rounded (which changes
// nothing here: every value stored is one read). Each thread reads element i before writing
// element i, so y may alias x and dx may alias dy: the pointers are deliberately not __restrict__.
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

template <typename T>
__global__ void relu_forward_kernel(const T* x, T* y, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    const float v = to_float(x[i]);
    y[i] = from_float<T>(v < 0.0f ? 0.0f : v);
  }
}

template <typename T>
__global__ void relu_backward_kernel(const T* y, const T* dy, T* dx, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    const float g = to_float(dy[i]);
    dx[i] = from_float<T>(to_float(y[i]) > 0.0f ? g : 0.0f);
  }
}

}  // namespace

cudaError_t relu_forward(const void* x, void* y, Storage storage, std::int64_t count,
                         cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    relu_forward_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(static_cast<const T*>(x),
                                                                     static_cast<T*>(y), count);
    return cudaGetLastError();
  });
}

cudaError_t relu_backward(const void* y, const void* dy, void* dx, Storage storage,
                          std::int64_t count, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    relu_backward_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(
        static_cast<const T*>(y), static_cast<const T*>(dy), static_cast<T*>(dx), count);
    return cudaGetLastError();
  });
}

}  // namespace r50::kernels
