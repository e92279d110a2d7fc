// defines: sgd_step, sgd_step_all, sgd_tensors_per_launch
//
// torch.optim.SGD's update, element by element, in torch's order (as src/ops/cpu/sgd.cpp):
//   g = grad_scale·grad + weight_decay·param;
//   buf = first_step ? g : momentum·buf + (1 - dampening)·g;
//   g = nesterov ? g + momentum·buf : buf; param -= lr·g.
// The formula is kept term for term so the rounding matches the CPU backend's (an ulp apart where
// one side fuses a multiply-add and the other does not). sgd_step and sgd_step_all share it
// (sgd_element), so the one-launch update of many tensors is bit for bit the per-tensor one.
// Gradients are float, __half or __nv_bfloat16, read as float; sgd_step_all's compute copies get
// the updated parameter rounded once, as cast.cu would round it.
#include <climits>
#include <cstdint>

#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

struct SgdCoefficients {
  float lr, momentum, weight_decay, keep;  // keep = 1 - dampening, rounded once as on the CPU
  float grad_scale;
  bool use_momentum, nesterov;
  const float* loss_scale_state;  // null: none (SgdUpdate)
  const float* found_non_finite;
};

SgdCoefficients coefficients(const SgdUpdate& update) {
  SgdCoefficients k;
  k.lr = update.lr;
  k.momentum = update.momentum;
  k.weight_decay = update.weight_decay;
  k.keep = 1.0f - update.dampening;
  k.grad_scale = update.grad_scale;
  k.use_momentum = update.momentum != 0.0f;
  k.nesterov = update.nesterov;
  k.loss_scale_state = update.loss_scale_state;
  k.found_non_finite = update.found_non_finite;
  return k;
}

// Element i of one tensor's update; returns the updated parameter. Both kernels compute through
// this one function, so that the compiler contracts the same multiply-adds in each and their
// results agree bit for bit. The gradient's scaling is rounded on its own (__fmul_rn is never
// fused into a multiply-add), so that with grad_scale 1, where it is exact, the rest contracts as
// the unscaled update does and gives its results bit for bit.
__device__ __forceinline__ float sgd_element(float* param, const void* grad, Storage grad_storage,
                                             float* momentum_buffer, long long i,
                                             const SgdCoefficients& k, bool first_step) {
  float g = __fmul_rn(k.grad_scale, load_float(grad, grad_storage, i)) + k.weight_decay * param[i];
  if (k.use_momentum) {
    const float buf = first_step ? g : k.momentum * momentum_buffer[i] + k.keep * g;
    momentum_buffer[i] = buf;
    g = k.nesterov ? g + k.momentum * buf : buf;
  }
  const float updated = param[i] - k.lr * g;
  param[i] = updated;
  return updated;
}

// One thread per element, a grid of 256-thread blocks striding over `count`.
__global__ void sgd_step_kernel(float* param, const void* grad, Storage grad_storage,
                                float* momentum_buffer, long long count, SgdCoefficients k,
                                bool first_step) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
       i += (long long)gridDim.x * blockDim.x) {
    sgd_element(param, grad, grad_storage, momentum_buffer, i, k, first_step);
  }
}

// Elements per block of sgd_step_all: 8 per thread, enough work per block that ResNet-50's 25.6
// million parameters take about 12,500 blocks, and a small tensor (a batch norm's 64 values)
// still only one.
constexpr long long kSgdChunk = 8 * kThreads;

// The tensors of one launch, as columns so that no padding is spent between fields. Tensor t owns
// blocks [first_block[t], first_block[t + 1]), ceil(count[t] / kSgdChunk) of them. Storages are
// kept as bytes (Storage's values) to save parameter space; compute_copy[t] is null for none.
template <int kCapacity>
struct SgdTable {
  float* param[kCapacity];
  const void* grad[kCapacity];
  float* momentum_buffer[kCapacity];
  void* compute_copy[kCapacity];
  long long count[kCapacity];
  int first_block[kCapacity + 1];
  bool first_step[kCapacity];
  std::uint8_t grad_storage[kCapacity];
  std::uint8_t compute_storage[kCapacity];
  int tensors;
};

// The most tensors whose table and coefficients fit in `bytes` of kernel parameters: each tensor
// takes 4 pointers, a count, a block index, a flag and two storage bytes (47 bytes); 64 bytes
// cover the rest.
constexpr int capacity_for(std::size_t bytes) { return static_cast<int>((bytes - 64) / 47); }

// Block b of the grid updates chunk b - first_block[t] of tensor t, the tensor that owns it. Under
// a loss scale on the device, every block reads the step's verdict and the scale itself: a skipped
// step costs one read per block.
template <int kCapacity>
__global__ void sgd_step_all_kernel(const SgdTable<kCapacity> table, SgdCoefficients k) {
  bool first_step = false;
  if (k.loss_scale_state) {
    if (*k.found_non_finite != 0.0f) return;
    k.grad_scale = 1.0f / k.loss_scale_state[kStateScale];
    first_step = k.loss_scale_state[kStateUpdatesApplied] == 0.0f;
  }
  const int t = block_owner(table.first_block, table.tensors);
  if (!k.loss_scale_state) first_step = table.first_step[t];
  const long long begin = (static_cast<int>(blockIdx.x) - table.first_block[t]) * kSgdChunk;
  const long long end = min(begin + kSgdChunk, table.count[t]);
  const Storage grad_storage = static_cast<Storage>(table.grad_storage[t]);
  const Storage compute_storage = static_cast<Storage>(table.compute_storage[t]);
  void* const compute_copy = table.compute_copy[t];
  for (long long i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const float updated = sgd_element(table.param[t], table.grad[t], grad_storage,
                                      table.momentum_buffer[t], i, k, first_step);
    if (compute_copy) store_float(compute_copy, compute_storage, i, updated);
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
    table.compute_copy[t] = tensor.compute_copy;
    table.count[t] = tensor.count;
    table.first_step[t] = tensor.first_step;
    table.grad_storage[t] = static_cast<std::uint8_t>(tensor.grad_storage);
    table.compute_storage[t] = static_cast<std::uint8_t>(tensor.compute_storage);
    table.first_block[t + 1] = table.first_block[t] + static_cast<int>(blocks);
  }
  return launch();
}

}  // namespace

cudaError_t sgd_step(float* param, const void* grad, float* momentum_buffer, Storage grad_storage,
                     std::int64_t count, const SgdUpdate& update, bool first_step,
                     cudaStream_t stream) {
  // The loss scale's state is sgd_step_all's alone: refuse it rather than ignore it.
  if (update.loss_scale_state || update.found_non_finite) return cudaErrorInvalidValue;
  if (count <= 0) return cudaSuccess;
  sgd_step_kernel<<<grid_blocks(count), kThreads, 0, stream>>>(
      param, grad, grad_storage, momentum_buffer, count, coefficients(update), first_step);
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
