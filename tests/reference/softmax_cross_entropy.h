// defines: reference::SoftmaxCrossEntropy, reference::softmax_cross_entropy_forward,
//          reference::softmax_cross_entropy_backward
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "reference/numerics.h"

namespace r50::reference {

template <typename T>
struct SoftmaxCrossEntropy {
  HostTensor<T> probs;
  T loss;
};

// probs[n, k] = exp(x[n, k]) / Σ_j exp(x[n, j]) (with the row's max subtracted from every logit,
// which cancels), loss = mean over n of -log probs[n, label[n]].
template <typename T>
SoftmaxCrossEntropy<T> softmax_cross_entropy_forward(const HostTensor<T>& logits,
                                                     const std::vector<std::int32_t>& labels) {
  const std::int64_t N = logits.shape()[0], K = logits.shape()[1];
  SoftmaxCrossEntropy<T> out{HostTensor<T>(logits.shape()), T(0)};
  for (std::int64_t n = 0; n < N; ++n) {
    T max = logits.at(n, 0);
    for (std::int64_t k = 0; k < K; ++k) max = std::max(max, logits.at(n, k));
    T sum = 0;
    for (std::int64_t k = 0; k < K; ++k) sum += std::exp(logits.at(n, k) - max);
    for (std::int64_t k = 0; k < K; ++k) out.probs.at(n, k) = std::exp(logits.at(n, k) - max) / sum;
    // -log probs[label] without the rounding of probs: log Σ exp(x - max) - (x[label] - max).
    out.loss += std::log(sum) - (logits.at(n, labels[n]) - max);
  }
  out.loss /= static_cast<T>(N);
  return out;
}

// ∂(loss_grad·loss)/∂logits[n, k] = loss_grad·(probs[n, k] - [k == label[n]]) / N.
template <typename T>
HostTensor<T> softmax_cross_entropy_backward(const HostTensor<T>& probs,
                                             const std::vector<std::int32_t>& labels, T loss_grad) {
  const std::int64_t N = probs.shape()[0], K = probs.shape()[1];
  HostTensor<T> dlogits(probs.shape());
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t k = 0; k < K; ++k)
      dlogits.at(n, k) =
          loss_grad * (probs.at(n, k) - (k == labels[n] ? T(1) : T(0))) / static_cast<T>(N);
  return dlogits;
}

}  // namespace r50::reference
