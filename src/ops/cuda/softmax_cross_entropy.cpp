// Softmax cross-entropy on the GPU: kernels/softmax_cross_entropy.cu. Labels live on the device,
// so they are not read back to be checked (that would stall the stream): a label outside the
// classes makes the loss NaN instead, which the training loop sees.
#include "kernels.h"
#include "memory/buffer.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/cuda/cuda_check.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

void check_rows_and_classes(const Tensor& matrix) {
  R50_CHECK(matrix.dim(0) <= INT32_MAX && matrix.dim(1) <= INT32_MAX, "softmax_cross_entropy: ",
            matrix.shape().str(), " has more rows or classes than the kernels index");
}

}  // namespace

void CudaBackend::softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                                const Tensor& probs, const Tensor& loss) {
  check_softmax_cross_entropy_forward(logits, labels, probs, loss, device());
  check_rows_and_classes(logits);
  const int N = static_cast<int>(logits.dim(0)), K = static_cast<int>(logits.dim(1));
  const Buffer row_loss(*allocator_, static_cast<std::size_t>(N) * sizeof(float));
  R50_CUDA_CHECK(kernels::softmax_cross_entropy_forward(
      logits.data(), labels.data_as<std::int32_t>(), probs.data_as<float>(),
      static_cast<float*>(row_loss.data()), loss.data_as<float>(), storage_of(logits), N, K,
      stream_));
}

void CudaBackend::softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                                 const Tensor& dlogits, float loss_grad) {
  check_softmax_cross_entropy_backward(probs, labels, dlogits, device());
  check_rows_and_classes(probs);
  R50_CUDA_CHECK(kernels::softmax_cross_entropy_backward(
      probs.data_as<float>(), labels.data_as<std::int32_t>(), dlogits.data(), storage_of(dlogits),
      static_cast<int>(probs.dim(0)), static_cast<int>(probs.dim(1)), loss_grad, nullptr, stream_));
}

void CudaBackend::softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                                 const Tensor& dlogits, const Tensor& loss_grad) {
  check_softmax_cross_entropy_backward(probs, labels, dlogits, device());
  check_loss_grad(loss_grad, device());
  check_rows_and_classes(probs);
  R50_CUDA_CHECK(kernels::softmax_cross_entropy_backward(
      probs.data_as<float>(), labels.data_as<std::int32_t>(), dlogits.data(), storage_of(dlogits),
      static_cast<int>(probs.dim(0)), static_cast<int>(probs.dim(1)), 1.0f, loss_grad.data_as<float>(),
      stream_));
}

}  // namespace r50
