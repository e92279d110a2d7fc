// usage: dev_max_pool2d_backward [--check] [--batch N]
//
// Variants of max pooling's backward on ResNet-50's stem (3×3 windows, stride 2, padding 1, 64
// channels of 112×112 into 56×56), each first checked bit for bit against the CPU backend's op,
// then timed (common.h) beside the product's kernel, NCHW and NHWC. The stem's backward is the op
// furthest from its roofline in a tf32 step (docs/performance.md); a variant replaces the
// product's only on these figures. --check runs the checks alone, on a small batch with ties
// between window values, and fails when a variant differs; a machine without a GPU says so and
// ends with nothing checked.
//
// Variants, all one thread per dx element, summing the dy of the windows that picked it in the
// same order (so every variant gives the same bits):
// - product: kernels::max_pool2d_backward (kernels/pooling.cu): a grid-stride loop over the flat
//   index, whose plane and pixel come from 64-bit divisions; a window's first maximum found by
//   rescanning it.
// - tile: 32×8 pixels of one plane per block, planes along the grid's z: 32-bit index arithmetic,
//   the same rescans.
// - argmax: the forward also writes, per output, where in its window the maximum was (one byte);
//   the backward compares that with its own position and reads neither x nor y. Its cost is the
//   forward's extra byte per output, timed beside the product's forward.
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

#include "common.h"
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

// x, y and dy on the host, and the CPU backend's dx: the reference every variant must equal.
struct Problem {
  Pool shape;
  std::vector<float> x, y, dy, dx;
};

// `levels` > 0 rounds x to that many values, so that windows hold ties.
Problem make_problem(const Pool& s, int levels) {
  Problem problem{s, std::vector<float>(s.inputs()), std::vector<float>(s.outputs()), std::vector<float>(s.outputs()),
                  std::vector<float>(s.inputs())};
  r50::Rng rng(7);
  for (float& value : problem.x) {
    value = static_cast<float>(rng.uniform(-1.0, 1.0));
    if (levels > 0) value = std::round(value * levels) / levels;
  }
  for (float& value : problem.dy) value = static_cast<float>(rng.uniform(-1.0, 1.0));
  const std::unique_ptr<r50::Backend> cpu = r50::make_cpu_backend(0);
  const r50::Shape x_shape{s.n, s.c, s.h, s.w}, y_shape{s.n, s.c, s.p, s.q};
  const r50::Pool2dParams params{s.kernel, s.stride, s.padding};
  cpu->max_pool2d_forward(r50::Tensor(problem.x.data(), x_shape, r50::DType::F32),
                          r50::Tensor(problem.y.data(), y_shape, r50::DType::F32), params);
  cpu->max_pool2d_backward(r50::Tensor(problem.x.data(), x_shape, r50::DType::F32),
                           r50::Tensor(problem.y.data(), y_shape, r50::DType::F32),
                           r50::Tensor(problem.dy.data(), y_shape, r50::DType::F32),
                           r50::Tensor(problem.dx.data(), x_shape, r50::DType::F32), params);
  return problem;
}

std::vector<float> channels_last(const std::vector<float>& nchw, const Pool& s, bool input, r50::Layout to) {
  std::vector<float> out(nchw.size());
  const r50::Shape shape{s.n, s.c, input ? s.h : s.p, input ? s.w : s.q};
  r50::transpose_images(nchw.data(), out.data(), shape, sizeof(float), to);
  return out;
}

struct Result {
  std::string variant;
  float ms;
  double bytes;  // the fewest the variant must move
};

