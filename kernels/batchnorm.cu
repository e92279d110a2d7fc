// defines: batch_norm_forward_training, batch_norm_relu_forward_training, batch_norm_forward_inference,
//          batch_norm_backward_training, batch_norm_relu_backward_training, batch_norm_backward_inference
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
// Every kernel reads and writes W consecutive values of a plane at a time: W = 4 (one access of
// 4·sizeof(T) bytes: 16 for float, 8 for half storage) where hw is a multiple of 4 and the tensors
// are aligned to that size, as at every ResNet-50 size but 7×7, else 1. Four times the bytes per
// load keeps enough reads in flight to near the memory's bandwidth, which one float per thread and
// iteration did not (about 1 TB/s of 3 on an H100 at 64×64×56×56).
// The fused batch norm + (residual +) ReLU ops are the same kernels with a different epilogue
// (normalise, add, clamp in one pass) and a different gradient (dy masked where the ReLU passed,
// from y, or recomputed from x where no residual joined), so they cost no pass of their own.
// The training kernels pass the statistics through saved_mean/saved_invstd and dgamma/dbeta, which
// the second kernel reads back as floats: its coefficients can differ from the CPU backend's,
// which keeps them in double, by an ulp.
//
// Channels-last (NHWC) tensors are n·hw rows of c channels, channel ch of row r at r·c + ch, and
// have kernels of their own with the same arithmetic. Their blocks are 256 threads as (lanes, rows):
// a thread owns V consecutive channels (V = 4 where c is a multiple of 4 and the tensors are aligned
// as above, else 1), consecutive lanes own consecutive channels so that a warp reads contiguous
// memory, and the threads of a block step together down the rows. The reductions keep a thread's
// V channels in registers over its rows (Welford in float, or the sums in double, as for NCHW),
// combine the block's rows of threads with a fixed tree in shared memory, and where the grid splits
// the rows, combine the splits' partials with one warp per channel (lanes in split order, then the
// warp's fixed tree): deterministic too. Row 0 of a block derives its channels' coefficients for
// the elementwise passes once and shares them through shared memory.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

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

// W consecutive values of one plane, as float whatever their storage; load and store take the
// index of the group of W.
template <int W>
struct Values {
  float v[W];
};

// Four F16 or BF16 elements as one 8-byte access.
template <typename T>
struct alignas(4 * sizeof(T)) FourHalves {
  T v[4];
};
static_assert(sizeof(FourHalves<__half>) == 8 && sizeof(FourHalves<__nv_bfloat16>) == 8);

template <int W, typename T>
__device__ Values<W> load(const T* p, long long group) {
  if constexpr (W == 4 && std::is_same_v<T, float>) {
    const float4 t = reinterpret_cast<const float4*>(p)[group];
    return {{t.x, t.y, t.z, t.w}};
  } else if constexpr (W == 4) {
    const FourHalves<T> t = reinterpret_cast<const FourHalves<T>*>(p)[group];
    return {{to_float(t.v[0]), to_float(t.v[1]), to_float(t.v[2]), to_float(t.v[3])}};
  } else {
    return {{to_float(p[group])}};
  }
}

template <int W, typename T>
__device__ void store(T* p, long long group, const Values<W>& values) {
  if constexpr (W == 4 && std::is_same_v<T, float>) {
    reinterpret_cast<float4*>(p)[group] = make_float4(values.v[0], values.v[1], values.v[2], values.v[3]);
  } else if constexpr (W == 4) {
    FourHalves<T> t;
    for (int k = 0; k < 4; ++k) t.v[k] = from_float<T>(values.v[k]);
    reinterpret_cast<FourHalves<T>*>(p)[group] = t;
  } else {
    p[group] = from_float<T>(values.v[0]);
  }
}

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
  template <int W>
  __device__ void operator()(Values<W>&, long long) const {}
};

template <typename T>
struct ReluEpilogue {
  const T* residual;  // null: none
  template <int W>
  __device__ void operator()(Values<W>& y, long long group) const {
    if (residual) {
      const Values<W> r = load<W>(residual, group);
      for (int k = 0; k < W; ++k) y.v[k] += r.v[k];
    }
    for (float& v : y.v) v = v < 0.0f ? 0.0f : v;
  }
};

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

