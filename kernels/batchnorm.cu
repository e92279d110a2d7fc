// defines: batch_norm_scratch_bytes, batch_norm_forward_training, batch_norm_relu_forward_training,
//          batch_norm_forward_inference, batch_norm_backward_training, batch_norm_relu_backward_training,
//          batch_norm_backward_inference
//
// Batch norm over x [n, c, hw] in NCHW: channel ch owns n planes of hw contiguous values, plane ni at
// (ni·c + ch)·hw. Two kinds of kernel:
// - Channel reductions, grid (c, splits) of 512-thread blocks: each thread walks its share of the
//   channel with a stride of 512·splits, then the block combines the per-thread results with a
//   fixed tree (deterministic). The forward runs Welford per thread in float and combines the
//   (count, mean, M2) triples in double with Chan's formula; the backward accumulates Σ dy and
//   Σ dy·(x - mean) per thread in double. With one split, thread 0 writes the per-channel results;
//   with more, each block writes its partial into scratch and a second kernel combines a channel's
//   partials in split order (deterministic too). Splits keep the GPU busy where channels are few
//   and long: the stem's 64 channels of 64·112·112 values made 64 blocks for 132 SMs.
// - Channel elementwise passes (normalise, dx), grid (c, blocks per channel) of 256 threads: the
//   whole GPU works on them even when c is small, which one block per channel would not allow.
//   Thread 0 derives the channel's coefficients once (in double, as the CPU backend) and shares
//   them through shared memory.
// x, y, residual, dy, dx and dresidual are stored as T (float, __half or __nv_bfloat16); the
// kernels load them as float, compute exactly as for float storage, and round to nearest even
// where they store T. Statistics, per-channel vectors and their gradients are float whatever T.
// Every kernel here reads and writes W consecutive values of a plane at a time: W = 4 (one access of
// 4·sizeof(T) bytes: 16 for float, 8 for half storage) where hw is a multiple of 4 and the tensors
// are aligned to that size, as at every ResNet-50 size but 7×7, else 1. Four times the bytes per
// load keeps enough reads in flight to near the memory's bandwidth, which one float per thread and
// iteration did not (about 1 TB/s of 3 on an H100 at 64×64×56×56). The sums' order follows W, so
// "deterministic" above means the same bits for the same shape and alignment.
// The fused batch norm + (residual +) ReLU ops are the same kernels with a different epilogue
// (normalise, add, clamp in one pass) and a different gradient (dy masked where the ReLU passed,
// from y, or recomputed from x where no residual joined), so they cost no pass of their own.
// The training kernels pass the statistics through saved_mean/saved_invstd and dgamma/dbeta, which
// the second kernel reads back as floats: its coefficients can differ from the CPU backend's,
// which keeps them in double, by an ulp.
//
// The launchers here serve both orders: NCHW with the kernels of this file, channels-last (NHWC)
// through the entry points of batchnorm_nhwc.cu, whose kernels have the same arithmetic. The
// device pieces both share (loads and stores, the Welford triples, coefficients, epilogues and
// gradients) are in batchnorm.cuh.
#include <cmath>
#include <cstdint>

#include "batchnorm.cuh"
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

constexpr int kReduceThreads = 512;  // more loads in flight per channel while c blocks fill the GPU

// Visits the channel's values (or groups of W values, with hw / W of them per plane) j = start,
// start + stride, ... < n·hw as (plane, offset) with j = plane·hw + offset, so the address is
// (plane·c + ch)·hw + offset; stepping both parts instead of dividing j by hw avoids a 64-bit
// division per element.
struct ChannelCursor {
  long long plane, offset, plane_step, offset_step;

  __device__ ChannelCursor(long long start, long long stride, long long hw)
      : plane(start / hw), offset(start % hw), plane_step(stride / hw), offset_step(stride % hw) {}

  __device__ void advance(long long hw) {
    plane += plane_step;
    offset += offset_step;
    if (offset >= hw) {
      offset -= hw;
      ++plane;
    }
  }
};

