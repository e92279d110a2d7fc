// defines: batch_norm_forward_training, batch_norm_relu_forward_training, batch_norm_forward_inference,
//          batch_norm_backward_training, batch_norm_relu_backward_training, batch_norm_backward_inference
//
// Batch norm over x [n, c, hw]: channel ch owns n planes of hw contiguous values, plane ni at
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
// The fused batch norm + (residual +) ReLU ops are the same kernels with a different epilogue
// (normalise, add, clamp in one pass) and a different gradient (dy masked where the ReLU passed,
// from y, or recomputed from x where no residual joined), so they cost no pass of their own.
// The training kernels pass the statistics through saved_mean/saved_invstd and dgamma/dbeta, which
// the second kernel reads back as floats: its coefficients can differ from the CPU backend's,
// which keeps them in double, by an ulp.
#include <cmath>

#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

constexpr int kReduceThreads = 512;  // more loads in flight per channel while c blocks fill the GPU

// Visits the channel's values j = start, start + stride, ... < n·hw as (plane, offset) with
// j = plane·hw + offset, so the address is (plane·c + ch)·hw + offset; stepping both parts
// instead of dividing j by hw avoids a 64-bit division per element.
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

struct Welford {
  double count, mean, m2;  // m2 = Σ (x - mean)²
};

// Chan et al.'s parallel combination of two partial (count, mean, M2).
__device__ Welford combine(const Welford& a, const Welford& b) {
  if (b.count == 0.0) return a;
  if (a.count == 0.0) return b;
  const double count = a.count + b.count;
  const double delta = b.mean - a.mean;
  return {count, a.mean + delta * (b.count / count),
          a.m2 + b.m2 + delta * delta * (a.count * b.count / count)};
}

__device__ Welford shuffle_down(const Welford& w, int offset) {
  return {__shfl_down_sync(0xffffffffu, w.count, offset),
          __shfl_down_sync(0xffffffffu, w.mean, offset),
          __shfl_down_sync(0xffffffffu, w.m2, offset)};
}

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

// The channel's saved and running statistics from its (count, mean, M2), exactly as the CPU
// backend computes them from its double mean and variance.
__device__ void write_statistics(const Welford& total, double values, int ch, float* running_mean,
                                 float* running_var, float* saved_mean, float* saved_invstd, float momentum,
                                 float eps) {
  const double var = total.m2 / values;
  const double invstd = 1.0 / sqrt(var + eps);
  const double keep = 1.0 - static_cast<double>(momentum);
  saved_mean[ch] = static_cast<float>(total.mean);
  saved_invstd[ch] = static_cast<float>(invstd);
  running_mean[ch] = static_cast<float>(keep * running_mean[ch] + momentum * total.mean);
  const double unbiased_var = var * values / (values - 1.0);
  running_var[ch] = static_cast<float>(keep * running_var[ch] + momentum * unbiased_var);
}

// Grid (c, splits): the channel's mean and biased variance, or with several splits this block's
// part of them, into partials[ch · splits + split].
__global__ void batch_norm_statistics_kernel(const float* __restrict__ x, Welford* __restrict__ partials,
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
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hw); at.plane < n; at.advance(hw)) {
    const float v = x[(at.plane * c + ch) * hw + at.offset];
    count += 1.0f;
    const float delta = v - mean;
    mean += delta / count;
    m2 += delta * (v - mean);
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

// y = (x - mean)·scale + shift per channel, for training (saved statistics) and inference
// (running statistics); only where mean and scale come from differs.
struct NormalizeCoefficients {
  float mean, scale, shift;
};

struct TrainingNormalize {
  const float *saved_mean, *saved_invstd, *gamma, *beta;
  __device__ NormalizeCoefficients operator()(int ch) const {
    return {saved_mean[ch], static_cast<float>(gamma[ch] * static_cast<double>(saved_invstd[ch])),
            beta[ch]};
  }
};

struct InferenceNormalize {
  const float *running_mean, *running_var, *gamma, *beta;
  float eps;
  __device__ NormalizeCoefficients operator()(int ch) const {
    const double invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
    return {running_mean[ch], static_cast<float>(gamma[ch] * invstd), beta[ch]};
  }
};

// The normalised value, with one rounding for the multiply-add: the fused backward recomputes it
// from x to find where the ReLU passed, and must get the forward's value bit for bit.
__device__ float normalized(float x, const NormalizeCoefficients& k) {
  return __fmaf_rn(x - k.mean, k.scale, k.shift);
}

// What follows the normalisation in the same pass: nothing, or the residual sum and the ReLU
// (v < 0 ? 0 : v keeps a NaN, as relu_forward does).
struct NoEpilogue {
  __device__ float operator()(float v, long long) const { return v; }
};

struct ReluEpilogue {
  const float* residual;  // null: none
  __device__ float operator()(float v, long long i) const {
    if (residual) v += residual[i];
    return v < 0.0f ? 0.0f : v;
  }
};

// Grid (c, blocks per channel): blockIdx.x is the channel, blockIdx.y splits its n·hw values.
template <typename Coefficients, typename Epilogue>
__global__ void batch_norm_normalize_kernel(const float* x, float* y, int n, int c, long long hw,
                                            Coefficients coefficients, Epilogue epilogue) {
  const int ch = blockIdx.x;
  __shared__ NormalizeCoefficients k;
  if (threadIdx.x == 0) k = coefficients(ch);
  __syncthreads();
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hw); at.plane < n;
       at.advance(hw)) {
    const long long i = (at.plane * c + ch) * hw + at.offset;
    y[i] = epilogue(normalized(x[i], k), i);
  }
}

