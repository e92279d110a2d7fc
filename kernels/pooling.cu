// defines: max_pool2d_forward, max_pool2d_backward, global_avg_pool_forward,
//          global_avg_pool_backward
//
// Max pooling over planes of [h, w] into [p, q] with a square window; padding never wins.
// - Forward: one thread per output element, 256-thread blocks striding over planes·p·q.
// - Backward: one thread per dx element, 256-thread blocks striding over planes·h·w. The thread
//   gathers from every output window that covers its element and takes that window's dy when its
//   element is the window's first match (x == y, row-major order), found by rescanning the
//   window. No atomics: dx is written once, and the sum runs over windows in the CPU backend's
//   order, so the result is deterministic and equal to the CPU's.
// Global average pooling:
// - Forward: one warp per plane, 8 planes per 256-thread block; lanes sum in double (as the CPU
//   backend), a shuffle tree combines them, lane 0 divides by hw.
// - Backward: one thread per dx element, 256-thread blocks striding over planes·hw.
// Plane sizes (h·w, p·q) fit in int; offsets of whole planes use 64 bits. Elements are float,
// __half or __nv_bfloat16 (T), read as float; results are computed in float (the average's sum in
// double) and rounded once when stored. Max pooling compares the values read, so its choices are
// those of fp32 on the same values.
#include <climits>
#include <cmath>

#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

struct PoolShape {
  int h, w, p, q, kernel, stride, padding;
};

// The part of output (row, col)'s window inside the input, [h_begin, h_end) × [w_begin, w_end).
struct Window {
  int h_begin, h_end, w_begin, w_end;
};

__device__ Window window(int row, int col, const PoolShape& s) {
  const int h0 = row * s.stride - s.padding, w0 = col * s.stride - s.padding;
  return {max(h0, 0), min(h0 + s.kernel, s.h), max(w0, 0), min(w0 + s.kernel, s.w)};
}

template <typename T>
__global__ void max_pool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y,
                                          long long total, PoolShape s) {
  const int out_plane = s.p * s.q;
  for (long long o = blockIdx.x * (long long)blockDim.x + threadIdx.x; o < total;
       o += (long long)gridDim.x * blockDim.x) {
    const long long plane = o / out_plane;  // o = plane·p·q + row·q + col
    const int r = static_cast<int>(o - plane * out_plane);
    const Window win = window(r / s.q, r % s.q, s);
    const T* in = x + plane * s.h * s.w;
    float best = -INFINITY;
    for (int hh = win.h_begin; hh < win.h_end; ++hh) {
      for (int ww = win.w_begin; ww < win.w_end; ++ww) {
        const float value = to_float(in[hh * s.w + ww]);
        if (value > best || isnan(value)) best = value;  // a NaN propagates, as in torch
      }
    }
    y[o] = from_float<T>(best);
  }
}

// Position (hh·w + ww) of the first value in the window, row-major, equal to best.
template <typename T>
__device__ int first_match(const T* in, const Window& win, int w, float best) {
  for (int hh = win.h_begin; hh < win.h_end; ++hh) {
    for (int ww = win.w_begin; ww < win.w_end; ++ww) {
      if (to_float(in[hh * w + ww]) == best) return hh * w + ww;
    }
  }
  return -1;
}

// The output indices along one axis whose windows cover input position `at`: those with
// out·stride - padding <= at < out·stride - padding + kernel, clipped to [0, outputs).
__device__ void covering_outputs(int at, int kernel, int stride, int padding, int outputs,
                                 int* begin, int* end) {
  const int lowest = at + padding - kernel + 1;  // out·stride must reach at least this
  *begin = lowest <= 0 ? 0 : (lowest + stride - 1) / stride;
  *end = min(outputs, (at + padding) / stride + 1);
}

template <typename T>
__global__ void max_pool2d_backward_kernel(const T* __restrict__ x, const T* __restrict__ y,
                                           const T* __restrict__ dy, T* __restrict__ dx,
                                           long long total, PoolShape s) {
  const int in_plane = s.h * s.w, out_plane = s.p * s.q;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    const long long plane = i / in_plane;  // i = plane·h·w + hh·w + ww
    const int r = static_cast<int>(i - plane * in_plane);
    const int hh = r / s.w, ww = r % s.w;
    const T* in = x + plane * in_plane;
    const T* out = y + plane * out_plane;
    const T* grad = dy + plane * out_plane;
    const float value = to_float(in[r]);
    int row_begin, row_end, col_begin, col_end;
    covering_outputs(hh, s.kernel, s.stride, s.padding, s.p, &row_begin, &row_end);
    covering_outputs(ww, s.kernel, s.stride, s.padding, s.q, &col_begin, &col_end);
    float sum = 0.0f;
    for (int row = row_begin; row < row_end; ++row) {
      for (int col = col_begin; col < col_end; ++col) {
        const float best = to_float(out[row * s.q + col]);
        // Only a value equal to the window's maximum can be its first match; most are not, so
        // the rescan is rare.
        if (value == best && first_match(in, window(row, col, s), s.w, best) == r) {
          sum += to_float(grad[row * s.q + col]);
        }
      }
    }
    dx[i] = from_float<T>(sum);
  }
}

