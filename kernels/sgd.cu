// defines: sgd_step, sgd_step_all, sgd_tensors_per_launch
//
// torch.optim.SGD's update, element by element, in torch's order (as src/ops/cpu/sgd.cpp):
//   g = grad + weight_decay·param; buf = first_step ? g : momentum·buf + (1 - dampening)·g;
//   g = nesterov ? g + momentum·buf : buf; param -= lr·g.
// The formula is kept term for term so the rounding matches the CPU backend's (an ulp apart where
// one side fuses a multiply-add and the other does not). sgd_step and sgd_step_all share it
// (sgd_element), so the one-launch update of many tensors is bit for bit the per-tensor one.
#include <climits>

#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

struct SgdCoefficients {
  float lr, momentum, weight_decay, keep;  // keep = 1 - dampening, rounded once as on the CPU
  bool use_momentum, nesterov;
};

SgdCoefficients coefficients(const SgdUpdate& update) {
  SgdCoefficients k;
  k.lr = update.lr;
  k.momentum = update.momentum;
  k.weight_decay = update.weight_decay;
  k.keep = 1.0f - update.dampening;
  k.use_momentum = update.momentum != 0.0f;
  k.nesterov = update.nesterov;
  return k;
}

// Element i of one tensor's update. Both kernels compute through this one function, so that the
// compiler contracts the same multiply-adds in each and their results agree bit for bit.
__device__ __forceinline__ void sgd_element(float* param, const float* grad, float* momentum_buffer,
                                            long long i, const SgdCoefficients& k,
                                            bool first_step) {
  float g = grad[i] + k.weight_decay * param[i];
  if (k.use_momentum) {
    const float buf = first_step ? g : k.momentum * momentum_buffer[i] + k.keep * g;
    momentum_buffer[i] = buf;
    g = k.nesterov ? g + k.momentum * buf : buf;
  }
  param[i] -= k.lr * g;
}

// One thread per element, a grid of 256-thread blocks striding over `count`.
__global__ void sgd_step_kernel(float* param, const float* grad, float* momentum_buffer,
                                long long count, SgdCoefficients k, bool first_step) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    sgd_element(param, grad, momentum_buffer, i, k, first_step);
  }
}

// Elements per block of sgd_step_all: 8 per thread, enough work per block that ResNet-50's 25.6
// million parameters take about 12,500 blocks, and a small tensor (a batch norm's 64 values)
// still only one.
constexpr long long kSgdChunk = 8 * kThreads;

// Kernel parameters: 4,096 bytes before CUDA 12.1; 32,764 bytes from CUDA 12.1 (runtime and
// driver) on compute capability 7.0 and newer, which covers every architecture we build for.
constexpr std::size_t kSmallParameterBytes = 4096;
constexpr std::size_t kLargeParameterBytes = 32764;

// The tensors of one launch, as columns so that no padding is spent between fields. Tensor t owns
// blocks [first_block[t], first_block[t + 1]), ceil(count[t] / kSgdChunk) of them.
template <int kCapacity>
struct SgdTable {
  float* param[kCapacity];
  const float* grad[kCapacity];
  float* momentum_buffer[kCapacity];
  long long count[kCapacity];
  int first_block[kCapacity + 1];
  bool first_step[kCapacity];
  int tensors;
};

// The most tensors whose table and coefficients fit in `bytes` of kernel parameters: each tensor
// takes 3 pointers, a count, a block index and a flag (37 bytes); 64 bytes cover the rest.
constexpr int capacity_for(std::size_t bytes) { return static_cast<int>((bytes - 64) / 37); }

