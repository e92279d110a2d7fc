// defines: softmax_cross_entropy_forward, softmax_cross_entropy_backward
//
// Softmax cross-entropy over logits [n, k] through the log-sum-exp, with m = max_j x_j:
//   logsumexp = m + log Σ_j exp(x_j - m),  probs = exp(x - logsumexp),  loss = logsumexp - x[label]
// - Forward: one 256-thread block per row (rows strided over the grid): a block max, a block sum
//   of the exponentials, then the probabilities. The exponentials, the sum and the log-sum-exp are
//   computed in double, as in the CPU backend: k is small (101 or 1000 classes), so the cost is
//   nothing next to a training step, and probs and the loss come out correctly rounded instead of
//   carrying the float rounding of logsumexp (|x - logsumexp|·2^-24, tens of ulps for large
//   logits). Then a single block sums row_loss in a fixed order, so the mean is deterministic.
// - Backward: one thread per element, 256-thread blocks striding over n·k.
// Logits and dlogits are float, __half or __nv_bfloat16 (T): logits are read as float, dlogits
// computed in float and stored rounded; probs and the losses are float whatever T is.
// A label outside [0, k) cannot be reported from the device, so its row's loss and gradient are
// NaN, which carries into the mean.
#include <cmath>
#include <limits>

#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Every thread gets the block's reduction of `value` (block_reduce leaves it in thread 0).
template <typename T, typename Op>
__device__ T block_all_reduce(T value, Op op, T identity) {
  __shared__ T result;
  value = block_reduce(value, op, identity);
  if (threadIdx.x == 0) result = value;
  __syncthreads();
  value = result;
  __syncthreads();  // the next call may overwrite result
  return value;
}

template <typename T>
__global__ void softmax_cross_entropy_rows_kernel(const T* __restrict__ logits,
                                                  const std::int32_t* __restrict__ labels,
                                                  float* __restrict__ probs,
                                                  float* __restrict__ row_loss, int n, int k) {
  for (int row = blockIdx.x; row < n; row += gridDim.x) {
    const T* x = logits + static_cast<long long>(row) * k;
    float* p = probs + static_cast<long long>(row) * k;
    // A NaN logit is skipped by fmaxf here but makes the sum NaN below, so the row still
    // comes out NaN.
    float thread_max = -INFINITY;
    for (int j = threadIdx.x; j < k; j += blockDim.x) {
      thread_max = fmaxf(thread_max, to_float(x[j]));
    }
    const double row_max = block_all_reduce(thread_max, Max{}, -INFINITY);
    double thread_sum = 0.0;
    for (int j = threadIdx.x; j < k; j += blockDim.x) {
      thread_sum += exp(to_float(x[j]) - row_max);
    }
    const double log_sum_exp = row_max + log(block_all_reduce(thread_sum, Sum{}, 0.0));
    for (int j = threadIdx.x; j < k; j += blockDim.x) {
      p[j] = static_cast<float>(exp(to_float(x[j]) - log_sum_exp));
    }
    if (threadIdx.x == 0) {
      const std::int32_t label = labels[row];
      row_loss[row] =
          label >= 0 && label < k ? static_cast<float>(log_sum_exp - to_float(x[label])) : kNaN;
    }
  }
}

// One block: each thread sums a fixed stride of rows in double, then the fixed tree.
__global__ void mean_loss_kernel(const float* __restrict__ row_loss, float* __restrict__ loss,
                                 int n) {
  double sum = 0.0;
  for (int row = threadIdx.x; row < n; row += blockDim.x) sum += row_loss[row];
  sum = block_reduce(sum, Sum{}, 0.0);
  if (threadIdx.x == 0) loss[0] = static_cast<float>(sum / static_cast<double>(n));
}

template <typename T>
__global__ void softmax_cross_entropy_backward_kernel(const float* __restrict__ probs,
                                                      const std::int32_t* __restrict__ labels,
                                                      T* __restrict__ dlogits, long long total,
                                                      int k, float scale, const float* loss_grad, int n) {
  // The loss's gradient read on the device: divided by n in double and rounded once, as the host
  // computes `scale` for one passed by value.
  if (loss_grad) scale = static_cast<float>(static_cast<double>(*loss_grad) / static_cast<double>(n));
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    const long long row = i / k;  // i = row·k + class
    const int label = labels[row];
    const float onehot = i - row * k == label ? 1.0f : 0.0f;
    dlogits[i] = from_float<T>(label >= 0 && label < k ? scale * (probs[i] - onehot) : kNaN);
  }
}

}  // namespace

cudaError_t softmax_cross_entropy_forward(const void* logits, const std::int32_t* labels,
                                          float* probs, float* row_loss, float* loss,
                                          Storage logits_storage, int n, int k,
                                          cudaStream_t stream) {
  if (n <= 0 || k <= 0) return cudaSuccess;
  const cudaError_t rows = with_element_type(logits_storage, [&](auto zero) {
    using T = decltype(zero);
    softmax_cross_entropy_rows_kernel<<<grid_blocks(n, 1), kThreads, 0, stream>>>(
        static_cast<const T*>(logits), labels, probs, row_loss, n, k);
    return cudaGetLastError();
  });
  if (rows != cudaSuccess) return rows;
  mean_loss_kernel<<<1, kThreads, 0, stream>>>(row_loss, loss, n);
  return cudaGetLastError();
}

cudaError_t softmax_cross_entropy_backward(const float* probs, const std::int32_t* labels,
                                           void* dlogits, Storage dlogits_storage, int n, int k,
                                           float loss_grad, const float* device_loss_grad,
                                           cudaStream_t stream) {
  if (n <= 0 || k <= 0) return cudaSuccess;
  const float scale = static_cast<float>(static_cast<double>(loss_grad) / static_cast<double>(n));
  const long long total = static_cast<long long>(n) * k;
  return with_element_type(dlogits_storage, [&](auto zero) {
    using T = decltype(zero);
    softmax_cross_entropy_backward_kernel<<<grid_blocks(total), kThreads, 0, stream>>>(
        probs, labels, static_cast<T*>(dlogits), total, k, scale, device_loss_grad, n);
    return cudaGetLastError();
  });
}

}  // namespace r50::kernels
