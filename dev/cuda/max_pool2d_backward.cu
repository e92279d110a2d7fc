// usage: dev_max_pool2d_backward [--check | --replay] [--batch N]
//
// Variants of max pooling's backward on ResNet-50's stem (3×3 windows, stride 2, padding 1, 64
// channels of 112×112 into 56×56), each first checked bit for bit against the CPU backend's op,
// then timed (common.h) beside the product's kernel: fp32 in NCHW and NHWC, and bf16 in NHWC, as
// a channels-last half-precision step runs it. The stem's max pool is the slowest layer of the
// fastest step, most of it backward (docs/performance.md); a variant replaces the product's only
// on these figures.
// --check runs the checks alone, on a small batch with ties between window values, and fails when
// a variant differs; a machine without a GPU says so and ends with nothing checked. --replay runs
// the stem variant's per-thread code on the host for every output window, against the same
// references, on any machine (the kernels' launch geometry is left to --check).
//
// Variants, each summing a dx element's dy from the windows that picked it in the same order (so
// every variant gives the same bits); all but the last take one thread per dx element:
// - product: kernels::max_pool2d_backward (kernels/pooling.cu): a grid-stride loop over the flat
//   index, whose plane and pixel come from 64-bit divisions; a window's first maximum found by
//   rescanning it.
// - tile: 32×8 pixels of one plane per block, planes along the grid's z: 32-bit index arithmetic,
//   the same rescans.
// - argmax: the forward also writes, per output, where in its window the maximum was (one byte);
//   the backward compares that with its own position and reads neither x nor y. Its cost is the
//   forward's extra byte per output, timed beside the product's forward.
// - stem, NCHW and NHWC, fp32 and bf16: for the stem's windows alone (3×3, stride 2, padding 1),
//   one thread per output window, which writes the 2×2 pixels its window starts at (stem_block).
//
// Why the stem variant: the three above run at 360–500 GB/s where the forward reaches 2 TB/s, and
// argmax, which moves the fewest bytes, is no faster in GB/s. Their threads each wait on a chain of
// dependent loads (a window's maximum, then the rescan or its byte, then its dy), one window after
// another, for 4 bytes of dx: too little in flight to cover the memory's latency. The stem
// variant issues all its loads at once (a 5×5 patch of x, four y and four dy) for 16 bytes of dx.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <cuda_bf16.h>

#include "common.h"
#include "core/half.h"
#include "core/rng.h"
#include "kernels.h"
#include "ops/backend.h"
#include "ops/cuda/cuda_probe.h"

