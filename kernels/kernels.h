// defines: the host launchers of the handwritten CUDA kernels (one .cu file per family)
//
// Launchers enqueue on `stream` and return the launch status (cudaGetLastError); callers check it.
// Pointers are device pointers; tensors are dense row-major (NCHW for images) and sizes are element
// counts. Each launcher computes what the CPU backend's op of the same name computes (src/ops/cpu),
// to fp32 rounding; nothing here allocates memory. A launcher given zero elements launches nothing.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace r50::kernels {

// How a floating tensor's elements are stored (DType F32, F16, BF16 on the host side). Kernels
// compute in fp32 whatever the storage, and round to nearest even when they store F16 or BF16.
// Launchers that take `const void*` / `void*` tensors with a Storage read and write them so.
enum class Storage : int { F32, F16, BF16 };

// How a 4-D tensor [n, c, h, w] lies in memory (Layout on the host side): NCHW, or NHWC (channels
// last; a convolution's filter [k, c, r, s] then lies KRSC). Launchers of kernels that index
// planes take one; elementwise kernels need none.
enum class Order : int { Nchw, Nhwc };

// fill.cu: out[i] = value for i in [0, count), value rounded once to the storage. The float
// overload is the F32 fill.
cudaError_t fill(void* out, Storage storage, std::int64_t count, float value, cudaStream_t stream);
inline cudaError_t fill(float* out, std::int64_t count, float value, cudaStream_t stream) {
  return fill(out, Storage::F32, count, value, stream);
}

// cast.cu: dst[i] = src[i]·scale for i in [0, count), the product rounded once to dst's storage;
// dst may alias src when the storages match.
cudaError_t cast(const void* src, void* dst, Storage src_storage, Storage dst_storage,
                 std::int64_t count, float scale, cudaStream_t stream);
// Sets found[0] to 1 when any element of any of the tensors is an infinity or NaN, and leaves it
// as it was otherwise. One launch per find_non_finite_tensors_per_launch() tensors, their table
// passed by value as kernel parameters (nothing copied or allocated, so a CUDA graph can record
// the launches). cudaErrorInvalidValue for a tensor of 2^31 · 2048 elements or more.
struct NonFiniteTensor {
  const void* data;
  std::int64_t count;
  Storage storage;
};
cudaError_t find_non_finite(const NonFiniteTensor* tensors, int count, float* found,
                            cudaStream_t stream);
// 1,557 tensors where runtime and driver take 32,764 bytes of kernel parameters (CUDA 12.1 and
// newer, compute capability 7.0 and newer), else 192 in 4,096 bytes.
int find_non_finite_tensors_per_launch();

// normalize.cu: images uint8 [n, h, w, 3] (RGB) -> out [n, 3, h, w] in `out_storage` and
// `out_order`, out = (image / 255 - mean[c]) / std[c], computed in float and rounded once. The
// float overload writes F32 NCHW.
cudaError_t normalize_images(const std::uint8_t* images, void* out, Storage out_storage,
                             Order out_order, int n, int h, int w, const float mean[3],
                             const float std[3], cudaStream_t stream);
inline cudaError_t normalize_images(const std::uint8_t* images, float* out, int n, int h, int w,
                                    const float mean[3], const float std[3], cudaStream_t stream) {
  return normalize_images(images, out, Storage::F32, Order::Nchw, n, h, w, mean, std, stream);
}

// batchnorm.cu: batch norm over x [n, c, hw] (hw = h·w) in `order`: NCHW, channel ch's values in n
// planes of hw, or NHWC, n·hw rows of c channels; per-channel vectors of c values.
// x, y, residual, dy, dx and dresidual are stored as `storage` says and lie in `order` (one storage
// and one order for all of them); gamma, beta, the running and saved statistics, dgamma and dbeta
// are float always. Both orders compute the same values, up to the order of the sums.
//
// Training forward: the channel's mean and biased variance over its n·hw values (a numerically
// stable reduction: Welford per thread, Chan's formula to combine), then
//   y = (x - mean)·gamma·invstd + beta,          invstd = 1 / sqrt(var + eps),
//   saved_mean = mean, saved_invstd = invstd,
//   running_mean = (1 - momentum)·running_mean + momentum·mean,
//   running_var  = (1 - momentum)·running_var  + momentum·var·count / (count - 1).
// Needs n·hw > 1 (the caller checks).
//
// The reductions over a channel split across blocks where channels are few and long; then they need
// `scratch`, device memory of batch_norm_scratch_bytes(order, n, c, hw) bytes (0: none, nullptr will
// do), which the launch uses until the stream has passed it.
std::size_t batch_norm_scratch_bytes(Order order, int n, int c, std::int64_t hw);
cudaError_t batch_norm_forward_training(const void* x, const float* gamma, const float* beta,
                                        float* running_mean, float* running_var, void* y,
                                        float* saved_mean, float* saved_invstd, Storage storage, Order order,
                                        int n, int c, std::int64_t hw, float momentum, float eps, void* scratch,
                                        cudaStream_t stream);
