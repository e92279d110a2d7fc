// defines: kThreads, kMaxBlocks, grid_blocks, kSmallParameterBytes, kLargeParameterBytes,
//          driver_takes_large_parameters, block_owner, Sum, Max, warp_reduce, block_reduce,
//          to_float, from_float, load_float, store_float, with_element_type
//
// Launch sizes, the warp and block reductions, and the element conversions that the kernel files
// share. Reductions run a fixed shuffle-down tree, so a result depends only on the block size,
// never on timing: the kernels that use them are deterministic.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels.h"

namespace r50::kernels {

// An element as the fp32 every kernel computes in (exact for each storage), and an fp32 result
// as the element stored, rounded to nearest even. The bf16 conversions run on compute capability
// 7.5 too (in software there): kernels convert and compute in float, never in bf16 arithmetic.
__device__ __forceinline__ float to_float(float value) { return value; }
__device__ __forceinline__ float to_float(__half value) { return __half2float(value); }
__device__ __forceinline__ float to_float(__nv_bfloat16 value) { return __bfloat162float(value); }

template <typename T>
__device__ __forceinline__ T from_float(float value);
template <>
__device__ __forceinline__ float from_float<float>(float value) { return value; }
template <>
__device__ __forceinline__ __half from_float<__half>(float value) { return __float2half_rn(value); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float value) {
  return __float2bfloat16_rn(value);
}

// Element i of a tensor whose storage is known only at run time (tables of tensors of mixed
// storage), read as float and stored rounded as to_float and from_float do.
__device__ __forceinline__ float load_float(const void* data, Storage storage, long long i) {
  switch (storage) {
    case Storage::F16: return to_float(static_cast<const __half*>(data)[i]);
    case Storage::BF16: return to_float(static_cast<const __nv_bfloat16*>(data)[i]);
    default: return static_cast<const float*>(data)[i];
  }
}

__device__ __forceinline__ void store_float(void* data, Storage storage, long long i, float value) {
  switch (storage) {
    case Storage::F16:
      static_cast<__half*>(data)[i] = from_float<__half>(value);
      break;
    case Storage::BF16:
      static_cast<__nv_bfloat16*>(data)[i] = from_float<__nv_bfloat16>(value);
      break;
    default:
      static_cast<float*>(data)[i] = value;
      break;
  }
}

// Calls launch(T{}) with T the element type that `storage` names (float, __half, __nv_bfloat16)
// and returns what it returns: launchers write one generic lambda instead of three launches.
template <typename Launch>
cudaError_t with_element_type(Storage storage, Launch&& launch) {
  switch (storage) {
    case Storage::F32: return launch(float{});
    case Storage::F16: return launch(__half{});
    case Storage::BF16: return launch(__nv_bfloat16{});
  }
  return cudaErrorInvalidValue;
}

// 256 threads keep enough warps per SM in flight for streaming kernels on every architecture
// from compute capability 7.5 up, and divide every SM's thread limit.
constexpr int kThreads = 256;

// A grid-stride loop needs no more blocks than this to fill any current GPU many times over;
// 65535 is also the limit of gridDim.y and gridDim.z, so the same cap serves every dimension.
constexpr long long kMaxBlocks = 65535;

// Blocks for `count` work items at `per_block` items per block, at least 1, capped.
inline int grid_blocks(long long count, long long per_block = kThreads) {
  const long long wanted = (count + per_block - 1) / per_block;
  return static_cast<int>(wanted < 1 ? 1 : (wanted < kMaxBlocks ? wanted : kMaxBlocks));
}

struct Sum {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};

struct Max {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// Kernel parameters: 4,096 bytes before CUDA 12.1; 32,764 bytes from CUDA 12.1 (runtime and
// driver) on compute capability 7.0 and newer, which covers every architecture we build for.
// Launchers that pass tables of tensors by value (sgd.cu, cast.cu) size them by these.
constexpr std::size_t kSmallParameterBytes = 4096;
constexpr std::size_t kLargeParameterBytes = 32764;

// Whether launches may take kLargeParameterBytes: a CUDA 12.x build also runs on drivers of
// CUDA 12.0 (R525), which take only 4,096 bytes.
inline bool driver_takes_large_parameters() {
#if CUDART_VERSION >= 12010
  static const bool large = [] {
    int version = 0;
    return cudaDriverGetVersion(&version) == cudaSuccess && version >= 12010;
  }();
  return large;
#else
  return false;
#endif
}

// In a launch over a table of tensors where tensor t owns blocks [first_block[t],
// first_block[t + 1]) and every tensor owns at least one, the tensor that owns this block: the
// last whose first block is at most blockIdx.x, found by bisection.
__device__ __forceinline__ int block_owner(const int* first_block, int tensors) {
  const int block = static_cast<int>(blockIdx.x);
  int low = 0, high = tensors - 1;
  while (low < high) {
    const int middle = (low + high + 1) / 2;
    if (first_block[middle] <= block) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  return low;
}

// Lane 0 gets the warp's reduction; the other lanes get partial values. The whole warp must call.
template <typename T, typename Op>
__device__ T warp_reduce(T value, Op op) {
  for (int offset = 16; offset > 0; offset /= 2) {
    value = op(value, __shfl_down_sync(0xffffffffu, value, offset));
  }
  return value;
}

// Thread 0 gets the block's reduction. blockDim.x must be a multiple of 32 (at most 1024) and every
// thread must call; `identity` fills the lanes of warp 0 beyond the warp count.
template <typename T, typename Op>
__device__ T block_reduce(T value, Op op, T identity) {
  __shared__ T warp_results[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  value = warp_reduce(value, op);
  if (lane == 0) warp_results[warp] = value;
  __syncthreads();
  value = (warp == 0 && lane < static_cast<int>(blockDim.x / 32)) ? warp_results[lane] : identity;
  __syncthreads();  // a second call in the same kernel may overwrite warp_results after this
  if (warp == 0) value = warp_reduce(value, op);
  return value;
}

}  // namespace r50::kernels