// The channel's invstd: saved by the training forward, or from the running variance.
struct SavedInvstd {
  const float* saved_invstd;
  __device__ double operator()(int ch) const { return saved_invstd[ch]; }
};

struct RunningInvstd {
  const float* running_var;
  float eps;
  __device__ double operator()(int ch) const {
    return 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
  }
};

struct GradientSums {
  double dy, dy_centered;  // Σ dy, Σ dy·(x - mean)
};

// The gradient that reaches batch norm at element i (whose input is x): dy itself, or dy where the
// ReLU after it passed. bind(ch) readies a thread's copy for channel ch.
struct PlainGradient {
  const float* dy;
  __device__ void bind(int) {}
  __device__ float operator()(long long i, float) const { return dy[i]; }
};

// Where the ReLU passed, read from its output y (needed where a residual joined before it).
struct ReluGradientFromOutput {
  const float *dy, *y;
  __device__ void bind(int) {}
  __device__ float operator()(long long i, float) const { return y[i] > 0.0f ? dy[i] : 0.0f; }
};

// Where the ReLU passed, recomputed from x and the saved statistics exactly as the forward
// computed it (normalized()), which saves reading y.
struct ReluGradientFromInput {
  const float* dy;
  TrainingNormalize coefficients;
  NormalizeCoefficients k;
  __device__ void bind(int ch) { k = coefficients(ch); }
  __device__ float operator()(long long i, float x) const { return normalized(x, k) > 0.0f ? dy[i] : 0.0f; }
};

// Grid (c, splits): dbeta = Σ g, dgamma = Σ g·(x - mean)·invstd with g the gradient at batch
// norm's output, or with several splits this block's part of the sums, into
// partials[ch · splits + split]. Per-thread sums are in double (the CPU backend's accumulator);
// x - mean is taken in float, as the dx pass uses it.
template <typename Invstd, typename Gradient>
__global__ void batch_norm_gradient_sums_kernel(const float* __restrict__ x, Gradient gradient,
                                                const float* __restrict__ mean, Invstd invstd,
                                                GradientSums* __restrict__ partials,
                                                float* __restrict__ dgamma,
                                                float* __restrict__ dbeta, int n, int c,
                                                long long hw) {
  const int ch = blockIdx.x;
  const float channel_mean = mean[ch];
  gradient.bind(ch);
  double sum_dy = 0.0, sum_dy_centered = 0.0;
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hw); at.plane < n; at.advance(hw)) {
    const long long i = (at.plane * c + ch) * hw + at.offset;
    const float xi = x[i];
    const float g = gradient(i, xi);
    sum_dy += g;
    sum_dy_centered += static_cast<double>(g) * (xi - channel_mean);
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

// dx = scale·(dy - mean_dy - (x - mean)·slope) with scale = gamma·invstd, mean_dy = Σ dy / count
// and slope = invstd²·Σ dy·(x - mean) / count = invstd·dgamma / count, the CPU backend's formula.
struct TrainingGradientCoefficients {
  float mean, scale, mean_dy, slope;
};

// Grid (c, blocks per channel), as batch_norm_normalize_kernel. Writes the gradient at batch norm's
// output to dresidual too, unless that is null. dx and dresidual may alias dy: each thread reads
// element i before writing it, so none is __restrict__.
template <typename Gradient>
__global__ void batch_norm_backward_training_dx_kernel(const float* x, Gradient gradient,
                                                       const float* gamma, const float* saved_mean,
                                                       const float* saved_invstd,
                                                       const float* dgamma, const float* dbeta,
                                                       float* dx, float* dresidual, int n, int c,
                                                       long long hw) {
  const int ch = blockIdx.x;
  gradient.bind(ch);
  __shared__ TrainingGradientCoefficients k;
  if (threadIdx.x == 0) {
    const double values = static_cast<double>(n) * static_cast<double>(hw);
    const double invstd = saved_invstd[ch];
    k = {saved_mean[ch], static_cast<float>(gamma[ch] * invstd),
         static_cast<float>(dbeta[ch] / values), static_cast<float>(invstd * dgamma[ch] / values)};
  }
  __syncthreads();
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hw); at.plane < n;
       at.advance(hw)) {
    const long long i = (at.plane * c + ch) * hw + at.offset;
    const float xi = x[i];
    const float g = gradient(i, xi);
    if (dresidual) dresidual[i] = g;
    dx[i] = k.scale * (g - k.mean_dy - (xi - k.mean) * k.slope);
  }
}

