// defines: batch_norm_nhwc_scratch_bytes, batch_norm_nhwc_forward_training,
//          batch_norm_nhwc_relu_forward_training, batch_norm_nhwc_forward_inference,
//          batch_norm_nhwc_backward_training, batch_norm_nhwc_relu_backward_training,
//          batch_norm_nhwc_backward_inference
//
// Batch norm over channels-last (NHWC) tensors: the entry points that batchnorm.cu's launchers call
// for Order::Nhwc (declared in batchnorm.cuh) and their kernels. These compute as the NCHW kernels
// do (batchnorm.cu's opening comment describes the storage, the precision of the statistics and
// sums, and the fused ReLU variants); the memory layout and the launch shapes differ.
// The tensors are n·hw rows of c channels, channel ch of row r at r·c + ch. Blocks are 256 threads
// as (lanes, rows): a thread owns V consecutive channels (V = 4 where c is a multiple of 4 and the
// tensors are aligned to 4·sizeof(T) bytes, else 1), consecutive lanes own consecutive channels so
// that a warp reads contiguous memory, and the threads of a block step together down the rows.
// The reductions keep a thread's V channels in registers over its rows (Welford in float, or the
// sums in double, as for NCHW), combine the block's rows of threads with a fixed tree in shared
// memory, and where the grid splits the rows, combine the splits' partials with one warp per
// channel (lanes in split order, then the warp's fixed tree): deterministic too, for one shape and
// alignment (which picks V). Row 0 of a block derives its channels' coefficients for the
// elementwise passes once and shares them through shared memory.
// Indexing: x is `rows` = n·hw rows of `groups` = c / V groups of V channels, the group g of row r
// at r·groups + g (in units of V elements). Grid (columns, row blocks): thread (x, y) of block
// (bx, by) owns the group bx·lanes + x and visits rows by·rows + y, then every rows·gridDim.y-th.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "batchnorm.cuh"
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

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

// ReluGradientFromInput (batchnorm.cu) for NHWC, where a thread's values are V consecutive
// channels of a row: bind(ch) readies channels ch .. ch + V - 1, each value is masked with its own
// channel's coefficients. PlainGradient and ReluGradientFromOutput (batchnorm.cuh) serve both
// layouts as they are.
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

// Grid (columns, splits): dbeta = Σ g and dgamma = Σ g·(x - mean)·invstd at the thread's V
// channels, or with several splits this block's part of the sums, into partials[ch · splits +
// split]; per-thread sums in double, x - mean in float, as the NCHW kernel (batchnorm.cu).
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
// its rows, with the coefficients of batch_norm_backward_training_dx_kernel (batchnorm.cu). dx and
// dresidual may alias dy: each thread reads element i before writing it.
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
// each thread still gets at least 8 rows. Depends on the shape alone, as reduction_splits does.
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

// The NHWC counterparts of batchnorm.cu's statistics, normalize, forward_training, gradient_sums
// and training_backward, with the same arguments; the entry points below pick one by width.
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

std::size_t batch_norm_nhwc_scratch_bytes(int n, int c, std::int64_t hw) {
  // V = 4 or 1 by the tensors' alignment, which is not known here: room for the larger split.
  const long long rows = static_cast<long long>(n) * hw;
  int splits = nhwc_reduction_splits(rows, c);
  if (c % 4 == 0) splits = std::max(splits, nhwc_reduction_splits(rows, c / 4));
  return splits == 1 ? 0 : static_cast<std::size_t>(c) * splits * sizeof(Welford);  // the larger partial
}

cudaError_t batch_norm_nhwc_forward_training(const void* x, const float* gamma, const float* beta,
                                             float* running_mean, float* running_var, void* y, float* saved_mean,
                                             float* saved_invstd, Storage storage, int n, int c, std::int64_t hw,
                                             float momentum, float eps, void* scratch, cudaStream_t stream) {
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(c, {x, y}) ? forward_training_nhwc<4, T, NoEpilogue>
                                                  : forward_training_nhwc<1, T, NoEpilogue>;
    return run(static_cast<const T*>(x), gamma, beta, running_mean, running_var, static_cast<T*>(y), saved_mean,
               saved_invstd, n, c, hw, momentum, eps, NoEpilogue{}, scratch, stream);
  });
}