namespace {

struct Pool {
  int n, c, h, w, p, q, kernel, stride, padding;
  long long inputs() const { return static_cast<long long>(n) * c * h * w; }
  long long outputs() const { return static_cast<long long>(n) * c * p * q; }
};

// The output indices along one axis whose windows cover input position `at` (as pooling.cu).
__device__ void covering(int at, const Pool& s, int outputs, int* begin, int* end) {
  const int lowest = at + s.padding - s.kernel + 1;
  *begin = lowest <= 0 ? 0 : (lowest + s.stride - 1) / s.stride;
  *end = min(outputs, (at + s.padding) / s.stride + 1);
}

// Whether (hh, ww) holds the first value equal to `best`, row-major, in window (row, col).
__device__ bool first_match(const float* plane, int row, int col, int hh, int ww, float best, const Pool& s) {
  const int h0 = row * s.stride - s.padding, w0 = col * s.stride - s.padding;
  for (int i = max(h0, 0); i < min(h0 + s.kernel, s.h); ++i) {
    for (int j = max(w0, 0); j < min(w0 + s.kernel, s.w); ++j) {
      if (plane[i * s.w + j] == best) return i == hh && j == ww;
    }
  }
  return false;
}

dim3 tile_grid(int h, int w, int planes) {
  return dim3((w + 31) / 32, (h + 7) / 8, static_cast<unsigned>(std::min(planes, 65535)));
}

__global__ void backward_tile(const float* x, const float* y, const float* dy, float* dx, Pool s) {
  const int ww = blockIdx.x * 32 + threadIdx.x, hh = blockIdx.y * 8 + threadIdx.y;
  if (ww >= s.w || hh >= s.h) return;
  int row_begin, row_end, col_begin, col_end;
  covering(hh, s, s.p, &row_begin, &row_end);
  covering(ww, s, s.q, &col_begin, &col_end);
  for (int plane = blockIdx.z; plane < s.n * s.c; plane += gridDim.z) {
    const float* x_plane = x + static_cast<long long>(plane) * s.h * s.w;
    const long long out = static_cast<long long>(plane) * s.p * s.q;
    const float value = x_plane[hh * s.w + ww];
    float sum = 0.0f;
    for (int row = row_begin; row < row_end; ++row) {
      for (int col = col_begin; col < col_end; ++col) {
        const float best = y[out + row * s.q + col];
        if (value == best && first_match(x_plane, row, col, hh, ww, best, s)) sum += dy[out + row * s.q + col];
      }
    }
    dx[static_cast<long long>(plane) * s.h * s.w + hh * s.w + ww] = sum;
  }
}

// The forward, writing beside y the window position of its first maximum, (i - h0)·kernel + (j - w0).
__global__ void forward_argmax(const float* x, float* y, std::uint8_t* where, Pool s) {
  const int col = blockIdx.x * 32 + threadIdx.x, row = blockIdx.y * 8 + threadIdx.y;
  if (col >= s.q || row >= s.p) return;
  const int h0 = row * s.stride - s.padding, w0 = col * s.stride - s.padding;
  for (int plane = blockIdx.z; plane < s.n * s.c; plane += gridDim.z) {
    const float* x_plane = x + static_cast<long long>(plane) * s.h * s.w;
    float best = -INFINITY;
    int at = (max(h0, 0) - h0) * s.kernel + (max(w0, 0) - w0);
    for (int i = max(h0, 0); i < min(h0 + s.kernel, s.h); ++i) {
      for (int j = max(w0, 0); j < min(w0 + s.kernel, s.w); ++j) {
        const float value = x_plane[i * s.w + j];
        if (value > best || isnan(value)) {
          best = value;
          at = (i - h0) * s.kernel + (j - w0);
        }
      }
    }
    const long long o = static_cast<long long>(plane) * s.p * s.q + row * s.q + col;
    y[o] = best;
    where[o] = static_cast<std::uint8_t>(at);
  }
}

__global__ void backward_argmax(const std::uint8_t* where, const float* dy, float* dx, Pool s) {
  const int ww = blockIdx.x * 32 + threadIdx.x, hh = blockIdx.y * 8 + threadIdx.y;
  if (ww >= s.w || hh >= s.h) return;
  int row_begin, row_end, col_begin, col_end;
  covering(hh, s, s.p, &row_begin, &row_end);
  covering(ww, s, s.q, &col_begin, &col_end);
  for (int plane = blockIdx.z; plane < s.n * s.c; plane += gridDim.z) {
    const long long out = static_cast<long long>(plane) * s.p * s.q;
    float sum = 0.0f;
    for (int row = row_begin; row < row_end; ++row) {
      for (int col = col_begin; col < col_end; ++col) {
        const int mine = (hh - (row * s.stride - s.padding)) * s.kernel + (ww - (col * s.stride - s.padding));
        if (where[out + row * s.q + col] == mine) sum += dy[out + row * s.q + col];
      }
    }
    dx[static_cast<long long>(plane) * s.h * s.w + hh * s.w + ww] = sum;
  }
}

// An element as float, and a float stored as an element rounded to nearest even, on the host (the
// replay below) as on the device.
__host__ __device__ inline float as_float(float value) { return value; }
__host__ __device__ inline float as_float(__nv_bfloat16 value) { return __bfloat162float(value); }
template <typename T>
__host__ __device__ T stored(float value);
template <>
__host__ __device__ inline float stored<float>(float value) { return value; }
template <>
__host__ __device__ inline __nv_bfloat16 stored<__nv_bfloat16>(float value) { return __float2bfloat16_rn(value); }

// One image and channel of an NCHW or NHWC tensor: element (row, col) at first + row·row_step +
// col·col_step. Offsets inside an image fit in int; the image's own offset takes 64 bits.
struct Plane {
  long long first;
  int row_step, col_step;
  __host__ __device__ long long at(int row, int col) const { return first + row * row_step + col * col_step; }
};

__host__ __device__ inline Plane plane_of(bool nhwc, int image, int channel, int channels, int rows, int cols) {
  if (nhwc) return {static_cast<long long>(image) * rows * cols * channels + channel, cols * channels, channels};
  return {(static_cast<long long>(image) * channels + channel) * rows * cols, cols, 1};
}

// Whether the stem variant applies: 3×3 windows, stride 2, padding 1, and outputs that cover the
// input, so that every pixel (2r + i, 2q + j) has its owner (r, q).
bool stem_applies(const Pool& s) {
  return s.kernel == 3 && s.stride == 2 && s.padding == 1 && 2 * s.p >= s.h && 2 * s.q >= s.w;
}

// The stem variant's thread for output window (r, q) of one plane: dx at rows 2r, 2r+1 and columns
// 2q, 2q+1. Windows (r, q), (r, q+1), (r+1, q) and (r+1, q+1) alone cover those pixels; together
// they span the 5×5 patch of x at rows 2r-1..2r+3, columns 2q-1..2q+3 (window (r+a, q+b) is the
// patch's rows 2a..2a+2, columns 2b..2b+2). Every load is issued before any result is needed. Each
// window's first maximum, row-major and inside the input, is found in the patch, and a pixel sums
// the dy of the windows that picked it in their row-major order, from 0, as the CPU backend does.
template <typename T>
__host__ __device__ void stem_block(const T* x, const T* y, const T* dy, T* dx, const Pool& s, const Plane& in,
                                    const Plane& out, int r, int q) {
  float patch[5][5];
  bool inside[5][5];
#pragma unroll
  for (int i = 0; i < 5; ++i) {
#pragma unroll
    for (int j = 0; j < 5; ++j) {
      const int row = 2 * r - 1 + i, col = 2 * q - 1 + j;
      inside[i][j] = row >= 0 && row < s.h && col >= 0 && col < s.w;
      patch[i][j] = inside[i][j] ? as_float(x[in.at(row, col)]) : 0.0f;
    }
  }
  float best[2][2], grad[2][2];
  bool exists[2][2];
#pragma unroll
  for (int a = 0; a < 2; ++a) {
#pragma unroll
    for (int b = 0; b < 2; ++b) {
      exists[a][b] = r + a < s.p && q + b < s.q;
      best[a][b] = exists[a][b] ? as_float(y[out.at(r + a, q + b)]) : 0.0f;
      grad[a][b] = exists[a][b] ? as_float(dy[out.at(r + a, q + b)]) : 0.0f;
    }
  }
  float sum[2][2] = {{0.0f, 0.0f}, {0.0f, 0.0f}};
#pragma unroll
  for (int a = 0; a < 2; ++a) {
#pragma unroll
    for (int b = 0; b < 2; ++b) {
      int first = -1;  // the patch position i·5 + j of the window's first maximum; none for a NaN one
#pragma unroll
      for (int u = 0; u < 3; ++u) {
#pragma unroll
        for (int v = 0; v < 3; ++v) {
          const int i = 2 * a + u, j = 2 * b + v;
          if (first < 0 && inside[i][j] && patch[i][j] == best[a][b]) first = i * 5 + j;
        }
      }
      // This thread's pixels are the patch's rows and columns 1 and 2; constant indices keep sum in
      // registers.
#pragma unroll
      for (int i = 0; i < 2; ++i) {
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          if (exists[a][b] && first == (i + 1) * 5 + j + 1) sum[i][j] += grad[a][b];
        }
      }
    }
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      if (2 * r + i < s.h && 2 * q + j < s.w) dx[in.at(2 * r + i, 2 * q + j)] = stored<T>(sum[i][j]);
    }
  }
}