// The gradient that reaches batch norm at a group of W values (whose inputs are x): dy itself, or
// dy where the ReLU after it passed. bind(ch) readies a thread's copy for channel ch.
template <typename T>
struct PlainGradient {
  const T* dy;
  __device__ void bind(int) {}
  template <int W>
  __device__ Values<W> operator()(long long group, const Values<W>&) const {
    return load<W>(dy, group);
  }
};

// Where the ReLU passed, read from its output y (needed where a residual joined before it).
template <typename T>
struct ReluGradientFromOutput {
  const T *dy, *y;
  __device__ void bind(int) {}
  template <int W>
  __device__ Values<W> operator()(long long group, const Values<W>&) const {
    Values<W> g = load<W>(dy, group);
    const Values<W> out = load<W>(y, group);
    for (int k = 0; k < W; ++k) g.v[k] = out.v[k] > 0.0f ? g.v[k] : 0.0f;
    return g;
  }
};

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

// ReluGradientFromInput for NHWC, where a thread's values are V consecutive channels of a row:
// bind(ch) readies channels ch .. ch + V - 1, each value is masked with its own channel's
// coefficients. PlainGradient and ReluGradientFromOutput serve both layouts as they are.
template <int V, typename T>
struct ReluGradientFromInputNhwc {
  const T* dy;
  TrainingNormalize coefficients;
  NormalizeCoefficients k[V];
  __device__ void bind(int first_channel) {
    for (int j = 0; j < V; ++j) k[j] = coefficients(first_channel + j);
  }
  __device__ Values<V> operator()(long long group, const Values<V>& x) const {
    Values<V> g = load<V>(dy, group);
    for (int j = 0; j < V; ++j) {
      g.v[j] = to_float(from_float<T>(normalized(x.v[j], k[j]))) > 0.0f ? g.v[j] : 0.0f;
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

// dx = scale·(dy - mean_dy - (x - mean)·slope) with scale = gamma·invstd, mean_dy = Σ dy / count
// and slope = invstd²·Σ dy·(x - mean) / count = invstd·dgamma / count, the CPU backend's formula.
struct TrainingGradientCoefficients {
  float mean, scale, mean_dy, slope;
};

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

// ---- NHWC kernels: x is `rows` = n·hw rows of `groups` = c / V groups of V channels, the group g
// of row r at r·groups + g (in units of V elements). Blocks of kNhwcThreads threads as (lanes,
// rows), grid (columns, row blocks): thread (x, y) of block (bx, by) owns the group
// bx·lanes + x and visits rows by·rows + y, then every rows·gridDim.y-th.

constexpr int kNhwcThreads = 256;
constexpr int kNhwcMaxLanes = 32;                          // a warp across the channels at most
constexpr int kNhwcMaxBlockChannels = kNhwcMaxLanes * 4;  // lanes · V

__device__ int channel_group() { return static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); }
__device__ long long first_row() { return blockIdx.y * static_cast<long long>(blockDim.y) + threadIdx.y; }
__device__ long long row_stride() { return static_cast<long long>(gridDim.y) * blockDim.y; }

struct ChanCombine {
  __device__ Welford operator()(const Welford& a, const Welford& b) const { return combine(a, b); }
};

struct AddGradientSums {
  __device__ GradientSums operator()(const GradientSums& a, const GradientSums& b) const {
    return {a.dy + b.dy, a.dy_centered + b.dy_centered};
  }
};

// Thread (x, 0) gets the combination of the values of threads (x, 0 .. blockDim.y - 1), by a fixed
// tree (blockDim.y a power of two): step h combines row y with row y + h for y < h. `column` holds
// blockDim.x·blockDim.y values; every thread must call.
template <typename P, typename Combine>
__device__ P combine_column(P value, P* column, Combine combine_two) {
  const int at = threadIdx.y * blockDim.x + threadIdx.x;
  column[at] = value;
  __syncthreads();
  for (int h = blockDim.y / 2; h > 0; h /= 2) {
    if (threadIdx.y < h) {
      value = combine_two(value, column[at + h * blockDim.x]);
      column[at] = value;
    }
    __syncthreads();
  }
  return value;
}

// Row 0 of the block derives the coefficients of the block's lanes·V channels once (make(ch)) into
// `shared`; every thread of a valid group then copies its V into k. False for a thread past the
// last group, which has nothing to do. Every thread must call.
template <int V, typename K, typename Make>
__device__ bool share_coefficients(K* shared, int group, int groups, Make make, K (&k)[V]) {
  if (threadIdx.y == 0 && group < groups) {
    for (int j = 0; j < V; ++j) shared[threadIdx.x * V + j] = make(group * V + j);
  }
  __syncthreads();
  if (group >= groups) return false;
  for (int j = 0; j < V; ++j) k[j] = shared[threadIdx.x * V + j];
  return true;
}

// Grid (columns, splits): the mean and biased variance of the thread's V channels, or with several
// splits this block's part of them, into partials[ch · splits + split]: Welford in float per
// thread, Chan's combination in double across the block's rows of threads.
template <int V, typename T>
__global__ void batch_norm_statistics_nhwc_kernel(const T* __restrict__ x, Welford* __restrict__ partials,
                                                  float* __restrict__ running_mean,
                                                  float* __restrict__ running_var,
                                                  float* __restrict__ saved_mean,
                                                  float* __restrict__ saved_invstd, long long rows,
                                                  int groups, float momentum, float eps) {
  const int group = channel_group();
  float count = 0.0f, mean[V] = {}, m2[V] = {};
  if (group < groups) {
    for (long long row = first_row(); row < rows; row += row_stride()) {
      const Values<V> values = load<V>(x, row * groups + group);
      count += 1.0f;
      for (int k = 0; k < V; ++k) {
        const float delta = values.v[k] - mean[k];
        mean[k] += delta / count;
        m2[k] += delta * (values.v[k] - mean[k]);
      }
    }
  }
  __shared__ Welford column[kNhwcThreads];
  for (int k = 0; k < V; ++k) {
    const Welford total = combine_column(Welford{count, mean[k], m2[k]}, column, ChanCombine{});
    if (threadIdx.y != 0 || group >= groups) continue;
    const int ch = group * V + k;
    if (gridDim.y == 1) {
      write_statistics(total, static_cast<double>(rows), ch, running_mean, running_var, saved_mean, saved_invstd,
                       momentum, eps);
    } else {
      partials[ch * gridDim.y + blockIdx.y] = total;
    }
  }
}

constexpr int kCombineWarps = 4;  // channels per block of the NHWC combining kernels, a warp each

// One warp per channel: lane l combines the channel's partials l, l + 32, ... in split order, the
// warp's fixed shuffle tree combines the lanes', and lane 0 writes the statistics.
__global__ void batch_norm_combine_statistics_nhwc_kernel(const Welford* __restrict__ partials, int splits,
                                                          float* __restrict__ running_mean,
                                                          float* __restrict__ running_var,
                                                          float* __restrict__ saved_mean,
                                                          float* __restrict__ saved_invstd, int c,
                                                          double values, float momentum, float eps) {
  const int ch = blockIdx.x * kCombineWarps + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (ch >= c) return;  // the whole warp
  Welford total{0.0, 0.0, 0.0};
  for (int split = lane; split < splits; split += 32) total = combine(total, partials[ch * splits + split]);
  for (int offset = 16; offset > 0; offset /= 2) total = combine(total, shuffle_down(total, offset));
  if (lane == 0) {
    write_statistics(total, values, ch, running_mean, running_var, saved_mean, saved_invstd, momentum, eps);
  }
}

// Grid (columns, row blocks): y = normalized(x) through the epilogue at the thread's V channels of
// each of its rows.
template <int V, typename T, typename Coefficients, typename Epilogue>
__global__ void batch_norm_normalize_nhwc_kernel(const T* x, T* y, long long rows, int groups,
                                                 Coefficients coefficients, Epilogue epilogue) {
  const int group = channel_group();
  __shared__ NormalizeCoefficients shared[kNhwcMaxBlockChannels];
  NormalizeCoefficients k[V];
  if (!share_coefficients(shared, group, groups, coefficients, k)) return;
  for (long long row = first_row(); row < rows; row += row_stride()) {
    const long long at = row * groups + group;
    Values<V> values = load<V>(x, at);
    for (int j = 0; j < V; ++j) values.v[j] = normalized(values.v[j], k[j]);
    epilogue(values, at);
    store<V>(y, at, values);
  }
}

// Grid (columns, splits): dbeta = Σ g and dgamma = Σ g·(x - mean)·invstd at the thread's V
// channels, or with several splits this block's part of the sums, into partials[ch · splits +
// split]; per-thread sums in double, x - mean in float, as the NCHW kernel.
template <int V, typename T, typename Invstd, typename Gradient>
__global__ void batch_norm_gradient_sums_nhwc_kernel(const T* __restrict__ x, Gradient gradient,
                                                     const float* __restrict__ mean, Invstd invstd,
                                                     GradientSums* __restrict__ partials,
                                                     float* __restrict__ dgamma, float* __restrict__ dbeta,
                                                     long long rows, int groups) {
  const int group = channel_group();
  double sum_dy[V] = {}, sum_dy_centered[V] = {};
  if (group < groups) {
    float channel_mean[V];
    for (int k = 0; k < V; ++k) channel_mean[k] = mean[group * V + k];
    gradient.bind(group * V);
    for (long long row = first_row(); row < rows; row += row_stride()) {
      const long long at = row * groups + group;
      const Values<V> xs = load<V>(x, at);
      const Values<V> g = gradient(at, xs);
      for (int k = 0; k < V; ++k) {
        sum_dy[k] += g.v[k];
        sum_dy_centered[k] += static_cast<double>(g.v[k]) * (xs.v[k] - channel_mean[k]);
      }
    }
  }
  __shared__ GradientSums column[kNhwcThreads];
  for (int k = 0; k < V; ++k) {
    const GradientSums total = combine_column(GradientSums{sum_dy[k], sum_dy_centered[k]}, column, AddGradientSums{});
    if (threadIdx.y != 0 || group >= groups) continue;
    const int ch = group * V + k;
    if (gridDim.y == 1) {
      dbeta[ch] = static_cast<float>(total.dy);
      dgamma[ch] = static_cast<float>(total.dy_centered * invstd(ch));
    } else {
      partials[ch * gridDim.y + blockIdx.y] = total;
    }
  }
}

// One warp per channel, as batch_norm_combine_statistics_nhwc_kernel: the channel's partial sums.
template <typename Invstd>
__global__ void batch_norm_combine_gradient_sums_nhwc_kernel(const GradientSums* __restrict__ partials,
                                                             int splits, Invstd invstd,
                                                             float* __restrict__ dgamma,
                                                             float* __restrict__ dbeta, int c) {
  const int ch = blockIdx.x * kCombineWarps + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (ch >= c) return;  // the whole warp
  double dy = 0.0, dy_centered = 0.0;
  for (int split = lane; split < splits; split += 32) {
    dy += partials[ch * splits + split].dy;
    dy_centered += partials[ch * splits + split].dy_centered;
  }
  dy = warp_reduce(dy, Sum{});
  dy_centered = warp_reduce(dy_centered, Sum{});
  if (lane == 0) {
    dbeta[ch] = static_cast<float>(dy);
    dgamma[ch] = static_cast<float>(dy_centered * invstd(ch));
  }
}

// Grid (columns, row blocks): dx, and dresidual where given, at the thread's V channels of each of
// its rows, with the coefficients of batch_norm_backward_training_dx_kernel. dx and dresidual may
// alias dy: each thread reads element i before writing it.
template <int V, typename T, typename Gradient>
__global__ void batch_norm_backward_training_dx_nhwc_kernel(const T* x, Gradient gradient, const float* gamma,
                                                            const float* saved_mean, const float* saved_invstd,
                                                            const float* dgamma, const float* dbeta, T* dx,
                                                            T* dresidual, long long rows, int groups) {
  const int group = channel_group();
  const double values = static_cast<double>(rows);
  const auto make = [&](int ch) {
    const double invstd = saved_invstd[ch];
    return TrainingGradientCoefficients{saved_mean[ch], static_cast<float>(gamma[ch] * invstd),
                                        static_cast<float>(dbeta[ch] / values),
                                        static_cast<float>(invstd * dgamma[ch] / values)};
  };
  __shared__ TrainingGradientCoefficients shared[kNhwcMaxBlockChannels];
  TrainingGradientCoefficients k[V];
  if (!share_coefficients(shared, group, groups, make, k)) return;
  gradient.bind(group * V);
  for (long long row = first_row(); row < rows; row += row_stride()) {
    const long long at = row * groups + group;
    const Values<V> xs = load<V>(x, at);
    const Values<V> g = gradient(at, xs);
    if (dresidual) store<V>(dresidual, at, g);
    Values<V> out;
    for (int j = 0; j < V; ++j) {
      out.v[j] = k[j].scale * (g.v[j] - k[j].mean_dy - (xs.v[j] - k[j].mean) * k[j].slope);
    }
    store<V>(dx, at, out);
  }
}

// Grid (columns, row blocks): dx = dy·gamma·invstd with the running statistics.
template <int V, typename T>
__global__ void batch_norm_backward_inference_dx_nhwc_kernel(const T* dy, const float* gamma,
                                                             const float* running_var, float eps, T* dx,
                                                             long long rows, int groups) {
  const int group = channel_group();
  const auto make = [&](int ch) {
    const double invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
    return static_cast<float>(gamma[ch] * invstd);
  };
  __shared__ float shared[kNhwcMaxBlockChannels];
  float scale[V];
  if (!share_coefficients(shared, group, groups, make, scale)) return;
  for (long long row = first_row(); row < rows; row += row_stride()) {
    const long long at = row * groups + group;
    Values<V> values = load<V>(dy, at);
    for (int j = 0; j < V; ++j) values.v[j] *= scale[j];
    store<V>(dx, at, values);
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

// Groups of 4 elements of T where every plane (NCHW: hw values; NHWC: a row's c channels) starts
// and ends on a boundary of 4·sizeof(T) bytes (16 for float, 8 for half storage): its length a
// multiple of 4 and each tensor (null: absent) aligned to that size, as the allocator's blocks are
// and a view need not be.
template <typename T>
bool groups_of_four(long long hw, std::initializer_list<const void*> tensors) {
  if (hw % 4 != 0) return false;
  for (const void* tensor : tensors) {
    if (reinterpret_cast<std::uintptr_t>(tensor) % (4 * sizeof(T)) != 0) return false;
  }
  return true;
}

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

// NHWC blocks: lanes = groups rounded up to a power of two, at most 32 (few lanes idle where the
// groups are few), and kNhwcThreads / lanes rows of threads.
dim3 nhwc_block(int groups) {
  unsigned lanes = 1;
  while (lanes < static_cast<unsigned>(kNhwcMaxLanes) && lanes < static_cast<unsigned>(groups)) lanes *= 2;
  return dim3(lanes, kNhwcThreads / lanes);
}

unsigned nhwc_columns(int groups) {
  const unsigned lanes = nhwc_block(groups).x;
  return (static_cast<unsigned>(groups) + lanes - 1) / lanes;
}

// How many row blocks share an NHWC reduction: enough for about 1024 blocks in all (a whole GPU's
// worth of resident threads even where one column holds every channel, as at the stem's 64), while
// each thread still gets at least 8 rows. Depends on the shape alone, as reduction_splits.
int nhwc_reduction_splits(long long rows, int groups) {
  constexpr long long kTargetBlocks = 1024, kMinRowsPerThread = 8;
  const long long rows_per_split = nhwc_block(groups).y * kMinRowsPerThread;
  const long long useful = (rows + rows_per_split - 1) / rows_per_split;
  long long splits = kTargetBlocks / nhwc_columns(groups);
  if (splits > useful) splits = useful;
  return splits < 1 ? 1 : static_cast<int>(splits);
}

// Grid (columns, row blocks) for the NHWC elementwise passes: about 4 rows per thread, which
// amortises a block's coefficients over more values, with the total number of blocks kept near the
// cap.
dim3 nhwc_elementwise_grid(long long rows, int groups) {
  constexpr long long kRowsPerThread = 4;
  const unsigned columns = nhwc_columns(groups);
  const long long rows_per_block = nhwc_block(groups).y * kRowsPerThread;
  const long long wanted = (rows + rows_per_block - 1) / rows_per_block;
  const long long budget = kMaxBlocks / columns > 0 ? kMaxBlocks / columns : 1;
  return dim3(columns, static_cast<unsigned>(wanted < budget ? wanted : budget));
}

unsigned combine_warp_blocks(int c) { return static_cast<unsigned>((c + kCombineWarps - 1) / kCombineWarps); }

// The NHWC counterparts of the templates above take the same arguments, so that a launcher picks
// one by order and width.
template <int V, typename T>
cudaError_t statistics_nhwc(const T* x, float* running_mean, float* running_var, float* saved_mean,
                            float* saved_invstd, int n, int c, long long hw, float momentum, float eps,
                            void* scratch, cudaStream_t stream) {
  const long long rows = static_cast<long long>(n) * hw;
  const int groups = c / V;
  const int splits = nhwc_reduction_splits(rows, groups);
  auto* partials = static_cast<Welford*>(scratch);
  batch_norm_statistics_nhwc_kernel<V, T><<<dim3(nhwc_columns(groups), splits), nhwc_block(groups), 0, stream>>>(
      x, partials, running_mean, running_var, saved_mean, saved_invstd, rows, groups, momentum, eps);
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess) return status;
  if (splits == 1) return cudaSuccess;
  batch_norm_combine_statistics_nhwc_kernel<<<combine_warp_blocks(c), kCombineWarps * 32, 0, stream>>>(
      partials, splits, running_mean, running_var, saved_mean, saved_invstd, c, static_cast<double>(rows),
      momentum, eps);
  return cudaGetLastError();
}

template <int V, typename T, typename Coefficients, typename Epilogue>
cudaError_t normalize_nhwc(const T* x, T* y, int n, int c, long long hw, Coefficients coefficients,
                           Epilogue epilogue, cudaStream_t stream) {
  const long long rows = static_cast<long long>(n) * hw;
  const int groups = c / V;
  batch_norm_normalize_nhwc_kernel<V, T><<<nhwc_elementwise_grid(rows, groups), nhwc_block(groups), 0, stream>>>(
      x, y, rows, groups, coefficients, epilogue);
  return cudaGetLastError();
}

template <int V, typename T, typename Epilogue>
cudaError_t forward_training_nhwc(const T* x, const float* gamma, const float* beta, float* running_mean,
                                  float* running_var, T* y, float* saved_mean, float* saved_invstd, int n, int c,
                                  long long hw, float momentum, float eps, Epilogue epilogue, void* scratch,
                                  cudaStream_t stream) {
  if (const cudaError_t status = statistics_nhwc<V>(x, running_mean, running_var, saved_mean, saved_invstd, n, c,
                                                    hw, momentum, eps, scratch, stream);
      status != cudaSuccess) {
    return status;
  }
  return normalize_nhwc<V>(x, y, n, c, hw, TrainingNormalize{saved_mean, saved_invstd, gamma, beta}, epilogue,
                           stream);
}

template <int V, typename T, typename Invstd, typename Gradient>
cudaError_t gradient_sums_nhwc(const T* x, Gradient gradient, const float* mean, Invstd invstd, float* dgamma,
                               float* dbeta, int n, int c, long long hw, void* scratch, cudaStream_t stream) {
  const long long rows = static_cast<long long>(n) * hw;
  const int groups = c / V;
  const int splits = nhwc_reduction_splits(rows, groups);
  auto* partials = static_cast<GradientSums*>(scratch);
  batch_norm_gradient_sums_nhwc_kernel<V, T>
      <<<dim3(nhwc_columns(groups), splits), nhwc_block(groups), 0, stream>>>(x, gradient, mean, invstd, partials,
                                                                               dgamma, dbeta, rows, groups);
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess) return status;
  if (splits == 1) return cudaSuccess;
  batch_norm_combine_gradient_sums_nhwc_kernel<<<combine_warp_blocks(c), kCombineWarps * 32, 0, stream>>>(
      partials, splits, invstd, dgamma, dbeta, c);
  return cudaGetLastError();
}

template <int V, typename T, typename Gradient>
cudaError_t training_backward_nhwc(const T* x, Gradient gradient, const float* gamma, const float* saved_mean,
                                   const float* saved_invstd, T* dx, T* dresidual, float* dgamma, float* dbeta,
                                   int n, int c, long long hw, void* scratch, cudaStream_t stream) {
  if (const cudaError_t status = gradient_sums_nhwc<V>(x, gradient, saved_mean, SavedInvstd{saved_invstd}, dgamma,
                                                       dbeta, n, c, hw, scratch, stream);
      status != cudaSuccess) {
    return status;
  }
  const long long rows = static_cast<long long>(n) * hw;
  const int groups = c / V;
  batch_norm_backward_training_dx_nhwc_kernel<V, T>
      <<<nhwc_elementwise_grid(rows, groups), nhwc_block(groups), 0, stream>>>(
          x, gradient, gamma, saved_mean, saved_invstd, dgamma, dbeta, dx, dresidual, rows, groups);
  return cudaGetLastError();
}

// The fused backward's gradient: read from y where a residual joined, else recomputed from x.
template <int V, typename T>
cudaError_t relu_training_backward_nhwc(const T* x, const T* y, const T* dy, const float* gamma, const float* beta,
                                        const float* saved_mean, const float* saved_invstd, T* dx, T* dresidual,
                                        float* dgamma, float* dbeta, int n, int c, long long hw, void* scratch,
                                        cudaStream_t stream) {
  if (dresidual) {
    return training_backward_nhwc<V, T>(x, ReluGradientFromOutput<T>{dy, y}, gamma, saved_mean, saved_invstd, dx,
                                     dresidual, dgamma, dbeta, n, c, hw, scratch, stream);
  }
  const ReluGradientFromInputNhwc<V, T> gradient{dy, TrainingNormalize{saved_mean, saved_invstd, gamma, beta}, {}};
  return training_backward_nhwc<V, T>(x, gradient, gamma, saved_mean, saved_invstd, dx, nullptr, dgamma, dbeta, n, c,
                                   hw, scratch, stream);
}

template <int V, typename T>
cudaError_t inference_backward_nhwc(const T* x, const T* dy, const float* gamma, const float* running_mean,
                                    const float* running_var, float eps, T* dx, float* dgamma, float* dbeta, int n,
                                    int c, long long hw, void* scratch, cudaStream_t stream) {
  if (const cudaError_t status = gradient_sums_nhwc<V>(x, PlainGradient<T>{dy}, running_mean,
                                                       RunningInvstd{running_var, eps}, dgamma, dbeta, n, c, hw,
                                                       scratch, stream);
      status != cudaSuccess) {
    return status;
  }
  const long long rows = static_cast<long long>(n) * hw;
  const int groups = c / V;
  batch_norm_backward_inference_dx_nhwc_kernel<V, T>
      <<<nhwc_elementwise_grid(rows, groups), nhwc_block(groups), 0, stream>>>(dy, gamma, running_var, eps, dx,
                                                                                rows, groups);
  return cudaGetLastError();
}

}  // namespace

std::size_t batch_norm_scratch_bytes(Order order, int n, int c, std::int64_t hw) {
  if (nothing_to_do(n, c, hw)) return 0;
  if (order == Order::Nhwc) {
    // V = 4 or 1 by the tensors' alignment, which is not known here: room for the larger split.
    const long long rows = static_cast<long long>(n) * hw;
    int splits = nhwc_reduction_splits(rows, c);
    if (c % 4 == 0) splits = std::max(splits, nhwc_reduction_splits(rows, c / 4));
    return splits == 1 ? 0 : static_cast<std::size_t>(c) * splits * sizeof(Welford);  // the larger partial
  }
  const int splits = reduction_splits(n, c, hw);
  return splits == 1 ? 0 : static_cast<std::size_t>(c) * splits * sizeof(Welford);  // the larger partial
}

cudaError_t batch_norm_forward_training(const void* x, const float* gamma, const float* beta,
                                        float* running_mean, float* running_var, void* y,
                                        float* saved_mean, float* saved_invstd, Storage storage, Order order,
                                        int n, int c, std::int64_t hw, float momentum, float eps, void* scratch,
                                        cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = order == Order::Nhwc ? (groups_of_four<T>(c, {x, y}) ? forward_training_nhwc<4, T, NoEpilogue>
                                                                          : forward_training_nhwc<1, T, NoEpilogue>)
                     : groups_of_four<T>(hw, {x, y}) ? forward_training<4, T, NoEpilogue>
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
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = order == Order::Nhwc
                         ? (groups_of_four<T>(c, {x, y, residual}) ? forward_training_nhwc<4, T, ReluEpilogue<T>>
                                                                   : forward_training_nhwc<1, T, ReluEpilogue<T>>)
                     : groups_of_four<T>(hw, {x, y, residual}) ? forward_training<4, T, ReluEpilogue<T>>
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
  const InferenceNormalize coefficients{running_mean, running_var, gamma, beta, eps};
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run =
        order == Order::Nhwc
            ? (groups_of_four<T>(c, {x, y}) ? normalize_nhwc<4, T, InferenceNormalize, NoEpilogue>
                                            : normalize_nhwc<1, T, InferenceNormalize, NoEpilogue>)
        : groups_of_four<T>(hw, {x, y}) ? normalize<4, T, InferenceNormalize, NoEpilogue>
                                        : normalize<1, T, InferenceNormalize, NoEpilogue>;
    return run(static_cast<const T*>(x), static_cast<T*>(y), n, c, hw, coefficients, NoEpilogue{}, stream);
  });
}