cudaError_t batch_norm_nhwc_relu_forward_training(const void* x, const float* gamma, const float* beta,
                                                  float* running_mean, float* running_var, const void* residual,
                                                  void* y, float* saved_mean, float* saved_invstd,
                                                  Storage storage, int n, int c, std::int64_t hw, float momentum,
                                                  float eps, void* scratch, cudaStream_t stream) {
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(c, {x, y, residual}) ? forward_training_nhwc<4, T, ReluEpilogue<T>>
                                                            : forward_training_nhwc<1, T, ReluEpilogue<T>>;
    return run(static_cast<const T*>(x), gamma, beta, running_mean, running_var, static_cast<T*>(y), saved_mean,
               saved_invstd, n, c, hw, momentum, eps, ReluEpilogue<T>{static_cast<const T*>(residual)}, scratch,
               stream);
  });
}

cudaError_t batch_norm_nhwc_forward_inference(const void* x, const float* gamma, const float* beta,
                                              const float* running_mean, const float* running_var, void* y,
                                              Storage storage, int n, int c, std::int64_t hw, float eps,
                                              cudaStream_t stream) {
  const InferenceNormalize coefficients{running_mean, running_var, gamma, beta, eps};
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(c, {x, y}) ? normalize_nhwc<4, T, InferenceNormalize, NoEpilogue>
                                                  : normalize_nhwc<1, T, InferenceNormalize, NoEpilogue>;
    return run(static_cast<const T*>(x), static_cast<T*>(y), n, c, hw, coefficients, NoEpilogue{}, stream);
  });
}

cudaError_t batch_norm_nhwc_backward_training(const void* x, const void* dy, const float* gamma,
                                              const float* saved_mean, const float* saved_invstd, void* dx,
                                              float* dgamma, float* dbeta, Storage storage, int n, int c,
                                              std::int64_t hw, void* scratch, cudaStream_t stream) {
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(c, {x, dy, dx}) ? training_backward_nhwc<4, T, PlainGradient<T>>
                                                       : training_backward_nhwc<1, T, PlainGradient<T>>;
    return run(static_cast<const T*>(x), PlainGradient<T>{static_cast<const T*>(dy)}, gamma, saved_mean,
               saved_invstd, static_cast<T*>(dx), nullptr, dgamma, dbeta, n, c, hw, scratch, stream);
  });
}

cudaError_t batch_norm_nhwc_relu_backward_training(const void* x, const void* y, const void* dy,
                                                   const float* gamma, const float* beta, const float* saved_mean,
                                                   const float* saved_invstd, void* dx, void* dresidual,
                                                   float* dgamma, float* dbeta, Storage storage, int n, int c,
                                                   std::int64_t hw, void* scratch, cudaStream_t stream) {
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(c, {x, y, dy, dx, dresidual}) ? relu_training_backward_nhwc<4, T>
                                                                      : relu_training_backward_nhwc<1, T>;
    return run(static_cast<const T*>(x), static_cast<const T*>(y), static_cast<const T*>(dy), gamma, beta,
               saved_mean, saved_invstd, static_cast<T*>(dx), static_cast<T*>(dresidual), dgamma, dbeta, n, c, hw,
               scratch, stream);
  });
}

cudaError_t batch_norm_nhwc_backward_inference(const void* x, const void* dy, const float* gamma,
                                               const float* running_mean, const float* running_var, float eps,
                                               void* dx, float* dgamma, float* dbeta, Storage storage, int n,
                                               int c, std::int64_t hw, void* scratch, cudaStream_t stream) {
  return with_element_type(storage, [&](auto element) {
    using T = decltype(element);
    const auto run = groups_of_four<T>(c, {x, dy, dx}) ? inference_backward_nhwc<4, T>
                                                       : inference_backward_nhwc<1, T>;
    return run(static_cast<const T*>(x), static_cast<const T*>(dy), gamma, running_mean, running_var, eps,
               static_cast<T*>(dx), dgamma, dbeta, n, c, hw, scratch, stream);
  });
}

}  // namespace r50::kernels