// NCHW: threads along the output's columns (x) and rows (y), planes along the grid's z.
template <typename T>
__global__ void backward_stem_nchw(const T* x, const T* y, const T* dy, T* dx, Pool s) {
  const int q = blockIdx.x * 32 + threadIdx.x, r = blockIdx.y * 8 + threadIdx.y;
  if (q >= s.q || r >= s.p) return;
  for (int plane = blockIdx.z; plane < s.n * s.c; plane += gridDim.z) {
    const int image = plane / s.c, channel = plane % s.c;
    stem_block(x, y, dy, dx, s, plane_of(false, image, channel, s.c, s.h, s.w),
               plane_of(false, image, channel, s.c, s.p, s.q), r, q);
  }
}

// NHWC: threads along the channels (x, so that a warp's loads are contiguous) and the output's
// columns (y), (image, output row) along the grid's z.
template <typename T>
__global__ void backward_stem_nhwc(const T* x, const T* y, const T* dy, T* dx, Pool s) {
  const int channel = blockIdx.x * 32 + threadIdx.x, q = blockIdx.y * 8 + threadIdx.y;
  if (channel >= s.c || q >= s.q) return;
  for (int z = blockIdx.z; z < s.n * s.p; z += gridDim.z) {
    const int image = z / s.p, r = z % s.p;
    stem_block(x, y, dy, dx, s, plane_of(true, image, channel, s.c, s.h, s.w),
               plane_of(true, image, channel, s.c, s.p, s.q), r, q);
  }
}

