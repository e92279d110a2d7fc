// defines: Conv2dParams, Pool2dParams, BatchNormParams, SgdParams, SgdTensors, LossScaleParams,
//          LossScaleSlot, DeviceLossScale, Backend,
//          make_cpu_backend, CudaBackendOptions, make_cuda_backend
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/device_info.h"
#include "core/precision.h"
#include "core/tensor.h"
#include "memory/allocator.h"
#include "memory/memory_limit.h"
#include "ops/cudnn_api.h"

namespace r50 {

// A 2-D convolution without dilation or groups, as every ResNet-50 convolution is.
struct Conv2dParams {
  int stride = 1;
  int padding = 0;
};

// Output spatial size of a convolution or pooling window: floor((in + 2 pad - k) / stride) + 1.
std::int64_t conv_output_size(std::int64_t input, std::int64_t kernel, int stride, int padding);
// [N, K, P, Q] for input x [N, C, H, W] and weight w [K, C, R, S].
Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& params);

struct Pool2dParams {
  int kernel = 3;
  int stride = 2;
  int padding = 1;
};
Shape max_pool2d_output_shape(const Shape& x, const Pool2dParams& params);

// torch.nn.BatchNorm2d's defaults: running = (1 - momentum) running + momentum batch.
struct BatchNormParams {
  float momentum = 0.1f;
  float eps = 1e-5f;
};

// torch.optim.SGD's hyper-parameters, with the same meaning, and the factor every gradient is
// read with: 1 / loss scale under mixed precision (torch.cuda.amp.GradScaler's unscale).
struct SgdParams {
  float lr = 0.1f;
  float momentum = 0.9f;
  float weight_decay = 1e-4f;
  float dampening = 0.0f;
  bool nesterov = false;
  float grad_scale = 1.0f;
};

// One entry of Backend::sgd_step_all: the arguments of one sgd_step, and where mixed precision
// keeps a half-precision copy of the parameter for the forward, that copy (F16 or BF16, the
// parameter's shape), rewritten from the updated parameter.
struct SgdTensors {
  Tensor param;
  Tensor grad;
  Tensor momentum_buffer;  // unused with momentum 0
  bool first_step = false;
  Tensor compute_copy;     // undefined: none
};

// torch.amp.GradScaler's dynamic loss scaling, with its defaults: fp16 gradients below about 6e-8
// flush to zero, and scaling the loss scales every gradient up out of that range.
struct LossScaleParams {
  float initial = 65536.0f;
  float growth_factor = 2.0f;
  float backoff_factor = 0.5f;
  int growth_interval = 2000;
};

// fp16's loss scale where the device keeps it, as GradScaler keeps its scale and growth tracker
// on the device, so that a training step reads nothing back and a CUDA graph can record it.
// `state` is F32 [kLossScaleSlots], indexed by LossScaleSlot; `found` is the step's
// find_non_finite flag, F32 [1]. Counts are exact up to 2^24.
enum LossScaleSlot : int {
  kLossScale = 0,       // what the loss's gradient starts at
  kCleanSteps = 1,      // steps in a row whose gradients were finite (GradScaler's growth tracker)
  kSkippedSteps = 2,    // steps whose gradients overflowed, so that they updated nothing
  kUpdatesApplied = 3,  // SGD updates since the momentum buffers were last started
  kLossScaleSlots = 4,
};
struct DeviceLossScale {
  Tensor state;
  Tensor found;
};