// dx = dy·gamma·invstd with the running statistics; grid (c, blocks per channel).
__global__ void batch_norm_backward_inference_dx_kernel(const float* dy, const float* gamma,
                                                        const float* running_var, float eps,
                                                        float* dx, int n, int c, long long hw) {
  const int ch = blockIdx.x;
  __shared__ float scale;
  if (threadIdx.x == 0) {
    const double invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
    scale = static_cast<float>(gamma[ch] * invstd);
  }
  __syncthreads();
  const long long start = blockIdx.y * (long long)blockDim.x + threadIdx.x;
  for (ChannelCursor at(start, (long long)gridDim.y * blockDim.x, hw); at.plane < n;
       at.advance(hw)) {
    const long long i = (at.plane * c + ch) * hw + at.offset;
    dx[i] = dy[i] * scale;
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

// dgamma and dbeta, split as reduction_splits says.
template <typename Invstd, typename Gradient>
cudaError_t gradient_sums(const float* x, Gradient gradient, const float* mean, Invstd invstd, float* dgamma,
                          float* dbeta, int n, int c, long long hw, void* scratch, cudaStream_t stream) {
  const int splits = reduction_splits(n, c, hw);
  auto* partials = static_cast<GradientSums*>(scratch);
  batch_norm_gradient_sums_kernel<<<dim3(static_cast<unsigned>(c), static_cast<unsigned>(splits)), kReduceThreads,
                                    0, stream>>>(x, gradient, mean, invstd, partials, dgamma, dbeta, n, c, hw);
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess) return status;
  if (splits == 1) return cudaSuccess;
  batch_norm_combine_gradient_sums_kernel<<<combine_blocks(c), kCombineThreads, 0, stream>>>(
      partials, splits, invstd, dgamma, dbeta, c);
  return cudaGetLastError();
}

// Grid (c, blocks per channel) for the elementwise passes: about one element per thread, with the
// total number of blocks kept near the cap (gridDim.y is at most 65535 in any case).
dim3 channel_grid(int n, int c, long long hw) {
  const long long per_channel = grid_blocks(static_cast<long long>(n) * hw);
  const long long budget = kMaxBlocks / c > 0 ? kMaxBlocks / c : 1;
  return dim3(static_cast<unsigned>(c),
              static_cast<unsigned>(per_channel < budget ? per_channel : budget));
}

// The training forward's statistics, split as reduction_splits says.
cudaError_t statistics(const float* x, float* running_mean, float* running_var, float* saved_mean,
                       float* saved_invstd, int n, int c, long long hw, float momentum, float eps, void* scratch,
                       cudaStream_t stream) {
  const int splits = reduction_splits(n, c, hw);
  auto* partials = static_cast<Welford*>(scratch);
  batch_norm_statistics_kernel<<<dim3(static_cast<unsigned>(c), static_cast<unsigned>(splits)), kReduceThreads, 0,
                                 stream>>>(x, partials, running_mean, running_var, saved_mean, saved_invstd, n, c,
                                           hw, momentum, eps);
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess) return status;
  if (splits == 1) return cudaSuccess;
  batch_norm_combine_statistics_kernel<<<combine_blocks(c), kCombineThreads, 0, stream>>>(
      partials, splits, running_mean, running_var, saved_mean, saved_invstd, n, c, hw, momentum, eps);
  return cudaGetLastError();
}

// The training backward of batch norm for the gradient `gradient` at its output.
template <typename Gradient>
cudaError_t training_backward(const float* x, Gradient gradient, const float* gamma, const float* saved_mean,
                              const float* saved_invstd, float* dx, float* dresidual, float* dgamma, float* dbeta,
                              int n, int c, long long hw, void* scratch, cudaStream_t stream) {
  if (const cudaError_t status = gradient_sums(x, gradient, saved_mean, SavedInvstd{saved_invstd}, dgamma, dbeta, n,
                                               c, hw, scratch, stream);
      status != cudaSuccess) {
    return status;
  }
  batch_norm_backward_training_dx_kernel<<<channel_grid(n, c, hw), kThreads, 0, stream>>>(
      x, gradient, gamma, saved_mean, saved_invstd, dgamma, dbeta, dx, dresidual, n, c, hw);
  return cudaGetLastError();
}

}  // namespace