cudaError_t batch_norm_backward_training(const void* x, const void* dy, const float* gamma,
                                         const float* saved_mean, const float* saved_invstd, void* dx,
                                         float* dgamma, float* dbeta, Storage storage, Order order, int n, int c,
                                         std::int64_t hw, void* scratch, cudaStream_t stream) {
  if (nothing_to_do(n, c, hw)) return cudaSuccess;
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = order == Order::Nhwc
                         ? (groups_of_four<T>(c, {x, dy, dx}) ? training_backward_nhwc<4, T, PlainGradient<T>>
                                                              : training_backward_nhwc<1, T, PlainGradient<T>>)
                     : groups_of_four<T>(hw, {x, dy, dx}) ? training_backward<4, T, PlainGradient<T>>
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
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    if (order == Order::Nhwc) {
      const auto run = groups_of_four<T>(c, {x, y, dy, dx, dresidual}) ? relu_training_backward_nhwc<4, T>
                                                                        : relu_training_backward_nhwc<1, T>;
      return run(static_cast<const T*>(x), static_cast<const T*>(y), static_cast<const T*>(dy), gamma, beta,
                 saved_mean, saved_invstd, static_cast<T*>(dx), static_cast<T*>(dresidual), dgamma, dbeta, n, c,
                 hw, scratch, stream);
    }
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
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    if (order == Order::Nhwc) {
      const auto run = groups_of_four<T>(c, {x, dy, dx}) ? inference_backward_nhwc<4, T>
                                                         : inference_backward_nhwc<1, T>;
      return run(static_cast<const T*>(x), static_cast<const T*>(dy), gamma, running_mean, running_var, eps,
                 static_cast<T*>(dx), dgamma, dbeta, n, c, hw, scratch, stream);
    }
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