template <typename T>
void launch_stem(bool nhwc, const T* x, const T* y, const T* dy, T* dx, const Pool& s) {
  const dim3 threads(32, 8);
  if (nhwc) {
    const dim3 grid((s.c + 31) / 32, (s.q + 7) / 8, static_cast<unsigned>(std::min(s.n * s.p, 65535)));
    backward_stem_nhwc<<<grid, threads>>>(x, y, dy, dx, s);
  } else {
    const dim3 grid((s.q + 31) / 32, (s.p + 7) / 8, static_cast<unsigned>(std::min(s.n * s.c, 65535)));
    backward_stem_nchw<<<grid, threads>>>(x, y, dy, dx, s);
  }
  R50_DEV_CHECK(cudaGetLastError());
}

// The stem variant's per-thread code run on the host for every output window, NCHW or NHWC: its
// indexing and its order of sums, checked where no GPU is.
template <typename T>
void replay_stem(bool nhwc, const T* x, const T* y, const T* dy, T* dx, const Pool& s) {
  for (int image = 0; image < s.n; ++image) {
    for (int channel = 0; channel < s.c; ++channel) {
      const Plane in = plane_of(nhwc, image, channel, s.c, s.h, s.w);
      const Plane out = plane_of(nhwc, image, channel, s.c, s.p, s.q);
      for (int r = 0; r < s.p; ++r) {
        for (int q = 0; q < s.q; ++q) stem_block(x, y, dy, dx, s, in, out, r, q);
      }
    }
  }
}

// x, y and dy on the host, and the CPU backend's dx: the reference every variant must equal. T is
// float, or std::uint16_t holding bf16's bits.
template <typename T>
struct Problem {
  Pool shape;
  std::vector<T> x, y, dy, dx;
};

