// defines: kThreads, kMaxBlocks, grid_blocks, Sum, Max, warp_reduce, block_reduce
//
// Launch sizes and the warp and block reductions that the kernel files share. Reductions run a
// fixed shuffle-down tree, so a result depends only on the block size, never on timing: the
// kernels that use them are deterministic.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace r50::kernels {

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
