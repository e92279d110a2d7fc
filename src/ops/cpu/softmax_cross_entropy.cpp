// Softmax cross-entropy over logits [N, K], through the log-sum-exp: with m = max_j x_j,
//   log Σ_j exp(x_j) = m + log Σ_j exp(x_j - m),
// so no exponential overflows and the loss of a confident row keeps its digits.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ops/cpu/cpu_backend.h"
#include "ops/cpu/f32_staging.h"

namespace r50 {
namespace {

// Every label must index a class; a wrong one names its batch index and value.
const std::int32_t* checked_labels(const char* op, const Tensor& labels, std::int64_t N,
                                   std::int64_t K) {
  const std::int32_t* data = labels.data_as<std::int32_t>();
  for (std::int64_t n = 0; n < N; ++n) {
    R50_CHECK(data[n] >= 0 && data[n] < K, op, ": labels[", n, "] is ", data[n], ", outside the ",
              K, " classes [0, ", K, ")");
  }
  return data;
}

}  // namespace

void CpuBackend::softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                               const Tensor& probs, const Tensor& loss) {
  const char* op = "softmax_cross_entropy_forward";
  check_softmax_cross_entropy_forward(logits, labels, probs, loss, device());
  if (F32Staging::needed(logits, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    softmax_cross_entropy_forward(f32.input(logits), labels, probs, loss);
    f32.finish();
    return;
  }
  const std::int64_t N = logits.dim(0), K = logits.dim(1);
  const std::int32_t* label = checked_labels(op, labels, N, K);
  const float* x = logits.data_as<float>();
  float* p = probs.data_as<float>();
  double total = 0.0;
  for (std::int64_t n = 0; n < N; ++n) {
    const float* row = x + n * K;
    const double max = *std::max_element(row, row + K);
    double sum = 0.0;
    for (std::int64_t k = 0; k < K; ++k) sum += std::exp(row[k] - max);
    const double log_sum_exp = max + std::log(sum);
    for (std::int64_t k = 0; k < K; ++k)
      p[n * K + k] = static_cast<float>(std::exp(row[k] - log_sum_exp));
    total += log_sum_exp - row[label[n]];
  }
  loss.data_as<float>()[0] = static_cast<float>(total / static_cast<double>(N));
}

void CpuBackend::softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                                const Tensor& dlogits, float loss_grad) {
  const char* op = "softmax_cross_entropy_backward";
  check_softmax_cross_entropy_backward(probs, labels, dlogits, device());
  if (F32Staging::needed(dlogits, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    softmax_cross_entropy_backward(probs, labels, f32.output(dlogits), loss_grad);
    f32.finish();
    return;
  }
  const std::int64_t N = probs.dim(0), K = probs.dim(1);
  const std::int32_t* label = checked_labels(op, labels, N, K);
  const float* p = probs.data_as<float>();
  float* grad = dlogits.data_as<float>();
  const float scale =
      N ? static_cast<float>(static_cast<double>(loss_grad) / static_cast<double>(N)) : 0.0f;
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t k = 0; k < K; ++k) {
      const float onehot = k == label[n] ? 1.0f : 0.0f;
      grad[n * K + k] = scale * (p[n * K + k] - onehot);
    }
  }
}

}  // namespace r50