// y and dx of `problem` from the CPU backend's ops on its x and dy, stored as `dtype`.
template <typename T>
void compute_reference(Problem<T>& problem, r50::DType dtype) {
  const Pool& s = problem.shape;
  const std::unique_ptr<r50::Backend> cpu = r50::make_cpu_backend(0);
  const r50::Shape x_shape{s.n, s.c, s.h, s.w}, y_shape{s.n, s.c, s.p, s.q};
  const r50::Pool2dParams params{s.kernel, s.stride, s.padding};
  const r50::Tensor x(problem.x.data(), x_shape, dtype), y(problem.y.data(), y_shape, dtype);
  cpu->max_pool2d_forward(x, y, params);
  cpu->max_pool2d_backward(x, y, r50::Tensor(problem.dy.data(), y_shape, dtype),
                           r50::Tensor(problem.dx.data(), x_shape, dtype), params);
}

// `levels` > 0 rounds x to that many values, so that windows hold ties.
Problem<float> make_problem(const Pool& s, int levels) {
  Problem<float> problem{s, std::vector<float>(s.inputs()), std::vector<float>(s.outputs()),
                         std::vector<float>(s.outputs()), std::vector<float>(s.inputs())};
  r50::Rng rng(7);
  for (float& value : problem.x) {
    value = static_cast<float>(rng.uniform(-1.0, 1.0));
    if (levels > 0) value = std::round(value * levels) / levels;
  }
  for (float& value : problem.dy) value = static_cast<float>(rng.uniform(-1.0, 1.0));
  compute_reference(problem, r50::DType::F32);
  return problem;
}

// The same problem in bf16: x and dy rounded (ties stay ties: the levels are exact in bf16), y and
// dx from the CPU backend's bf16 ops, which compare and sum in fp32 and round once, as the kernels.
Problem<std::uint16_t> bf16_problem(const Problem<float>& f32) {
  const auto rounded = [](const std::vector<float>& values) {
    std::vector<std::uint16_t> bits(values.size());
    r50::floats_into(values.data(), static_cast<std::int64_t>(values.size()), bits.data(), r50::DType::BF16);
    return bits;
  };
  Problem<std::uint16_t> problem{f32.shape, rounded(f32.x), std::vector<std::uint16_t>(f32.y.size()),
                                 rounded(f32.dy), std::vector<std::uint16_t>(f32.dx.size())};
  compute_reference(problem, r50::DType::BF16);
  return problem;
}

template <typename T>
std::vector<T> transposed(const std::vector<T>& values, const Pool& s, bool input, r50::Layout to) {
  std::vector<T> out(values.size());
  const r50::Shape shape{s.n, s.c, input ? s.h : s.p, input ? s.w : s.q};
  r50::transpose_images(values.data(), out.data(), shape, sizeof(T), to);
  return out;
}

// bf16 bits as floats (exactly), for count_mismatches to print as numbers.
std::vector<float> as_floats(const std::vector<std::uint16_t>& bits) {
  std::vector<float> values(bits.size());
  r50::floats_from(bits.data(), r50::DType::BF16, static_cast<std::int64_t>(bits.size()), values.data());
  return values;
}
const std::vector<float>& as_floats(const std::vector<float>& values) { return values; }

struct Result {
  std::string variant;
  float ms;
  double bytes;  // the fewest the variant must move
};

// Checks variants against a problem's reference, and times them when asked.
class Runner {
 public:
  Runner(bool timed, std::vector<Result>& results) : timed_(timed), results_(results) {}

  template <typename T>
  void check(const char* variant, const std::vector<T>& got, const std::vector<T>& want) {
    const std::size_t mismatches = count_mismatches(variant, as_floats(got), as_floats(want));
    std::printf("%-20s %s\n", variant,
                mismatches ? "DIFFERS from the CPU backend" : "equal to the CPU backend, bit for bit");
    all_equal_ = all_equal_ && mismatches == 0;
  }
  void measure(const char* variant, double bytes, const std::function<void()>& launch) {
    if (timed_) results_.push_back({variant, time_kernel(launch), bytes});
  }
  bool all_equal() const { return all_equal_; }