// Thread 0 gets the block's combination (the same fixed tree as block_reduce in common.cuh).
__device__ Welford block_combine(Welford w) {
  __shared__ Welford warp_results[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int offset = 16; offset > 0; offset /= 2) w = combine(w, shuffle_down(w, offset));
  if (lane == 0) warp_results[warp] = w;
  __syncthreads();
  if (warp == 0) {
    w = lane < static_cast<int>(blockDim.x / 32) ? warp_results[lane] : Welford{0.0, 0.0, 0.0};
    for (int offset = 16; offset > 0; offset /= 2) w = combine(w, shuffle_down(w, offset));
  }
  return w;
}

// Grid (c, splits): the channel's mean and biased variance, or with several splits this block's
// part of them, into partials[ch · splits + split]. hwg = hw / W groups per plane.
template <int W, typename T>
__global__ void batch_norm_statistics_kernel(const T* __restrict__ x, Welford* __restrict__ partials,
                                             float* __restrict__ running_mean,
                                             float* __restrict__ running_var,
                                             float* __restrict__ saved_mean,
                                             float* __restrict__ saved_invstd, int n, int c,
                                             long long hw, float momentum, float eps) {
  const int ch = blockIdx.x;
  // Welford in float per thread: its updates work on deviations from the running mean, so an
  // offset in the data costs no precision (as it would in Σx² - (Σx)²/count); the combination
  // across threads runs in double.
  float count = 0.0f, mean = 0.0f, m2 = 0.0f;
  const long long hwg = hw / W;
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hwg); at.plane < n; at.advance(hwg)) {
    const Values<W> group = load<W>(x, (at.plane * c + ch) * hwg + at.offset);
    for (const float v : group.v) {
      count += 1.0f;
      const float delta = v - mean;
      mean += delta / count;
      m2 += delta * (v - mean);
    }
  }
  const Welford total = block_combine({count, mean, m2});
  if (threadIdx.x != 0) return;
  if (gridDim.y == 1) {
    write_statistics(total, static_cast<double>(n) * static_cast<double>(hw), ch, running_mean, running_var,
                     saved_mean, saved_invstd, momentum, eps);
  } else {
    partials[ch * gridDim.y + blockIdx.y] = total;
  }
}

// One thread per channel: its `splits` partials combined in split order, then the statistics.
__global__ void batch_norm_combine_statistics_kernel(const Welford* __restrict__ partials, int splits,
                                                     float* __restrict__ running_mean,
                                                     float* __restrict__ running_var,
                                                     float* __restrict__ saved_mean,
                                                     float* __restrict__ saved_invstd, int n, int c,
                                                     long long hw, float momentum, float eps) {
  const int ch = blockIdx.x * blockDim.x + threadIdx.x;
  if (ch >= c) return;
  Welford total = partials[ch * splits];
  for (int split = 1; split < splits; ++split) total = combine(total, partials[ch * splits + split]);
  write_statistics(total, static_cast<double>(n) * static_cast<double>(hw), ch, running_mean, running_var,
                   saved_mean, saved_invstd, momentum, eps);
}

// Grid (c, blocks per channel): blockIdx.x is the channel, blockIdx.y splits its n·hwg groups.
template <int W, typename T, typename Coefficients, typename Epilogue>
__global__ void batch_norm_normalize_kernel(const T* x, T* y, int n, int c, long long hwg,
                                            Coefficients coefficients, Epilogue epilogue) {
  const int ch = blockIdx.x;
  __shared__ NormalizeCoefficients k;
  if (threadIdx.x == 0) k = coefficients(ch);
  __syncthreads();
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hwg); at.plane < n;
       at.advance(hwg)) {
    const long long group = (at.plane * c + ch) * hwg + at.offset;
    Values<W> values = load<W>(x, group);
    for (float& v : values.v) v = normalized(v, k);
    epilogue(values, group);
    store<W>(y, group, values);
  }
}