// Checks every variant on `problem`; with `timed`, times each. Returns false when one differs.
bool run(const Problem& problem, bool timed, std::vector<Result>& results) {
  const Pool& s = problem.shape;
  const DeviceArray<float> x(problem.x), y(problem.y), dy(problem.dy), dx(problem.x.size());
  const double floats = 4.0, inputs = static_cast<double>(s.inputs()), outputs = static_cast<double>(s.outputs());
  bool all_equal = true;
  const auto check = [&](const char* variant, const std::vector<float>& got, const std::vector<float>& want) {
    const std::size_t mismatches = count_mismatches(variant, got, want);
    std::printf("%-16s %s\n", variant,
                mismatches ? "DIFFERS from the CPU backend" : "equal to the CPU backend, bit for bit");
    all_equal = all_equal && mismatches == 0;
  };
  const auto measure = [&](const char* variant, double bytes, const std::function<void()>& launch) {
    if (timed) results.push_back({variant, time_kernel(launch), bytes});
  };
  const double product_bytes = floats * 2 * (inputs + outputs);  // x, y, dy, dx

  const auto product = [&](r50::kernels::Order order, const float* xs, const float* ys, const float* dys, float* dxs) {
    R50_DEV_CHECK(r50::kernels::max_pool2d_backward(xs, ys, dys, dxs, r50::kernels::Storage::F32, order, s.n, s.c,
                                                    s.h, s.w, s.p, s.q, s.kernel, s.stride, s.padding, nullptr));
  };
  dx.poison();
  product(r50::kernels::Order::Nchw, x.data(), y.data(), dy.data(), dx.data());
  check("product NCHW", dx.to_host(), problem.dx);
  measure("product NCHW", product_bytes,
       [&] { product(r50::kernels::Order::Nchw, x.data(), y.data(), dy.data(), dx.data()); });

  {
    const r50::Layout nhwc = r50::Layout::ChannelsLast;
    const DeviceArray<float> x_nhwc(channels_last(problem.x, s, true, nhwc)),
        y_nhwc(channels_last(problem.y, s, false, nhwc)), dy_nhwc(channels_last(problem.dy, s, false, nhwc));
    dx.poison();
    product(r50::kernels::Order::Nhwc, x_nhwc.data(), y_nhwc.data(), dy_nhwc.data(), dx.data());
    check("product NHWC", channels_last(dx.to_host(), s, true, r50::Layout::RowMajor), problem.dx);
    measure("product NHWC", product_bytes,
         [&] { product(r50::kernels::Order::Nhwc, x_nhwc.data(), y_nhwc.data(), dy_nhwc.data(), dx.data()); });
  }

  const dim3 threads(32, 8), grid = tile_grid(s.h, s.w, s.n * s.c);
  dx.poison();
  backward_tile<<<grid, threads>>>(x.data(), y.data(), dy.data(), dx.data(), s);
  R50_DEV_CHECK(cudaGetLastError());
  check("tile NCHW", dx.to_host(), problem.dx);
  measure("tile NCHW", product_bytes,
          [&] { backward_tile<<<grid, threads>>>(x.data(), y.data(), dy.data(), dx.data(), s); });

  const DeviceArray<std::uint8_t> where(problem.y.size());
  const DeviceArray<float> y_argmax(problem.y.size());
  const dim3 forward_grid = tile_grid(s.p, s.q, s.n * s.c);
  forward_argmax<<<forward_grid, threads>>>(x.data(), y_argmax.data(), where.data(), s);
  R50_DEV_CHECK(cudaGetLastError());
  check("argmax forward", y_argmax.to_host(), problem.y);
  dx.poison();
  backward_argmax<<<grid, threads>>>(where.data(), dy.data(), dx.data(), s);
  R50_DEV_CHECK(cudaGetLastError());
  check("argmax NCHW", dx.to_host(), problem.dx);
  measure("argmax NCHW", floats * (outputs + inputs) + outputs,  // dy, dx, the window positions
       [&] { backward_argmax<<<grid, threads>>>(where.data(), dy.data(), dx.data(), s); });
  // What the argmax costs the forward: its byte per output, beside the product's forward.
  measure("forward product", floats * (inputs + outputs), [&] {
    R50_DEV_CHECK(r50::kernels::max_pool2d_forward(x.data(), y_argmax.data(), r50::kernels::Storage::F32,
                                                   r50::kernels::Order::Nchw, s.n, s.c, s.h, s.w, s.p, s.q, s.kernel,
                                                   s.stride, s.padding, nullptr));
  });
  measure("forward argmax", floats * (inputs + outputs) + outputs,
       [&] { forward_argmax<<<forward_grid, threads>>>(x.data(), y_argmax.data(), where.data(), s); });
  return all_equal;
}

}  // namespace

int main(int argc, char** argv) {
  bool check_only = false;
  int batch = 64;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--check") == 0) {
      check_only = true;
    } else if (std::strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
      batch = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: dev_max_pool2d_backward [--check] [--batch N]\n");
      return 2;
    }
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
    // Ties (x on 9 levels) and odd sizes, then the stem at batch 2.
    const bool odd = run(make_problem({2, 5, 13, 11, 7, 6, 3, 2, 1}, 4), false, results);
    const bool stem = run(make_problem({2, 64, 112, 112, 56, 56, 3, 2, 1}, 4), false, results);
    std::printf(odd && stem ? "every variant equals the CPU backend\n" : "a variant differs\n");
    return odd && stem ? 0 : 1;
  }
  const Pool stem{batch, 64, 112, 112, 56, 56, 3, 2, 1};
  const bool equal = run(make_problem(stem, 0), true, results);
  std::printf("\nResNet-50's stem max pool, batch %d, fp32 (median of 21, L2 flushed before each):\n", batch);
  std::printf("%-16s %9s %9s\n", "variant", "ms", "GB/s");
  for (const Result& result : results) {
    std::printf("%-16s %9.3f %9.1f\n", result.variant.c_str(), result.ms, result.bytes / (result.ms * 1e6));
  }
  return equal ? 0 : 1;
}