 private:
  bool timed_;
  std::vector<Result>& results_;
  bool all_equal_ = true;
};

// The fp32 variants on `problem`.
void run_f32(const Problem<float>& problem, Runner& runner) {
  const Pool& s = problem.shape;
  const DeviceArray<float> x(problem.x), y(problem.y), dy(problem.dy), dx(problem.x.size());
  const double floats = 4.0, inputs = static_cast<double>(s.inputs()), outputs = static_cast<double>(s.outputs());
  const double product_bytes = floats * 2 * (inputs + outputs);  // x, y, dy, dx

  const auto product = [&](r50::kernels::Order order, const float* xs, const float* ys, const float* dys, float* dxs) {
    R50_DEV_CHECK(r50::kernels::max_pool2d_backward(xs, ys, dys, dxs, r50::kernels::Storage::F32, order, s.n, s.c,
                                                    s.h, s.w, s.p, s.q, s.kernel, s.stride, s.padding, nullptr));
  };
  dx.poison();
  product(r50::kernels::Order::Nchw, x.data(), y.data(), dy.data(), dx.data());
  runner.check("product NCHW", dx.to_host(), problem.dx);
  runner.measure("product NCHW", product_bytes,
                 [&] { product(r50::kernels::Order::Nchw, x.data(), y.data(), dy.data(), dx.data()); });

  if (stem_applies(s)) {
    dx.poison();
    launch_stem(false, x.data(), y.data(), dy.data(), dx.data(), s);
    runner.check("stem NCHW", dx.to_host(), problem.dx);
    runner.measure("stem NCHW", product_bytes,
                   [&] { launch_stem(false, x.data(), y.data(), dy.data(), dx.data(), s); });
  }

  {
    const r50::Layout nhwc = r50::Layout::ChannelsLast;
    const DeviceArray<float> x_nhwc(transposed(problem.x, s, true, nhwc)),
        y_nhwc(transposed(problem.y, s, false, nhwc)), dy_nhwc(transposed(problem.dy, s, false, nhwc));
    dx.poison();
    product(r50::kernels::Order::Nhwc, x_nhwc.data(), y_nhwc.data(), dy_nhwc.data(), dx.data());
    runner.check("product NHWC", transposed(dx.to_host(), s, true, r50::Layout::RowMajor), problem.dx);
    runner.measure("product NHWC", product_bytes, [&] {
      product(r50::kernels::Order::Nhwc, x_nhwc.data(), y_nhwc.data(), dy_nhwc.data(), dx.data());
    });
    if (stem_applies(s)) {
      dx.poison();
      launch_stem(true, x_nhwc.data(), y_nhwc.data(), dy_nhwc.data(), dx.data(), s);
      runner.check("stem NHWC", transposed(dx.to_host(), s, true, r50::Layout::RowMajor), problem.dx);
      runner.measure("stem NHWC", product_bytes,
                     [&] { launch_stem(true, x_nhwc.data(), y_nhwc.data(), dy_nhwc.data(), dx.data(), s); });
    }
  }

  const dim3 threads(32, 8), grid = tile_grid(s.h, s.w, s.n * s.c);
  dx.poison();
  backward_tile<<<grid, threads>>>(x.data(), y.data(), dy.data(), dx.data(), s);
  R50_DEV_CHECK(cudaGetLastError());
  runner.check("tile NCHW", dx.to_host(), problem.dx);
  runner.measure("tile NCHW", product_bytes,
                 [&] { backward_tile<<<grid, threads>>>(x.data(), y.data(), dy.data(), dx.data(), s); });

  const DeviceArray<std::uint8_t> where(problem.y.size());
  const DeviceArray<float> y_argmax(problem.y.size());
  const dim3 forward_grid = tile_grid(s.p, s.q, s.n * s.c);
  forward_argmax<<<forward_grid, threads>>>(x.data(), y_argmax.data(), where.data(), s);
  R50_DEV_CHECK(cudaGetLastError());
  runner.check("argmax forward", y_argmax.to_host(), problem.y);
  dx.poison();
  backward_argmax<<<grid, threads>>>(where.data(), dy.data(), dx.data(), s);
  R50_DEV_CHECK(cudaGetLastError());
  runner.check("argmax NCHW", dx.to_host(), problem.dx);
  runner.measure("argmax NCHW", floats * (outputs + inputs) + outputs,  // dy, dx, the window positions
                 [&] { backward_argmax<<<grid, threads>>>(where.data(), dy.data(), dx.data(), s); });
  // What the argmax costs the forward: its byte per output, beside the product's forward.
  runner.measure("forward product", floats * (inputs + outputs), [&] {
    R50_DEV_CHECK(r50::kernels::max_pool2d_forward(x.data(), y_argmax.data(), r50::kernels::Storage::F32,
                                                   r50::kernels::Order::Nchw, s.n, s.c, s.h, s.w, s.p, s.q, s.kernel,
                                                   s.stride, s.padding, nullptr));
  });
  runner.measure("forward argmax", floats * (inputs + outputs) + outputs,
                 [&] { forward_argmax<<<forward_grid, threads>>>(x.data(), y_argmax.data(), where.data(), s); });
}