// Where the ReLU passed, recomputed from x and the saved statistics exactly as the forward
// computed it (normalized()), which saves reading y. The forward stored y = T(max(v, 0)) for the
// fp32 pre-activation v, so y > 0 exactly where T(v) > 0. The sign of v alone would not do: half
// storage rounds a positive v of at most half its smallest subnormal (2^-25 for F16, 2^-134 for
// BF16) to +0, and the mask must be y's, as with a residual. For float storage T(v) is v.
template <typename T>
struct ReluGradientFromInput {
  const T* dy;
  TrainingNormalize coefficients;
  NormalizeCoefficients k;
  __device__ void bind(int ch) { k = coefficients(ch); }
  template <int W>
  __device__ Values<W> operator()(long long group, const Values<W>& x) const {
    Values<W> g = load<W>(dy, group);
    for (int j = 0; j < W; ++j) {
      g.v[j] = to_float(from_float<T>(normalized(x.v[j], k))) > 0.0f ? g.v[j] : 0.0f;
    }
    return g;
  }
};

// Grid (c, splits): dbeta = Σ g, dgamma = Σ g·(x - mean)·invstd with g the gradient at batch
// norm's output, or with several splits this block's part of the sums, into
// partials[ch · splits + split]. Per-thread sums are in double (the CPU backend's accumulator);
// x - mean is taken in float, as the dx pass uses it.
template <int W, typename T, typename Invstd, typename Gradient>
__global__ void batch_norm_gradient_sums_kernel(const T* __restrict__ x, Gradient gradient,
                                                const float* __restrict__ mean, Invstd invstd,
                                                GradientSums* __restrict__ partials,
                                                float* __restrict__ dgamma,
                                                float* __restrict__ dbeta, int n, int c,
                                                long long hwg) {
  const int ch = blockIdx.x;
  const float channel_mean = mean[ch];
  gradient.bind(ch);
  double sum_dy = 0.0, sum_dy_centered = 0.0;
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hwg); at.plane < n; at.advance(hwg)) {
    const long long group = (at.plane * c + ch) * hwg + at.offset;
    const Values<W> xs = load<W>(x, group);
    const Values<W> g = gradient(group, xs);
    for (int k = 0; k < W; ++k) {
      sum_dy += g.v[k];
      sum_dy_centered += static_cast<double>(g.v[k]) * (xs.v[k] - channel_mean);
    }
  }
  sum_dy = block_reduce(sum_dy, Sum{}, 0.0);
  sum_dy_centered = block_reduce(sum_dy_centered, Sum{}, 0.0);
  if (threadIdx.x != 0) return;
  if (gridDim.y == 1) {
    dbeta[ch] = static_cast<float>(sum_dy);
    dgamma[ch] = static_cast<float>(sum_dy_centered * invstd(ch));
  } else {
    partials[ch * gridDim.y + blockIdx.y] = {sum_dy, sum_dy_centered};
  }
}

// One thread per channel: its `splits` partial sums added in split order.
template <typename Invstd>
__global__ void batch_norm_combine_gradient_sums_kernel(const GradientSums* __restrict__ partials, int splits,
                                                        Invstd invstd, float* __restrict__ dgamma,
                                                        float* __restrict__ dbeta, int c) {
  const int ch = blockIdx.x * blockDim.x + threadIdx.x;
  if (ch >= c) return;
  GradientSums total = partials[ch * splits];
  for (int split = 1; split < splits; ++split) {
    total.dy += partials[ch * splits + split].dy;
    total.dy_centered += partials[ch * splits + split].dy_centered;
  }
  dbeta[ch] = static_cast<float>(total.dy);
  dgamma[ch] = static_cast<float>(total.dy_centered * invstd(ch));
}

