// defines: max_pool2d_forward, max_pool2d_backward, global_avg_pool_forward,
//          global_avg_pool_backward
//
// Pooling over the planes ([h, w] of one image and channel) of an NCHW or NHWC tensor. The order
// changes only where a plane's pixels lie (PlaneView) and how a flat index splits into plane and
// pixel; in NHWC, neighbouring threads take neighbouring channels of one pixel, so their loads
// and stores are coalesced.
// Max pooling into planes of [p, q] with a square window; padding never wins.
// - Forward: one thread per output element, 256-thread blocks striding over n·c·p·q.
// - Backward: one thread per dx element, 256-thread blocks striding over n·c·h·w. The thread
//   gathers from every output window that covers its element and takes that window's dy when its
//   element is the window's first match (x == y, row-major (h, w) order), found by rescanning the
//   window. No atomics: dx is written once, and the sum runs over windows in the CPU backend's
//   order, so the result is deterministic and equal to the CPU's, in either order. A window whose
//   maximum is NaN passes no gradient (NaN equals nothing), where torch sends it to the NaN; by
//   then the loss is NaN too, and the step's gradients mean nothing either way.
// Global average pooling:
// - Forward, NCHW: one warp per plane, 8 planes per 256-thread block; lanes sum in double (as the
//   CPU backend), a shuffle tree combines them, lane 0 divides by hw.
// - Forward, NHWC: 256-thread blocks of 32 channels × 8 pixel slices over one image, striding over
//   (image, group of 32 channels); each thread sums its slice in double, and thread (c, 0) adds the
//   8 slices in a fixed order and divides by hw.
// - Backward: one thread per dx element, 256-thread blocks striding over n·c·hw.
// Plane sizes (h·w, p·q) and channel counts fit in int; offsets of whole planes use 64 bits.
// Elements are float, __half or __nv_bfloat16 (T), read as float; results are computed in float
// (the average's sum in double) and rounded once when stored. Max pooling compares the values
// read, so its choices are those of fp32 on the same values.
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

// A plane of an [n, c, pixels] tensor: its first element and the distance between its pixels.
struct PlaneView {
  long long first;
  int step;
};

// Element i of an [n, c, pixels] tensor in order O: its plane (image·c + channel) and its pixel.
template <Order O>
__device__ void split(long long i, int channels, int pixels, long long* plane, int* pixel) {
  if (O == Order::Nchw) {
    *plane = i / pixels;  // i = plane·pixels + pixel
    *pixel = static_cast<int>(i - *plane * pixels);
  } else {
    const long long at = i / channels;  // i = (image·pixels + pixel)·channels + channel
    const long long image = at / pixels;
    *pixel = static_cast<int>(at - image * pixels);
    *plane = image * channels + (i - at * channels);
  }
}

// Plane `plane` (image·c + channel) of an [n, c, pixels] tensor in order O.
template <Order O>
__device__ PlaneView plane_view(long long plane, int channels, int pixels) {
  if (O == Order::Nchw) return {plane * pixels, 1};
  const long long image = plane / channels;
  return {image * pixels * channels + (plane - image * channels), channels};
}

template <Order O, typename T>
__global__ void max_pool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y,
                                          long long total, int channels, PoolShape s) {
  for (long long o = blockIdx.x * (long long)blockDim.x + threadIdx.x; o < total;
       o += (long long)gridDim.x * blockDim.x) {
    long long plane;
    int r;
    split<O>(o, channels, s.p * s.q, &plane, &r);
    const Window win = window(r / s.q, r % s.q, s);
    const PlaneView in = plane_view<O>(plane, channels, s.h * s.w);
    float best = -INFINITY;
    for (int hh = win.h_begin; hh < win.h_end; ++hh) {
      for (int ww = win.w_begin; ww < win.w_end; ++ww) {
        const float value = to_float(x[in.first + (long long)(hh * s.w + ww) * in.step]);
        if (value > best || isnan(value)) best = value;  // a NaN propagates, as in torch
      }
    }
    y[o] = from_float<T>(best);
  }
}