// The training forward followed by y = max(y + residual, 0) in the same pass over memory, with no
// residual where it is null; y is rounded to its storage once, after the ReLU.
cudaError_t batch_norm_relu_forward_training(const void* x, const float* gamma, const float* beta,
                                             float* running_mean, float* running_var, const void* residual,
                                             void* y, float* saved_mean, float* saved_invstd, Storage storage,
                                             Order order, int n, int c, std::int64_t hw, float momentum, float eps,
                                             void* scratch, cudaStream_t stream);
// Inference forward: y = (x - running_mean)·gamma / sqrt(running_var + eps) + beta.
cudaError_t batch_norm_forward_inference(const void* x, const float* gamma, const float* beta,
                                         const float* running_mean, const float* running_var, void* y,
                                         Storage storage, Order order, int n, int c, std::int64_t hw, float eps,
                                         cudaStream_t stream);
// Training backward, with xhat = (x - saved_mean)·saved_invstd and count = n·hw:
//   dbeta = Σ dy, dgamma = Σ dy·xhat,
//   dx = gamma·saved_invstd·(dy - dbeta / count - xhat·dgamma / count).
cudaError_t batch_norm_backward_training(const void* x, const void* dy, const float* gamma,
                                         const float* saved_mean, const float* saved_invstd, void* dx,
                                         float* dgamma, float* dbeta, Storage storage, Order order, int n, int c,
                                         std::int64_t hw, void* scratch, cudaStream_t stream);
// The backward of batch_norm_relu_forward_training: g = dy where y > 0, else 0, written to
// dresidual, then the training backward of g. A null dresidual says that no residual joined in the
// forward: where the ReLU passed is then recomputed from x (bit for bit as the forward computed
// it, rounded to the storage as y was) instead of read from y.
cudaError_t batch_norm_relu_backward_training(const void* x, const void* y, const void* dy, const float* gamma,
                                              const float* beta, const float* saved_mean,
                                              const float* saved_invstd, void* dx, void* dresidual,
                                              float* dgamma, float* dbeta, Storage storage, Order order, int n,
                                              int c, std::int64_t hw, void* scratch, cudaStream_t stream);
// Inference backward (the statistics are constants), invstd = 1 / sqrt(running_var + eps):
//   dbeta = Σ dy, dgamma = Σ dy·(x - running_mean)·invstd, dx = dy·gamma·invstd.
cudaError_t batch_norm_backward_inference(const void* x, const void* dy, const float* gamma,
                                          const float* running_mean, const float* running_var, float eps,
                                          void* dx, float* dgamma, float* dbeta, Storage storage, Order order,
                                          int n, int c, std::int64_t hw, void* scratch, cudaStream_t stream);

// relu.cu, every tensor in `storage`: y = max(x, 0) (y may alias x; a NaN stays NaN, as in
// torch); dx = y > 0 ? dy : 0 (dx may alias dy).
cudaError_t relu_forward(const void* x, void* y, Storage storage, std::int64_t count,
                         cudaStream_t stream);
cudaError_t relu_backward(const void* y, const void* dy, void* dx, Storage storage,
                          std::int64_t count, cudaStream_t stream);

// add.cu, every tensor in `storage`: y = a + b in float, rounded once; y may alias a or b.
cudaError_t add(const void* a, const void* b, void* y, Storage storage, std::int64_t count,
                cudaStream_t stream);

// pooling.cu, every tensor of a call in `storage` and `order`, results computed in float and
// rounded once. Max pooling of x [n, c, h, w] into y [n, c, p, q], square window `kernel`,
// `stride`, `padding` (padding never wins; a NaN in the window propagates). The backward sends
// each dy to the first position of its window, in row-major (h, w) order, where x equals y, as
// torch does; dx is overwritten (positions no window picked get 0; a position several windows
// picked gets the sum of their dy). Deterministic, and in either order the same values.
cudaError_t max_pool2d_forward(const void* x, void* y, Storage storage, Order order, int n, int c,
                               int h, int w, int p, int q, int kernel, int stride, int padding,
                               cudaStream_t stream);
cudaError_t max_pool2d_backward(const void* x, const void* y, const void* dy, void* dx,
                                Storage storage, Order order, int n, int c, int h, int w, int p,
                                int q, int kernel, int stride, int padding, cudaStream_t stream);
// Global average pooling of x [n, c, hw] in `order` (hw = h·w) into y [n, c] (row-major in either
// order): y[i][j] = mean of channel j's hw values in image i; the backward writes
// dx[i][j][k] = dy[i][j] / hw in `order`.
cudaError_t global_avg_pool_forward(const void* x, void* y, Storage storage, Order order, int n,
                                    int c, std::int64_t hw, cudaStream_t stream);