// The bf16 variants on `problem`, NHWC as in a channels-last step: the product's kernel and the stem variant.
void run_bf16(const Problem<std::uint16_t>& problem, Runner& runner) {
  const Pool& s = problem.shape;
  const r50::Layout nhwc = r50::Layout::ChannelsLast;
  const DeviceArray<std::uint16_t> x(transposed(problem.x, s, true, nhwc)), y(transposed(problem.y, s, false, nhwc)),
      dy(transposed(problem.dy, s, false, nhwc)), dx(problem.x.size());
  const auto* xs = reinterpret_cast<const __nv_bfloat16*>(x.data());
  const auto* ys = reinterpret_cast<const __nv_bfloat16*>(y.data());
  const auto* dys = reinterpret_cast<const __nv_bfloat16*>(dy.data());
  auto* dxs = reinterpret_cast<__nv_bfloat16*>(dx.data());
  const double bytes = 2.0 * 2 * (static_cast<double>(s.inputs()) + static_cast<double>(s.outputs()));
  const auto product = [&] {
    R50_DEV_CHECK(r50::kernels::max_pool2d_backward(xs, ys, dys, dxs, r50::kernels::Storage::BF16,
                                                    r50::kernels::Order::Nhwc, s.n, s.c, s.h, s.w, s.p, s.q, s.kernel,
                                                    s.stride, s.padding, nullptr));
  };
  dx.poison();
  product();
  runner.check("product NHWC bf16", transposed(dx.to_host(), s, true, r50::Layout::RowMajor), problem.dx);
  runner.measure("product NHWC bf16", bytes, product);
  if (stem_applies(s)) {
    dx.poison();
    launch_stem(true, xs, ys, dys, dxs, s);
    runner.check("stem NHWC bf16", transposed(dx.to_host(), s, true, r50::Layout::RowMajor), problem.dx);
    runner.measure("stem NHWC bf16", bytes, [&] { launch_stem(true, xs, ys, dys, dxs, s); });
  }
}