// Grid (c, blocks per channel), as batch_norm_normalize_kernel. Writes the gradient at batch norm's
// output to dresidual too, unless that is null (exactly: each value is one of dy's, or 0). dx and
// dresidual may alias dy: each thread reads element i before writing it, so none is __restrict__.
template <int W, typename T, typename Gradient>
__global__ void batch_norm_backward_training_dx_kernel(const T* x, Gradient gradient,
                                                       const float* gamma, const float* saved_mean,
                                                       const float* saved_invstd,
                                                       const float* dgamma, const float* dbeta,
                                                       T* dx, T* dresidual, int n, int c,
                                                       long long hwg) {
  const int ch = blockIdx.x;
  gradient.bind(ch);
  __shared__ TrainingGradientCoefficients k;
  if (threadIdx.x == 0) {
    const double values = static_cast<double>(n) * static_cast<double>(hwg * W);
    const double invstd = saved_invstd[ch];
    k = {saved_mean[ch], static_cast<float>(gamma[ch] * invstd),
         static_cast<float>(dbeta[ch] / values), static_cast<float>(invstd * dgamma[ch] / values)};
  }
  __syncthreads();
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hwg); at.plane < n;
       at.advance(hwg)) {
    const long long group = (at.plane * c + ch) * hwg + at.offset;
    const Values<W> xs = load<W>(x, group);
    const Values<W> g = gradient(group, xs);
    if (dresidual) store<W>(dresidual, group, g);
    Values<W> out;
    for (int j = 0; j < W; ++j) out.v[j] = k.scale * (g.v[j] - k.mean_dy - (xs.v[j] - k.mean) * k.slope);
    store<W>(dx, group, out);
  }
}

// dx = dy·gamma·invstd with the running statistics; grid (c, blocks per channel).
template <int W, typename T>
__global__ void batch_norm_backward_inference_dx_kernel(const T* dy, const float* gamma,
                                                        const float* running_var, float eps,
                                                        T* dx, int n, int c, long long hwg) {
  const int ch = blockIdx.x;
  __shared__ float scale;
  if (threadIdx.x == 0) {
    const double invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
    scale = static_cast<float>(gamma[ch] * invstd);
  }
  __syncthreads();
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hwg); at.plane < n;
       at.advance(hwg)) {
    const long long group = (at.plane * c + ch) * hwg + at.offset;
    Values<W> values = load<W>(dy, group);
    for (float& v : values.v) v *= scale;
    store<W>(dx, group, values);
  }
}

bool nothing_to_do(int n, int c, long long hw) { return n <= 0 || c <= 0 || hw <= 0; }

// How many blocks share a channel's reduction: enough for about 1024 blocks in all, while each
// thread still gets at least 8 values, and at most 32. Depends on the shape alone, so the order
// of the sums, and the result, is the same from run to run.
int reduction_splits(int n, int c, long long hw) {
  constexpr long long kTargetBlocks = 1024, kMinValuesPerThread = 8, kMaxSplits = 32;
  const long long useful = (static_cast<long long>(n) * hw + kReduceThreads * kMinValuesPerThread - 1) /
                           (kReduceThreads * kMinValuesPerThread);
  long long splits = kTargetBlocks / c;
  if (splits > useful) splits = useful;
  if (splits > kMaxSplits) splits = kMaxSplits;
  return splits < 1 ? 1 : static_cast<int>(splits);
}

constexpr int kCombineThreads = 128;  // channels per block of the combining kernels

unsigned combine_blocks(int c) { return static_cast<unsigned>((c + kCombineThreads - 1) / kCombineThreads); }

// Grid (c, blocks per channel) for the elementwise passes over hwg groups per plane: about one
// group per thread, with the total number of blocks kept near the cap (gridDim.y is at most 65535
// in any case).
dim3 channel_grid(int n, int c, long long hwg) {
  const long long per_channel = grid_blocks(static_cast<long long>(n) * hwg);
  const long long budget = kMaxBlocks / c > 0 ? kMaxBlocks / c : 1;
  return dim3(static_cast<unsigned>(c),
              static_cast<unsigned>(per_channel < budget ? per_channel : budget));
}

dim3 reduction_grid(int c, int splits) { return dim3(static_cast<unsigned>(c), static_cast<unsigned>(splits)); }