std::size_t batch_norm_scratch_bytes(int n, int c, std::int64_t hw) {
  if (nothing_to_do(n, c, hw)) return 0;
  const int splits = reduction_splits(n, c, hw);
  return splits == 1 ? 0 : static_cast<std::size_t>(c) * splits * sizeof(Welford);  // the larger partial
}

cudaError_t batch_norm_forward_training(const float* x, const float* gamma, const float* beta,
                                        float* running_mean, float* running_var, float* y,
                                        float* saved_mean, float* saved_invstd, int n, int c,
                                        std::int64_t hw, float momentum, float eps, void* scratch,
                                        cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (const cudaError_t status = statistics(x, running_mean, running_var, saved_mean, saved_invstd, n, c, hw,
                                            momentum, eps, scratch, stream);
      status != cudaSuccess) {
    return status;
  }
  batch_norm_normalize_kernel<<<channel_grid(n, c, hw), kThreads, 0, stream>>>(
      x, y, n, c, hw, TrainingNormalize{saved_mean, saved_invstd, gamma, beta}, NoEpilogue{});
  return cudaGetLastError();
}

cudaError_t batch_norm_relu_forward_training(const float* x, const float* gamma, const float* beta,
                                             float* running_mean, float* running_var, const float* residual,
                                             float* y, float* saved_mean, float* saved_invstd, int n, int c,
                                             std::int64_t hw, float momentum, float eps, void* scratch,
                                             cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (const cudaError_t status = statistics(x, running_mean, running_var, saved_mean, saved_invstd, n, c, hw,
                                            momentum, eps, scratch, stream);
      status != cudaSuccess) {
    return status;
  }
  batch_norm_normalize_kernel<<<channel_grid(n, c, hw), kThreads, 0, stream>>>(
      x, y, n, c, hw, TrainingNormalize{saved_mean, saved_invstd, gamma, beta}, ReluEpilogue{residual});
  return cudaGetLastError();
}

cudaError_t batch_norm_forward_inference(const float* x, const float* gamma, const float* beta,
                                         const float* running_mean, const float* running_var,
                                         float* y, int n, int c, std::int64_t hw, float eps,
                                         cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  batch_norm_normalize_kernel<<<channel_grid(n, c, hw), kThreads, 0, stream>>>(
      x, y, n, c, hw, InferenceNormalize{running_mean, running_var, gamma, beta, eps}, NoEpilogue{});
  return cudaGetLastError();
}

cudaError_t batch_norm_backward_training(const float* x, const float* dy, const float* gamma,
                                         const float* saved_mean, const float* saved_invstd,
                                         float* dx, float* dgamma, float* dbeta, int n, int c,
                                         std::int64_t hw, void* scratch, cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  return training_backward(x, PlainGradient{dy}, gamma, saved_mean, saved_invstd, dx, nullptr, dgamma, dbeta, n,
                           c, hw, scratch, stream);
}

cudaError_t batch_norm_relu_backward_training(const float* x, const float* y, const float* dy,
                                              const float* gamma, const float* beta, const float* saved_mean,
                                              const float* saved_invstd, float* dx, float* dresidual,
                                              float* dgamma, float* dbeta, int n, int c, std::int64_t hw,
                                              void* scratch, cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (dresidual) {
    return training_backward(x, ReluGradientFromOutput{dy, y}, gamma, saved_mean, saved_invstd, dx, dresidual,
                             dgamma, dbeta, n, c, hw, scratch, stream);
  }
  const TrainingNormalize coefficients{saved_mean, saved_invstd, gamma, beta};
  return training_backward(x, ReluGradientFromInput{dy, coefficients, {}}, gamma, saved_mean, saved_invstd, dx,
                           dresidual, dgamma, dbeta, n, c, hw, scratch, stream);
}

cudaError_t batch_norm_backward_inference(const float* x, const float* dy, const float* gamma,
                                          const float* running_mean, const float* running_var,
                                          float eps, float* dx, float* dgamma, float* dbeta, int n,
                                          int c, std::int64_t hw, void* scratch, cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  if (const cudaError_t status = gradient_sums(x, PlainGradient{dy}, running_mean, RunningInvstd{running_var, eps},
                                               dgamma, dbeta,
                                               n, c, hw, scratch, stream);
      status != cudaSuccess) {
    return status;
  }
  batch_norm_backward_inference_dx_kernel<<<channel_grid(n, c, hw), kThreads, 0, stream>>>(
      dy, gamma, running_var, eps, dx, n, c, hw);
  return cudaGetLastError();
}

}  // namespace r50::kernels