// Block b of the grid updates chunk b - first_block[t] of tensor t, the last tensor whose first
// block is at most b (found by bisection; every tensor of the table owns at least one block).
template <int kCapacity>
__global__ void sgd_step_all_kernel(const SgdTable<kCapacity> table, SgdCoefficients k) {
  const int block = static_cast<int>(blockIdx.x);
  int low = 0, high = table.tensors - 1;
  while (low < high) {
    const int middle = (low + high + 1) / 2;
    if (table.first_block[middle] <= block) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  const int t = low;
  const long long begin = (block - table.first_block[t]) * kSgdChunk;
  const long long end = min(begin + kSgdChunk, table.count[t]);
  for (long long i = begin + threadIdx.x; i < end; i += blockDim.x) {
    sgd_element(table.param[t], table.grad[t], table.momentum_buffer[t], i, k, table.first_step[t]);
  }
}

// Fills tables as large as `kParameterBytes` of kernel parameters allow and launches each when
// full, when one more tensor would take the grid past gridDim.x's limit, and at the end. Tensors
// of no elements are left out. The table is zeroed first so that a launch's parameters, unused
// entries included, depend only on the tensors (as a CUDA graph records them).
template <std::size_t kParameterBytes>
cudaError_t launch_tables(const SgdTensor* tensors, int count, const SgdCoefficients& k,
                          cudaStream_t stream) {
  constexpr int kCapacity = capacity_for(kParameterBytes);
  static_assert(sizeof(SgdTable<kCapacity>) + sizeof(SgdCoefficients) + 8 <= kParameterBytes,
                "the table must fit in one launch's kernel parameters");
  SgdTable<kCapacity> table{};
  table.tensors = 0;
  table.first_block[0] = 0;
  const auto launch = [&]() -> cudaError_t {
    if (table.tensors == 0) return cudaSuccess;
    sgd_step_all_kernel<kCapacity>
        <<<table.first_block[table.tensors], kThreads, 0, stream>>>(table, k);
    table.tensors = 0;
    return cudaGetLastError();
  };
  for (int i = 0; i < count; ++i) {
    const SgdTensor& tensor = tensors[i];
    if (tensor.count <= 0) continue;
    const long long blocks = (tensor.count + kSgdChunk - 1) / kSgdChunk;
    if (blocks > INT_MAX) return cudaErrorInvalidValue;
    if (table.tensors == kCapacity || table.first_block[table.tensors] + blocks > INT_MAX) {
      const cudaError_t status = launch();
      if (status != cudaSuccess) return status;
    }
    const int t = table.tensors++;
    table.param[t] = tensor.param;
    table.grad[t] = tensor.grad;
    table.momentum_buffer[t] = tensor.momentum_buffer;
    table.count[t] = tensor.count;
    table.first_step[t] = tensor.first_step;
    table.first_block[t + 1] = table.first_block[t] + static_cast<int>(blocks);
  }
  return launch();
}

#if CUDART_VERSION >= 12010
// A CUDA 12.x build also runs on drivers of CUDA 12.0 (R525), which take only 4,096 bytes.
bool driver_takes_large_parameters() {
  static const bool large = [] {
    int version = 0;
    return cudaDriverGetVersion(&version) == cudaSuccess && version >= 12010;
  }();
  return large;
}
#endif

}  // namespace

cudaError_t sgd_step(float* param, const float* grad, float* momentum_buffer, std::int64_t count,
                     const SgdUpdate& update, bool first_step, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  sgd_step_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(param, grad, momentum_buffer, count,
                                                               coefficients(update), first_step);
  return cudaGetLastError();
}

int sgd_tensors_per_launch() {
#if CUDART_VERSION >= 12010
  if (driver_takes_large_parameters()) return capacity_for(kLargeParameterBytes);
#endif
  return capacity_for(kSmallParameterBytes);
}

cudaError_t sgd_step_all(const SgdTensor* tensors, int count, const SgdUpdate& update,
                         cudaStream_t stream) {
  const SgdCoefficients k = coefficients(update);
#if CUDART_VERSION >= 12010
  if (driver_takes_large_parameters()) {
    return launch_tables<kLargeParameterBytes>(tensors, count, k, stream);
  }
#endif
  return launch_tables<kSmallParameterBytes>(tensors, count, k, stream);
}

}  // namespace r50::kernels