// The training forward's statistics, split as reduction_splits says.
template <int W, typename T>
cudaError_t statistics(const T* x, float* running_mean, float* running_var, float* saved_mean,
                       float* saved_invstd, int n, int c, long long hw, float momentum, float eps, void* scratch,
                       cudaStream_t stream) {
  const int splits = reduction_splits(n, c, hw);
  auto* partials = static_cast<Welford*>(scratch);
  batch_norm_statistics_kernel<W, T><<<reduction_grid(c, splits), kReduceThreads, 0, stream>>>(
      x, partials, running_mean, running_var, saved_mean, saved_invstd, n, c, hw, momentum, eps);
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess) return status;
  if (splits == 1) return cudaSuccess;
  batch_norm_combine_statistics_kernel<<<combine_blocks(c), kCombineThreads, 0, stream>>>(
      partials, splits, running_mean, running_var, saved_mean, saved_invstd, n, c, hw, momentum, eps);
  return cudaGetLastError();
}

template <int W, typename T, typename Coefficients, typename Epilogue>
cudaError_t normalize(const T* x, T* y, int n, int c, long long hw, Coefficients coefficients,
                      Epilogue epilogue, cudaStream_t stream) {
  batch_norm_normalize_kernel<W, T><<<channel_grid(n, c, hw / W), kThreads, 0, stream>>>(
      x, y, n, c, hw / W, coefficients, epilogue);
  return cudaGetLastError();
}

// The statistics, then y from them through the epilogue.
template <int W, typename T, typename Epilogue>
cudaError_t forward_training(const T* x, const float* gamma, const float* beta, float* running_mean,
                             float* running_var, T* y, float* saved_mean, float* saved_invstd, int n, int c,
                             long long hw, float momentum, float eps, Epilogue epilogue, void* scratch,
                             cudaStream_t stream) {
  if (const cudaError_t status = statistics<W>(x, running_mean, running_var, saved_mean, saved_invstd, n, c, hw,
                                               momentum, eps, scratch, stream);
      status != cudaSuccess) {
    return status;
  }
  return normalize<W>(x, y, n, c, hw, TrainingNormalize{saved_mean, saved_invstd, gamma, beta}, epilogue, stream);
}

// dgamma and dbeta, split as reduction_splits says.
template <int W, typename T, typename Invstd, typename Gradient>
cudaError_t gradient_sums(const T* x, Gradient gradient, const float* mean, Invstd invstd, float* dgamma,
                          float* dbeta, int n, int c, long long hw, void* scratch, cudaStream_t stream) {
  const int splits = reduction_splits(n, c, hw);
  auto* partials = static_cast<GradientSums*>(scratch);
  batch_norm_gradient_sums_kernel<W, T><<<reduction_grid(c, splits), kReduceThreads, 0, stream>>>(
      x, gradient, mean, invstd, partials, dgamma, dbeta, n, c, hw / W);
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess) return status;
  if (splits == 1) return cudaSuccess;
  batch_norm_combine_gradient_sums_kernel<<<combine_blocks(c), kCombineThreads, 0, stream>>>(
      partials, splits, invstd, dgamma, dbeta, c);
  return cudaGetLastError();
}

// The training backward of batch norm for the gradient `gradient` at its output.
template <int W, typename T, typename Gradient>
cudaError_t training_backward(const T* x, Gradient gradient, const float* gamma, const float* saved_mean,
                              const float* saved_invstd, T* dx, T* dresidual, float* dgamma, float* dbeta,
                              int n, int c, long long hw, void* scratch, cudaStream_t stream) {
  if (const cudaError_t status = gradient_sums<W>(x, gradient, saved_mean, SavedInvstd{saved_invstd}, dgamma,
                                                  dbeta, n, c, hw, scratch, stream);
      status != cudaSuccess) {
    return status;
  }
  batch_norm_backward_training_dx_kernel<W, T><<<channel_grid(n, c, hw / W), kThreads, 0, stream>>>(
      x, gradient, gamma, saved_mean, saved_invstd, dgamma, dbeta, dx, dresidual, n, c, hw / W);
  return cudaGetLastError();
}

}  // namespace