// Pixel (hh·w + ww) of the first value in the window, row-major, equal to best.
template <typename T>
__device__ int first_match(const T* x, const PlaneView& in, const Window& win, int w, float best) {
  for (int hh = win.h_begin; hh < win.h_end; ++hh) {
    for (int ww = win.w_begin; ww < win.w_end; ++ww) {
      if (to_float(x[in.first + (long long)(hh * w + ww) * in.step]) == best) return hh * w + ww;
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

template <Order O, typename T>
__global__ void max_pool2d_backward_kernel(const T* __restrict__ x, const T* __restrict__ y,
                                           const T* __restrict__ dy, T* __restrict__ dx,
                                           long long total, int channels, PoolShape s) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    long long plane;
    int r;
    split<O>(i, channels, s.h * s.w, &plane, &r);
    const int hh = r / s.w, ww = r % s.w;
    const PlaneView in = plane_view<O>(plane, channels, s.h * s.w);
    const PlaneView out = plane_view<O>(plane, channels, s.p * s.q);
    const float value = to_float(x[i]);
    int row_begin, row_end, col_begin, col_end;
    covering_outputs(hh, s.kernel, s.stride, s.padding, s.p, &row_begin, &row_end);
    covering_outputs(ww, s.kernel, s.stride, s.padding, s.q, &col_begin, &col_end);
    float sum = 0.0f;
    for (int row = row_begin; row < row_end; ++row) {
      for (int col = col_begin; col < col_end; ++col) {
        const long long at = out.first + (long long)(row * s.q + col) * out.step;
        const float best = to_float(y[at]);
        // Only a value equal to the window's maximum can be its first match; most are not, so
        // the rescan is rare.
        if (value == best && first_match(x, in, window(row, col, s), s.w, best) == r) {
          sum += to_float(dy[at]);
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

// Channels per block and pixel slices per channel of the NHWC forward.
constexpr int kChannelsPerBlock = 32;
constexpr int kSlices = kThreads / kChannelsPerBlock;

template <typename T>
__global__ void global_avg_pool_forward_nhwc_kernel(const T* __restrict__ x, T* __restrict__ y,
                                                    long long images, int channels, long long hw) {
  __shared__ double partial[kSlices][kChannelsPerBlock];
  const int lane = threadIdx.x % kChannelsPerBlock, slice = threadIdx.x / kChannelsPerBlock;
  const int groups = (channels + kChannelsPerBlock - 1) / kChannelsPerBlock;
  // Block-stride loop over (image, channel group); the bound is the same for the whole block, so
  // every thread reaches the barriers.
  for (long long tile = blockIdx.x; tile < images * groups; tile += gridDim.x) {
    const long long image = tile / groups;
    const int c = static_cast<int>(tile - image * groups) * kChannelsPerBlock + lane;
    double sum = 0.0;
    if (c < channels) {
      const T* in = x + image * hw * channels + c;  // pixel i of the channel at in[i·channels]
      for (long long i = slice; i < hw; i += kSlices) sum += to_float(in[i * channels]);
    }
    partial[slice][lane] = sum;
    __syncthreads();
    if (slice == 0 && c < channels) {
      for (int k = 1; k < kSlices; ++k) sum += partial[k][lane];
      y[image * channels + c] =
          from_float<T>(hw > 0 ? static_cast<float>(sum / static_cast<double>(hw)) : 0.0f);
    }
    __syncthreads();  // the next tile overwrites partial
  }
}

template <Order O, typename T>
__global__ void global_avg_pool_backward_kernel(const T* __restrict__ dy, T* __restrict__ dx,
                                                long long total, int channels, long long hw) {
  // Float division by hw is correctly rounded like the CPU backend's double division (hw is exact
  // in float below 2^24), without a slow double division per element.
  const float values = static_cast<float>(hw);
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    // NCHW: i = plane·hw + pixel; NHWC: i = (image·hw + pixel)·channels + channel.
    const long long plane =
        O == Order::Nchw ? i / hw : i / (hw * channels) * channels + i % channels;
    dx[i] = from_float<T>(to_float(dy[plane]) / values);
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

cudaError_t max_pool2d_forward(const void* x, void* y, Storage storage, Order order, int n, int c,
                               int h, int w, int p, int q, int kernel, int stride, int padding,
                               cudaStream_t stream) {
  const long long total = static_cast<long long>(n) * c * p * q;
  if (n <= 0 || c <= 0 || p <= 0 || q <= 0) return cudaSuccess;
  if (const cudaError_t status = check_pool_shape(h, w, p, q, kernel, stride, padding);
      status != cudaSuccess) {
    return status;
  }
  const PoolShape shape{h, w, p, q, kernel, stride, padding};
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    const auto* in = static_cast<const T*>(x);
    auto* out = static_cast<T*>(y);
    if (order == Order::Nhwc) {
      max_pool2d_forward_kernel<Order::Nhwc><<<grid_blocks(total), kThreads, 0, stream>>>(
          in, out, total, c, shape);
    } else {
      max_pool2d_forward_kernel<Order::Nchw><<<grid_blocks(total), kThreads, 0, stream>>>(
          in, out, total, c, shape);
    }
    return cudaGetLastError();
  });
}

cudaError_t max_pool2d_backward(const void* x, const void* y, const void* dy, void* dx,
                                Storage storage, Order order, int n, int c, int h, int w, int p,
                                int q, int kernel, int stride, int padding, cudaStream_t stream) {
  // p or q of 0 still has a dx to clear, so only the input's size decides.
  const long long total = static_cast<long long>(n) * c * h * w;
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0) return cudaSuccess;
  if (const cudaError_t status = check_pool_shape(h, w, p, q, kernel, stride, padding);
      status != cudaSuccess) {
    return status;
  }
  const PoolShape shape{h, w, p, q, kernel, stride, padding};
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    const auto* x_in = static_cast<const T*>(x);
    const auto* y_in = static_cast<const T*>(y);
    const auto* dy_in = static_cast<const T*>(dy);
    auto* dx_out = static_cast<T*>(dx);
    if (order == Order::Nhwc) {
      max_pool2d_backward_kernel<Order::Nhwc><<<grid_blocks(total), kThreads, 0, stream>>>(
          x_in, y_in, dy_in, dx_out, total, c, shape);
    } else {
      max_pool2d_backward_kernel<Order::Nchw><<<grid_blocks(total), kThreads, 0, stream>>>(
          x_in, y_in, dy_in, dx_out, total, c, shape);
    }
    return cudaGetLastError();
  });
}

cudaError_t global_avg_pool_forward(const void* x, void* y, Storage storage, Order order, int n,
                                    int c, std::int64_t hw, cudaStream_t stream) {
  // An empty plane still has an output (0, as the CPU backend writes), so only n·c decides.
  if (n <= 0 || c <= 0) return cudaSuccess;
  const long long planes = static_cast<long long>(n) * c;
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    const auto* in = static_cast<const T*>(x);
    auto* out = static_cast<T*>(y);
    if (order == Order::Nhwc) {
      const long long tiles = n * ((c + kChannelsPerBlock - 1LL) / kChannelsPerBlock);
      global_avg_pool_forward_nhwc_kernel<<<grid_blocks(tiles, 1), kThreads, 0, stream>>>(
          in, out, n, c, hw);
    } else {
      global_avg_pool_forward_kernel<<<grid_blocks(planes, kWarpsPerBlock), kThreads, 0, stream>>>(
          in, out, planes, hw);
    }
    return cudaGetLastError();
  });
}

cudaError_t global_avg_pool_backward(const void* dy, void* dx, Storage storage, Order order, int n,
                                     int c, std::int64_t hw, cudaStream_t stream) {
  if (n <= 0 || c <= 0 || hw <= 0) return cudaSuccess;
  const long long total = static_cast<long long>(n) * c * hw;
  return with_element_type(storage, [&](auto zero) {
    using T = decltype(zero);
    const auto* in = static_cast<const T*>(dy);
    auto* out = static_cast<T*>(dx);
    if (order == Order::Nhwc) {
      global_avg_pool_backward_kernel<Order::Nhwc><<<grid_blocks(total), kThreads, 0, stream>>>(
          in, out, total, c, hw);
    } else {
      global_avg_pool_backward_kernel<Order::Nchw><<<grid_blocks(total), kThreads, 0, stream>>>(
          in, out, total, c, hw);
    }
    return cudaGetLastError();
  });
}

}  // namespace r50::kernels