constexpr int kWarpsPerBlock = kThreads / 32;

template <typename T>
__global__ void global_avg_pool_forward_kernel(const T* __restrict__ x, T* __restrict__ y,
                                               long long planes, long long hw) {
  const int lane = threadIdx.x % 32;
  // Warp-stride loop over planes; the bound is the same for the whole warp, so the shuffles in
  // warp_reduce see every lane.
  for (long long plane = blockIdx.x * (long long)kWarpsPerBlock + threadIdx.x / 32; plane < planes;
       plane += (long long)gridDim.x * kWarpsPerBlock) {
    const T* in = x + plane * hw;
    double sum = 0.0;
    for (long long i = lane; i < hw; i += 32) sum += to_float(in[i]);
    sum = warp_reduce(sum, Sum{});
    if (lane == 0) {
      y[plane] = from_float<T>(hw > 0 ? static_cast<float>(sum / static_cast<double>(hw)) : 0.0f);
    }
  }
}

template <typename T>
__global__ void global_avg_pool_backward_kernel(const T* __restrict__ dy, T* __restrict__ dx,
                                                long long total, long long hw) {
  // Float division by hw is correctly rounded like the CPU backend's double division (hw is exact
  // in float below 2^24), without a slow double division per element.
  const float values = static_cast<float>(hw);
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    dx[i] = from_float<T>(to_float(dy[i / hw]) / values);  // i = plane·hw + offset
  }
}

// A window that cannot be walked, or planes too large for the int arithmetic inside a plane.
cudaError_t check_pool_shape(int h, int w, int p, int q, int kernel, int stride, int padding) {
  const bool walkable = kernel > 0 && stride > 0 && padding >= 0;
  const bool int_planes =
      static_cast<long long>(h) * w <= INT_MAX && static_cast<long long>(p) * q <= INT_MAX;
  return walkable && int_planes ? cudaSuccess : cudaErrorInvalidValue;
}

}  // namespace

cudaError_t max_pool2d_forward(const void* x, void* y, Storage storage, std::int64_t planes, int h,
                               int w, int p, int q, int kernel, int stride, int padding,
                               cudaStream_t stream) {
  const long long total = planes * p * q;
  if (planes <= 0 || p <= 0 || q <= 0) return cudaSuccess;
  if (const cudaError_t status = check_pool_shape(h, w, p, q, kernel, stride, padding);
      status != cudaSuccess) {
    return status;
  }
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    max_pool2d_forward_kernel<<<grid_blocks(total), kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<T*>(y), total,
        PoolShape{h, w, p, q, kernel, stride, padding});
    return cudaGetLastError();
  });
}

cudaError_t max_pool2d_backward(const void* x, const void* y, const void* dy, void* dx,
                                Storage storage, std::int64_t planes, int h, int w, int p, int q,
                                int kernel, int stride, int padding, cudaStream_t stream) {
  // p or q of 0 still has a dx to clear, so only the input's size decides.
  const long long total = planes * h * w;
  if (planes <= 0 || h <= 0 || w <= 0) return cudaSuccess;
  if (const cudaError_t status = check_pool_shape(h, w, p, q, kernel, stride, padding);
      status != cudaSuccess) {
    return status;
  }
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    max_pool2d_backward_kernel<<<grid_blocks(total), kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(y), static_cast<const T*>(dy),
        static_cast<T*>(dx), total, PoolShape{h, w, p, q, kernel, stride, padding});
    return cudaGetLastError();
  });
}

cudaError_t global_avg_pool_forward(const void* x, void* y, Storage storage, std::int64_t planes,
                                    std::int64_t hw, cudaStream_t stream) {
  // An empty plane still has an output (0, as the CPU backend writes), so only planes decides.
  if (planes <= 0) return cudaSuccess;
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    global_avg_pool_forward_kernel<<<grid_blocks(planes, kWarpsPerBlock), kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<T*>(y), planes, hw);
    return cudaGetLastError();
  });
}

cudaError_t global_avg_pool_backward(const void* dy, void* dx, Storage storage,
                                     std::int64_t planes, std::int64_t hw, cudaStream_t stream) {
  if (planes <= 0 || hw <= 0) return cudaSuccess;
  const long long total = planes * hw;
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    global_avg_pool_backward_kernel<<<grid_blocks(total), kThreads, 0, stream>>>(
        static_cast<const T*>(dy), static_cast<T*>(dx), total, hw);
    return cudaGetLastError();
  });
}

}  // namespace r50::kernels