std::size_t batch_norm_scratch_bytes(Order order, int n, int c, std::int64_t hw) {
  if (nothing_to_do(n, c, hw)) return 0;
  if (order == Order::Nhwc) return batch_norm_nhwc_scratch_bytes(n, c, hw);
  const int splits = reduction_splits(n, c, hw);
  return splits == 1 ? 0 : static_cast<std::size_t>(c) * splits * sizeof(Welford);  // the larger partial
}

cudaError_t batch_norm_forward_training(const void* x, const float* gamma, const float* beta,
                                        float* running_mean, float* running_var, void* y,
                                        float* saved_mean, float* saved_invstd, Storage storage, Order order,
                                        int n, int c, std::int64_t hw, float momentum, float eps, void* scratch,
                                        cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (order == Order::Nhwc) {
    return batch_norm_nhwc_forward_training(x, gamma, beta, running_mean, running_var, y, saved_mean, saved_invstd,
                                            storage, n, c, hw, momentum, eps, scratch, stream);
  }
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(hw, {x, y}) ? forward_training<4, T, NoEpilogue>
                                                   : forward_training<1, T, NoEpilogue>;
    return run(static_cast<const T*>(x), gamma, beta, running_mean, running_var, static_cast<T*>(y), saved_mean,
               saved_invstd, n, c, hw, momentum, eps, NoEpilogue{}, scratch, stream);
  });
}

cudaError_t batch_norm_relu_forward_training(const void* x, const float* gamma, const float* beta,
                                             float* running_mean, float* running_var, const void* residual,
                                             void* y, float* saved_mean, float* saved_invstd, Storage storage,
                                             Order order, int n, int c, std::int64_t hw, float momentum, float eps,
                                             void* scratch, cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (order == Order::Nhwc) {
    return batch_norm_nhwc_relu_forward_training(x, gamma, beta, running_mean, running_var, residual, y, saved_mean,
                                                 saved_invstd, storage, n, c, hw, momentum, eps, scratch, stream);
  }
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(hw, {x, y, residual}) ? forward_training<4, T, ReluEpilogue<T>>
                                                             : forward_training<1, T, ReluEpilogue<T>>;
    return run(static_cast<const T*>(x), gamma, beta, running_mean, running_var, static_cast<T*>(y), saved_mean,
               saved_invstd, n, c, hw, momentum, eps, ReluEpilogue<T>{static_cast<const T*>(residual)}, scratch,
               stream);
  });
}

cudaError_t batch_norm_forward_inference(const void* x, const float* gamma, const float* beta,
                                         const float* running_mean, const float* running_var, void* y,
                                         Storage storage, Order order, int n, int c, std::int64_t hw, float eps,
                                         cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (order == Order::Nhwc) {
    return batch_norm_nhwc_forward_inference(x, gamma, beta, running_mean, running_var, y, storage, n, c, hw, eps,
                                             stream);
  }
  const InferenceNormalize coefficients{running_mean, running_var, gamma, beta, eps};
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(hw, {x, y}) ? normalize<4, T, InferenceNormalize, NoEpilogue>
                                                   : normalize<1, T, InferenceNormalize, NoEpilogue>;
    return run(static_cast<const T*>(x), static_cast<T*>(y), n, c, hw, coefficients, NoEpilogue{}, stream);
  });
}

cudaError_t batch_norm_backward_training(const void* x, const void* dy, const float* gamma,
                                         const float* saved_mean, const float* saved_invstd, void* dx,
                                         float* dgamma, float* dbeta, Storage storage, Order order, int n, int c,
                                         std::int64_t hw, void* scratch, cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (order == Order::Nhwc) {
    return batch_norm_nhwc_backward_training(x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta, storage, n,
                                             c, hw, scratch, stream);
  }
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(hw, {x, dy, dx}) ? training_backward<4, T, PlainGradient<T>>
                                                        : training_backward<1, T, PlainGradient<T>>;
    return run(static_cast<const T*>(x), PlainGradient<T>{static_cast<const T*>(dy)}, gamma, saved_mean,
               saved_invstd, static_cast<T*>(dx), nullptr, dgamma, dbeta, n, c, hw, scratch, stream);
  });
}