cudaError_t global_avg_pool_backward(const void* dy, void* dx, Storage storage, Order order, int n,
                                     int c, std::int64_t hw, cudaStream_t stream);

// softmax_cross_entropy.cu, logits [n, k] in `logits_storage`, labels int32 [n]; probs and the
// losses are float.
// Forward: probs = softmax(logits) row by row through the log-sum-exp (max subtracted first),
// row_loss [n] (scratch the caller provides) = logsumexp(row) - row[label], then
// loss [1] = mean of row_loss, summed in a fixed order (deterministic). A label outside [0, k)
// cannot throw on the device: its row's loss is NaN, so the mean is NaN.
cudaError_t softmax_cross_entropy_forward(const void* logits, const std::int32_t* labels,
                                          float* probs, float* row_loss, float* loss,
                                          Storage logits_storage, int n, int k,
                                          cudaStream_t stream);
// Backward: dlogits = (loss_grad / n)·(probs - onehot(label)) in float, rounded once to
// `dlogits_storage`; a label outside [0, k) gives NaN. Where device_loss_grad is not null, the
// float it points to is loss_grad instead (fp16's loss scale on the device).
cudaError_t softmax_cross_entropy_backward(const float* probs, const std::int32_t* labels,
                                           void* dlogits, Storage dlogits_storage, int n, int k,
                                           float loss_grad, const float* device_loss_grad,
                                           cudaStream_t stream);

// sgd.cu: torch.optim.SGD's update in torch's order, element by element, on float param and
// momentum_buffer with grad in `grad_storage`:
//   g = grad_scale·grad + weight_decay·param;
//   with momentum != 0: buf = first_step ? g : momentum·buf + (1 - dampening)·g;
//                       g = nesterov ? g + momentum·buf : buf;
//   param -= lr·g.
// With momentum 0, momentum_buffer is not touched (may be null). With grad_scale 1 the result is
// bit for bit the unscaled update's.
//
// fp16's loss scale on the device (sgd_step_all only; both null: none): loss_scale_state is F32
// {scale, clean steps, skipped steps, updates applied} (the kState* slots) and
// found_non_finite the step's overflow flag. Where *found_non_finite is nonzero nothing is
// updated; else grad_scale is 1 / scale and every tensor's first_step is (updates applied == 0).
// The state's slots, as LossScaleSlot's (asserted in src/ops/cuda/sgd.cpp).
constexpr int kStateScale = 0, kStateCleanSteps = 1, kStateSkippedSteps = 2, kStateUpdatesApplied = 3;
struct SgdUpdate {
  float lr, momentum, weight_decay, dampening, grad_scale;
  bool nesterov;
  const float* loss_scale_state = nullptr;
  const float* found_non_finite = nullptr;
};
cudaError_t sgd_step(float* param, const void* grad, float* momentum_buffer, Storage grad_storage,
                     std::int64_t count, const SgdUpdate& update, bool first_step,
                     cudaStream_t stream);
// The same update of many tensors, each with its own first_step and grad storage, computed element
// by element as sgd_step computes it (bit for bit the results of one sgd_step per tensor), in one
// launch per sgd_tensors_per_launch() tensors; where compute_copy is set, the updated parameter is
// also stored there rounded to compute_storage (bit for bit what cast with scale 1 writes). The
// table of tensors travels by value as kernel parameters: nothing is copied to the device or
// allocated, so a CUDA graph can record the launches. Tensors must not overlap.
// cudaErrorInvalidValue for a tensor of 2^31 · 2048 elements or more.
struct SgdTensor {
  float* param;
  const void* grad;
  float* momentum_buffer;  // may be null with momentum 0
  void* compute_copy;      // null: none
  std::int64_t count;
  Storage grad_storage;
  Storage compute_storage;  // read only where compute_copy is set
  bool first_step;
};
cudaError_t sgd_step_all(const SgdTensor* tensors, int count, const SgdUpdate& update,
                         cudaStream_t stream);
// 695 tensors where runtime and driver take 32,764 bytes of kernel parameters (CUDA 12.1 and
// newer, compute capability 7.0 and newer), else 85 in 4,096 bytes.
int sgd_tensors_per_launch();

// loss_scale.cu: after sgd_step_all with the same state, torch's _amp_update_scale_ on state
// (SgdUpdate's loss_scale_state): where *found_non_finite is nonzero, scale ·= backoff_factor,
// clean steps = 0 and skipped steps += 1; else updates applied += 1 and clean steps += 1, and at
// growth_interval clean steps scale ·= growth_factor (where that stays finite) and clean steps = 0.
// One thread.
cudaError_t update_loss_scale(float* state, const float* found_non_finite, float growth_factor,
                              float backoff_factor, int growth_interval, cudaStream_t stream);

}  // namespace r50::kernels