// The stem variant's threads replayed on the host over `problem`, in both orders: false when one differs.
template <typename T, typename Element>
bool replay_matches(const Problem<T>& problem, const char* precision) {
  const Pool& s = problem.shape;
  std::vector<Result> none;
  Runner runner(false, none);
  for (const bool nhwc : {false, true}) {
    // transpose_images converts both ways: to channels-last from row-major, and back.
    const auto in_order = [&](const std::vector<T>& values, bool input) {
      return nhwc ? transposed(values, s, input, r50::Layout::ChannelsLast) : values;
    };
    const std::vector<T> x = in_order(problem.x, true), y = in_order(problem.y, false),
                         dy = in_order(problem.dy, false);
    std::vector<T> dx(x.size());
    std::memset(dx.data(), 0xff, dx.size() * sizeof(T));  // a NaN: what the replay leaves unwritten shows
    replay_stem(nhwc, reinterpret_cast<const Element*>(x.data()), reinterpret_cast<const Element*>(y.data()),
                reinterpret_cast<const Element*>(dy.data()), reinterpret_cast<Element*>(dx.data()), s);
    const std::string name = std::string("replay ") + (nhwc ? "NHWC " : "NCHW ") + precision;
    runner.check(name.c_str(), nhwc ? transposed(dx, s, true, r50::Layout::RowMajor) : dx, problem.dx);
  }
  return runner.all_equal();
}

// The problems --check and --replay use: ties (x on 9 levels) and odd sizes, then the stem at batch 2.
std::vector<Problem<float>> check_problems() {
  std::vector<Problem<float>> problems;
  problems.push_back(make_problem({2, 5, 13, 11, 7, 6, 3, 2, 1}, 4));
  problems.push_back(make_problem({2, 64, 112, 112, 56, 56, 3, 2, 1}, 4));
  return problems;
}

}  // namespace

int main(int argc, char** argv) {
  bool check_only = false, replay_only = false;
  int batch = 64;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--check") == 0) {
      check_only = true;
    } else if (std::strcmp(argv[i], "--replay") == 0) {
      replay_only = true;
    } else if (std::strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
      batch = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: dev_max_pool2d_backward [--check | --replay] [--batch N]\n");
      return 2;
    }
  }
  if (replay_only) {
    bool equal = true;
    for (const Problem<float>& problem : check_problems()) {
      equal = replay_matches<float, float>(problem, "fp32") && equal;
      equal = replay_matches<std::uint16_t, __nv_bfloat16>(bf16_problem(problem), "bf16") && equal;
    }
    std::printf(equal ? "the stem variant's host replay equals the CPU backend\n"
                      : "the stem variant's host replay differs\n");
    return equal ? 0 : 1;
  }
  const r50::CudaProbe probe = r50::probe_cuda();
  if (probe.device_count == 0) {
    const char* required = std::getenv("R50_REQUIRE_GPU");
    if (required && std::strcmp(required, "1") == 0) {
      std::printf("R50_REQUIRE_GPU=1, and no GPU answered (%s)\n", probe.why_not.c_str());
      return 1;
    }
    std::printf("no GPU answers (%s): nothing checked or timed\n", probe.why_not.c_str());
    return 0;
  }
  std::printf("%s\n", probe.first_device_name.c_str());
  std::vector<Result> results;
  if (check_only) {
    Runner runner(false, results);
    for (const Problem<float>& problem : check_problems()) {
      run_f32(problem, runner);
      run_bf16(bf16_problem(problem), runner);
    }
    std::printf(runner.all_equal() ? "every variant equals the CPU backend\n" : "a variant differs\n");
    return runner.all_equal() ? 0 : 1;
  }
  const Pool stem{batch, 64, 112, 112, 56, 56, 3, 2, 1};
  Runner runner(true, results);
  const Problem<float> problem = make_problem(stem, 0);
  run_f32(problem, runner);
  run_bf16(bf16_problem(problem), runner);
  std::printf("\nResNet-50's stem max pool, batch %d (median of 21, L2 flushed before each):\n", batch);
  std::printf("%-20s %9s %9s\n", "variant", "ms", "GB/s");
  for (const Result& result : results) {
    std::printf("%-20s %9.3f %9.1f\n", result.variant.c_str(), result.ms, result.bytes / (result.ms * 1e6));
  }
  return runner.all_equal() ? 0 : 1;
}