cudaError_t batch_norm_relu_backward_training(const void* x, const void* y, const void* dy, const float* gamma,
                                              const float* beta, const float* saved_mean,
                                              const float* saved_invstd, void* dx, void* dresidual,
                                              float* dgamma, float* dbeta, Storage storage, Order order, int n,
                                              int c, std::int64_t hw, void* scratch, cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (order == Order::Nhwc) {
    return batch_norm_nhwc_relu_backward_training(x, y, dy, gamma, beta, saved_mean, saved_invstd, dx, dresidual,
                                                  dgamma, dbeta, storage, n, c, hw, scratch, stream);
  }
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const bool four = groups_of_four<T>(hw, {x, y, dy, dx, dresidual});
    if (dresidual) {
      const ReluGradientFromOutput<T> gradient{static_cast<const T*>(dy), static_cast<const T*>(y)};
      const auto run = four ? training_backward<4, T, ReluGradientFromOutput<T>>
                            : training_backward<1, T, ReluGradientFromOutput<T>>;
      return run(static_cast<const T*>(x), gradient, gamma, saved_mean, saved_invstd, static_cast<T*>(dx),
                 static_cast<T*>(dresidual), dgamma, dbeta, n, c, hw, scratch, stream);
    }
    const ReluGradientFromInput<T> gradient{static_cast<const T*>(dy),
                                            TrainingNormalize{saved_mean, saved_invstd, gamma, beta}, {}};
    const auto run = four ? training_backward<4, T, ReluGradientFromInput<T>>
                          : training_backward<1, T, ReluGradientFromInput<T>>;
    return run(static_cast<const T*>(x), gradient, gamma, saved_mean, saved_invstd, static_cast<T*>(dx), nullptr,
               dgamma, dbeta, n, c, hw, scratch, stream);
  });
}

cudaError_t batch_norm_backward_inference(const void* x, const void* dy, const float* gamma,
                                          const float* running_mean, const float* running_var, float eps,
                                          void* dx, float* dgamma, float* dbeta, Storage storage, Order order,
                                          int n, int c, std::int64_t hw, void* scratch, cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (order == Order::Nhwc) {
    return batch_norm_nhwc_backward_inference(x, dy, gamma, running_mean, running_var, eps, dx, dgamma, dbeta,
                                              storage, n, c, hw, scratch, stream);
  }
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const bool four = groups_of_four<T>(hw, {x, dy, dx});
    const RunningInvstd invstd{running_var, eps};
    const auto sums = four ? gradient_sums<4, T, RunningInvstd, PlainGradient<T>>
                           : gradient_sums<1, T, RunningInvstd, PlainGradient<T>>;
    if (const cudaError_t status = sums(static_cast<const T*>(x), PlainGradient<T>{static_cast<const T*>(dy)},
                                        running_mean, invstd, dgamma, dbeta, n, c, hw, scratch, stream);
        status != cudaSuccess) {
      return status;
    }
    if (four) {
      batch_norm_backward_inference_dx_kernel<4, T><<<channel_grid(n, c, hw / 4), kThreads, 0, stream>>>(
          static_cast<const T*>(dy), gamma, running_var, eps, static_cast<T*>(dx), n, c, hw / 4);
    } else {
      batch_norm_backward_inference_dx_kernel<1, T><<<channel_grid(n, c, hw), kThreads, 0, stream>>>(
          static_cast<const T*>(dy), gamma, running_var, eps, static_cast<T*>(dx), n, c, hw);
    }
    return cudaGetLastError();
  });
}

}  // namespace r50::kernels
