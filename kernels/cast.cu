// defines: cast, find_non_finite, find_non_finite_tensors_per_launch
//
// cast: dst = src·scale, read as float, multiplied in float and rounded once to dst's storage;
// one thread per element, a grid of 256-thread blocks striding over `count`. Each thread reads
// element i before writing element i, so dst may alias src of the same storage: the pointers
// are deliberately not __restrict__.
//
// find_non_finite: one launch over many tensors, their table passed by value as kernel
// parameters as sgd.cu passes its own (no copy to the device, so a CUDA graph can record it).
// Each tensor owns ceil(count / kFindChunk) consecutive blocks; a block checks its chunk, and
// its thread 0 writes 1 to `found` when any thread saw an infinity or a NaN. Every writer writes
// the same value, so no atomics are needed, and a tensor with nothing to report writes nothing.
#include <climits>
#include <cstdint>

#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

template <typename Src, typename Dst>
__global__ void cast_kernel(const Src* src, Dst* dst, long long count, float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    dst[i] = from_float<Dst>(to_float(src[i]) * scale);
  }
}

// Elements per block of find_non_finite: 8 per thread, as sgd.cu's chunks.
constexpr long long kFindChunk = 8 * kThreads;

// The tensors of one launch, as columns (no padding between fields). Tensor t owns blocks
// [first_block[t], first_block[t + 1]); storage[t] holds Storage's value as a byte.
template <int kCapacity>
struct FindTable {
  const void* data[kCapacity];
  long long count[kCapacity];
  int first_block[kCapacity + 1];
  std::uint8_t storage[kCapacity];
  int tensors;
};

// The most tensors whose table and `found` fit in `bytes` of kernel parameters: each tensor takes
// a pointer, a count, a block index and a storage byte (21 bytes); 64 bytes cover the rest.
constexpr int capacity_for(std::size_t bytes) { return static_cast<int>((bytes - 64) / 21); }

template <int kCapacity>
__global__ void find_non_finite_kernel(const FindTable<kCapacity> table, float* found) {
  const int t = block_owner(table.first_block, table.tensors);
  const long long begin = (static_cast<int>(blockIdx.x) - table.first_block[t]) * kFindChunk;
  const long long end = min(begin + kFindChunk, table.count[t]);
  const Storage storage = static_cast<Storage>(table.storage[t]);
  bool non_finite = false;
  for (long long i = begin + threadIdx.x; i < end; i += blockDim.x) {
    non_finite |= !isfinite(load_float(table.data[t], storage, i));
  }
  // Every thread of the block reaches this barrier: the loop above has no early exit.
  if (__syncthreads_or(non_finite) && threadIdx.x == 0) *found = 1.0f;
}

// Fills tables as large as `kParameterBytes` of kernel parameters allow and launches each when
// full, when one more tensor would take the grid past gridDim.x's limit, and at the end. Tensors
// of no elements are left out; the table is zeroed first, as sgd.cu's.
template <std::size_t kParameterBytes>
cudaError_t launch_tables(const NonFiniteTensor* tensors, int count, float* found,
                          cudaStream_t stream) {
  constexpr int kCapacity = capacity_for(kParameterBytes);
  static_assert(sizeof(FindTable<kCapacity>) + sizeof(float*) + 8 <= kParameterBytes,
                "the table must fit in one launch's kernel parameters");
  FindTable<kCapacity> table{};
  table.tensors = 0;
  table.first_block[0] = 0;
  const auto launch = [&]() -> cudaError_t {
    if (table.tensors == 0) return cudaSuccess;
    find_non_finite_kernel<kCapacity>
        <<<table.first_block[table.tensors], kThreads, 0, stream>>>(table, found);
    table.tensors = 0;
    return cudaGetLastError();
  };
  for (int i = 0; i < count; ++i) {
    const NonFiniteTensor& tensor = tensors[i];
    if (tensor.count <= 0) continue;
    const long long blocks = (tensor.count + kFindChunk - 1) / kFindChunk;
    if (blocks > INT_MAX) return cudaErrorInvalidValue;
    if (table.tensors == kCapacity || table.first_block[table.tensors] + blocks > INT_MAX) {
      const cudaError_t status = launch();
      if (status != cudaSuccess) return status;
    }
    const int t = table.tensors++;
    table.data[t] = tensor.data;
    table.count[t] = tensor.count;
    table.storage[t] = static_cast<std::uint8_t>(tensor.storage);
    table.first_block[t + 1] = table.first_block[t] + static_cast<int>(blocks);
  }
  return launch();
}

}  // namespace

cudaError_t cast(const void* src, void* dst, Storage src_storage, Storage dst_storage,
                 std::int64_t count, float scale, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  return with_element_type(src_storage, [&](auto src_zero) {
    using Src = decltype(src_zero);
    return with_element_type(dst_storage, [&](auto dst_zero) {
      using Dst = decltype(dst_zero);
      cast_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(
          static_cast<const Src*>(src), static_cast<Dst*>(dst), count, scale);
      return cudaGetLastError();
    });
  });
}

int find_non_finite_tensors_per_launch() {
#if CUDART_VERSION >= 12010
  if (driver_takes_large_parameters()) return capacity_for(kLargeParameterBytes);
#endif
  return capacity_for(kSmallParameterBytes);
}

cudaError_t find_non_finite(const NonFiniteTensor* tensors, int count, float* found,
                            cudaStream_t stream) {
#if CUDART_VERSION >= 12010
  if (driver_takes_large_parameters()) {
    return launch_tables<kLargeParameterBytes>(tensors, count, found, stream);
  }
#endif
  return launch_tables<kSmallParameterBytes>(tensors, count, found, stream);
}

}  // namespace r50::kernels