// ImageNet statistics of RGB values in [0, 1], as torchvision normalises them.
constexpr std::array<float, 3> kImageNetMean = {0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImageNetStd = {0.229f, 0.224f, 0.225f};

// The op set ResNet-50 training needs. Every op writes into outputs its caller allocated, checks
// the dtype, shape, layout and device of everything it is given (a mismatch throws with both
// shapes), and allocates nothing but scratch space from allocator(). An output may alias an input
// only where the op says so.
//
// Dtypes. Activations, their gradients and the compute copies of weights are in one floating
// dtype per call, F32, F16 or BF16 (mixed precision): the dtype of the op's first tensor, which
// the others named with it must share. Every op computes in F32 and rounds to nearest even when it
// stores a half-precision value. Batch norm's per-channel tensors (gamma, beta, running and saved
// statistics and their gradients), probabilities, losses, master weights and momentum buffers
// are F32 always. Where an op says nothing, its tensors are F32.
//
// Layouts. Images, activations and convolution weights ([N, C, H, W], [K, C, R, S]) may be
// row-major (NCHW) or channels-last (NHWC, KRSC in memory: what tensor cores read without a
// transposition), one layout per call, as with dtypes: the layout of the op's first 4-D tensor,
// which its other 4-D tensors share. Every other tensor ([N, C] features, per-channel vectors,
// matrices) is row-major. An elementwise op (relu, add, cast, SGD, fill, copy) sees a layout only
// as the order of its elements, so its tensors need only agree.
//
// On a GPU, ops enqueue work on the backend's stream and return; synchronize() waits for it.
class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;  // "cpu", "cuda"
  virtual Device device() const = 0;
  virtual DeviceInfo device_info() const = 0;
  virtual Allocator& allocator() = 0;
  virtual void synchronize() = 0;

  // Device time between points in the backend's stream of work. record(m) marks the point after
  // the work enqueued so far; milliseconds(a, b) waits until mark b has passed and returns the
  // time from a to b. On a GPU the marks are CUDA events, which cost no synchronisation; the
  // default, for backends whose ops run as they are called, reads the host's clock. A mark may be
  // recorded again once its last reading is done. Marks are numbered 0 .. marks - 1.
  class Timer {
   public:
    virtual ~Timer() = default;
    virtual void record(int mark) = 0;
    virtual double milliseconds(int from, int to) = 0;
  };
  virtual std::unique_ptr<Timer> make_timer(int marks);

  // CUDA graphs: capture(work) records the work `work` enqueues, without running it, into a
  // graph that replay() enqueues again, with the same kernels on the same memory, at the cost of
  // one launch. Every address the work touched is baked in: the memory its allocations came from
  // stays held for the graph until the CapturedWork goes (the caching allocator's capture scope),
  // and what it read or wrote that was allocated before must outlive it, as must the backend.
  // The work must enqueue only: no synchronize(), no copy to or from the host, no timer marks, no
  // allocation the cache cannot serve (run it once uncaptured first). A capture that fails ends
  // cleanly, leaves the backend usable and throws, naming why. The default, for backends whose
  // ops run as they are called, refuses: CUDA graphs need the CUDA backend.
  class CapturedWork {
   public:
    virtual ~CapturedWork() = default;
    virtual void replay() = 0;
  };
  virtual bool can_capture() const { return false; }
  virtual std::unique_ptr<CapturedWork> capture(const std::function<void()>& work);

  // Moving data. Sizes come from the tensor; `host` holds tensor.nbytes() bytes.
  virtual void copy_from_host(const Tensor& dst, const void* host) = 0;
  virtual void copy_to_host(void* host, const Tensor& src) = 0;
  virtual void copy(const Tensor& dst, const Tensor& src) = 0;  // same dtype and shape
  virtual void fill(const Tensor& dst, float value) = 0;        // F32, F16 or BF16
  // dst = src · scale, rounded to dst's dtype (nearest even); F32, F16 or BF16 each, one shape.
  // dst may alias src when they share a dtype. The default, for backends that run ops as they
  // are called, converts on the host through copy_to_host and copy_from_host.
  virtual void cast(const Tensor& src, const Tensor& dst, float scale = 1.0f);
  // found F32 [1] is set to 1 when any element of any of `tensors` (F32, F16 or BF16) is an
  // infinity or NaN, and left as it was otherwise: zero it first. Dynamic loss scaling's overflow
  // test, over all the gradients of a step in one op (one launch on a GPU).
  virtual void find_non_finite(const std::vector<Tensor>& tensors, const Tensor& found);

  // Input batches, copied while the previous step computes. upload() enqueues the copy of
  // dst.nbytes() bytes from `host` (pinned memory, on a GPU, for the copy to run asynchronously)
  // on the backend's copy stream, after the compute work enqueued so far (which may still read
  // dst); wait_for_upload() makes compute enqueued from then on wait for it; finish_upload() waits
  // on the host until the copy is done, so that `host` may be reused, and ends the ticket. Every
  // ticket must be finished; finish_upload() then leaves in `milliseconds` how long the copy
  // itself took (on a GPU, on the copy stream, from the moment it could start). On the CPU the
  // copy is done at once.
  struct UploadTicket {
    void* event = nullptr;    // the copy is done
    void* started = nullptr;  // the copy may start: the compute before it no longer reads dst
    double milliseconds = 0;
  };
  virtual UploadTicket upload(const Tensor& dst, const void* host) = 0;
  virtual void wait_for_upload(const UploadTicket& ticket) = 0;
  virtual void finish_upload(UploadTicket& ticket) = 0;

  // Convolution, all tensors one floating dtype. x [N, C, H, W], w [K, C, R, S], y [N, K, P, Q]
  // with P, Q from conv2d_output_shape. Each overwrites its output, but the backward-data adds its result to dx
  // with `accumulate`: a residual block's input gradient is the sum of two paths' (cuDNN's beta).
  virtual void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& y,
                              const Conv2dParams& params) = 0;
  virtual void conv2d_backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx,
                                    const Conv2dParams& params, bool accumulate) = 0;
  virtual void conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                                      const Conv2dParams& params) = 0;

  // Fully connected: y [N, OUT] = x [N, IN] · wᵀ + b, w [OUT, IN], b [OUT], all tensors one
  // floating dtype. The backward writes dx (skipped when dx is not defined), dw and db.
  virtual void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) = 0;
  virtual void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx,
                               const Tensor& dw, const Tensor& db) = 0;

  // Batch norm over x [N, C, H, W] with per-channel gamma, beta, running_mean, running_var [C]
  // (F32); x, y, dy, dx, residual and dresidual share x's floating dtype.
  // Training uses the batch's mean and biased variance, updates the running statistics with the
  // unbiased variance (as torch does), and saves mean and 1/sqrt(var + eps) for the backward.
  virtual void batch_norm_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                           const Tensor& running_mean, const Tensor& running_var,
                                           const Tensor& y, const Tensor& saved_mean,
                                           const Tensor& saved_invstd,
                                           const BatchNormParams& params) = 0;
  virtual void batch_norm_forward_inference(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                            const Tensor& running_mean, const Tensor& running_var,
                                            const Tensor& y, float eps) = 0;
  virtual void batch_norm_backward_training(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                            const Tensor& saved_mean, const Tensor& saved_invstd,
                                            const Tensor& dx, const Tensor& dgamma,
                                            const Tensor& dbeta) = 0;
  // The backward of batch_norm_forward_inference: the statistics are constants.
  virtual void batch_norm_backward_inference(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                             const Tensor& running_mean, const Tensor& running_var,
                                             float eps, const Tensor& dx, const Tensor& dgamma,
                                             const Tensor& dbeta) = 0;

  // Batch norm under batch statistics, an optional residual and ReLU in one op, as ResNet-50 runs
  // bn1 + relu and bn3 + add + relu: y = max(bn(x) + residual, 0), with no residual where
  // `residual` is undefined; the statistics, running and saved, are batch_norm_forward_training's.
  // The backward takes g = dy where y > 0, else 0, writes it to dresidual and runs
  // batch_norm_backward_training on g. dresidual goes with the forward's residual: defined exactly
  // where one joined, since without one a backend may find where the ReLU passed from x and the
  // saved statistics instead of reading y. dx and dresidual may alias dy; no other output aliases
  // an input. The defaults compose the ops above, with scratch from the allocator; a backend
  // overrides them to save the passes over memory that the composition costs.
  virtual void batch_norm_relu_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                                const Tensor& running_mean, const Tensor& running_var,
                                                const Tensor& residual, const Tensor& y,
                                                const Tensor& saved_mean, const Tensor& saved_invstd,
                                                const BatchNormParams& params);
  virtual void batch_norm_relu_backward_training(const Tensor& x, const Tensor& y, const Tensor& dy,
                                                 const Tensor& gamma, const Tensor& beta,
                                                 const Tensor& saved_mean, const Tensor& saved_invstd,
                                                 const Tensor& dx, const Tensor& dresidual,
                                                 const Tensor& dgamma, const Tensor& dbeta);

  // ReLU, add and pooling: every tensor of a call one floating dtype.
  // y = max(x, 0); y may alias x. The backward reads the forward's output y:
  // dx = dy where y > 0, else 0; dx may alias dy.
  virtual void relu_forward(const Tensor& x, const Tensor& y) = 0;
  virtual void relu_backward(const Tensor& y, const Tensor& dy, const Tensor& dx) = 0;

  // y = a + b, all one shape; y may alias a or b (the residual connection).
  virtual void add(const Tensor& a, const Tensor& b, const Tensor& y) = 0;

  // Max pooling, padding never wins. The backward sends each dy to the first position in its
  // window (row-major order) where x equals y, as torch does.
  virtual void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& params) = 0;
  virtual void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& dy,
                                   const Tensor& dx, const Pool2dParams& params) = 0;

  // x [N, C, H, W] -> y [N, C], the mean over H and W.
  virtual void global_avg_pool_forward(const Tensor& x, const Tensor& y) = 0;
  virtual void global_avg_pool_backward(const Tensor& dy, const Tensor& dx) = 0;

  // logits [N, K] (any floating dtype), labels I32 [N] in [0, K). The forward writes probs [N, K]
  // = softmax(logits) and loss [1] = mean over the batch of -log probs[label], both F32. The
  // backward writes dlogits (any floating dtype) = loss_grad * (probs - onehot(labels)) / N, the
  // gradient of loss_grad * loss; loss_grad is the loss scale under mixed precision.
  virtual void softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                             const Tensor& probs, const Tensor& loss) = 0;
  virtual void softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                              const Tensor& dlogits, float loss_grad) = 0;
  // The same with loss_grad read on the device, F32 [1] (the loss scale's slot of a
  // DeviceLossScale's state). The default reads it back and calls the one above.
  virtual void softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                              const Tensor& dlogits, const Tensor& loss_grad);

  // One torch.optim.SGD step on param in place: g = grad_scale grad + weight_decay param; buf = g
  // on the first step (first_step), else momentum buf + (1 - dampening) g; param -= lr (nesterov
  // ? g + momentum buf : buf). With momentum 0 the buffer is unused. param and momentum_buffer are
  // F32; grad is F32, F16 or BF16.
  virtual void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                        const SgdParams& params, bool first_step) = 0;
  // sgd_step on every entry of `tensors` with the same hyper-parameters, each entry with its own
  // first_step: the same results, bit for bit, in fewer launches (on a GPU, one for a model's
  // parameters). Every entry is checked as sgd_step checks it, with the same message, before any
  // is updated; entries must not share memory. An entry's compute_copy, where defined, is then
  // cast(param, compute_copy). The default calls sgd_step and cast entry by entry.
  virtual void sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params);
  // sgd_step_all under fp16's loss scale on the device: where loss_scale.found is nonzero it
  // updates nothing; else it reads every gradient times 1 / the loss scale (params.grad_scale must
  // be 1), and an entry's first step is the first update of the run, where kUpdatesApplied is 0
  // (the entries' own first_step is not read; update_loss_scale counts the updates). The default
  // reads the two values back and calls the one above.
  virtual void sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params,
                            const DeviceLossScale& loss_scale);
  // After sgd_step_all with the same loss_scale, GradScaler's update: if `found` is nonzero the
  // step is counted as skipped, the scale is multiplied by backoff_factor and the clean steps
  // restart from 0; else the update is counted, and the growth_interval-th clean step in a row
  // multiplies the scale by growth_factor (where that stays finite) and restarts the count. The
  // default reads the state back, updates it on the host and writes it again.
  virtual void update_loss_scale(const DeviceLossScale& loss_scale, const LossScaleParams& params);

  // images U8 [N, H, W, 3] (RGB, as decoded) -> y [N, 3, H, W] = (images / 255 - mean) / std,
  // y in any floating dtype.
  virtual void normalize_images(const Tensor& images, const Tensor& y, const std::array<float, 3>& mean,
                                const std::array<float, 3>& std) = 0;
};

// The CPU backend: im2col + SGEMM convolutions, plain loops elsewhere. `threads` <= 0 uses every
// core. `memory_limit` caps the host memory its allocator hands out (a share of it is of the
// machine's physical memory): a run that needs more meets OutOfMemory, as on a GPU.
std::unique_ptr<Backend> make_cpu_backend(int threads = 0, const MemoryLimit& memory_limit = {});

// A floating tensor's values (F32, F16 or BF16) on the host as floats, in row-major order of its
// shape (NCHW) whatever its layout; waits for the device.
std::vector<float> copy_to_host_as_floats(Backend& backend, const Tensor& tensor);
// copy_from_host and copy_to_host with the host's data in row-major order of the tensor's shape
// (NCHW, as torchvision and safetensors keep it): a transposition on the host for channels-last
// tensors, a plain copy otherwise.
void copy_from_host_nchw(Backend& backend, const Tensor& dst, const void* host);
void copy_to_host_nchw(Backend& backend, void* host, const Tensor& src);

// The CUDA backend on GPU `gpu`: cuDNN convolutions, a cuBLAS fully connected layer, the
// handwritten kernels of kernels/ for the rest, all on one stream the backend owns, and all device
// memory from a CachingAllocator over cudaMalloc (memory/caching_allocator.h). Convolution
// algorithms are chosen once per shape: by cuDNN's heuristics, or, with `cudnn_benchmark`, by
// timing the candidates. Throws when the GPU does not answer.
struct CudaBackendOptions {
  int gpu = 0;
  bool cudnn_benchmark = false;
  MemoryLimit memory_limit;  // on the memory the device allocator reserves
  // fp32: IEEE (cuDNN's FMA math, cuBLAS's default math); tf32: cuDNN's tensor-op math and
  // cuBLAS's TF32 mode for the same fp32 tensors; fp16 and bf16: as fp32 for F32 tensors, tensor
  // cores with F32 sums for the half-precision tensors the model then passes. A GPU below
  // minimum_compute_capability(precision) is refused when the backend is made.
  Precision precision = Precision::Fp32;
  CudnnApi cudnn_api = CudnnApi::Legacy;  // which of cuDNN's APIs runs the convolutions
};
std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options = {});

}  // namespace r50
