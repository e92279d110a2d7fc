// Max pooling and global average pooling over x [N, C, H, W], one (n, c) plane per OpenMP
// iteration: planes are independent, and a plane's backward writes only its own dx plane.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ops/cpu/cpu_backend.h"
#include "ops/cpu/f32_staging.h"

namespace r50 {
namespace {

// The part of output (p, q)'s window inside the input, [h_begin, h_end) × [w_begin, w_end); the
// rest of the window is padding, which never wins.
struct Window {
  std::int64_t h_begin, h_end, w_begin, w_end;
};

Window window(std::int64_t p, std::int64_t q, std::int64_t H, std::int64_t W,
              const Pool2dParams& params) {
  const std::int64_t h0 = p * params.stride - params.padding;
  const std::int64_t w0 = q * params.stride - params.padding;
  return {std::max<std::int64_t>(h0, 0), std::min<std::int64_t>(h0 + params.kernel, H),
          std::max<std::int64_t>(w0, 0), std::min<std::int64_t>(w0 + params.kernel, W)};
}

}  // namespace

void CpuBackend::max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& params) {
  check_max_pool2d_forward(x, y, params, device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    max_pool2d_forward(f32.input(x), f32.output(y), params);
    f32.finish();
    return;
  }
  const std::int64_t planes = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3);
  const std::int64_t P = y.dim(2), Q = y.dim(3);
  const float* x_data = x.data_as<float>();
  float* y_data = y.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t plane = 0; plane < planes; ++plane) {
    const float* in = x_data + plane * H * W;
    float* out = y_data + plane * P * Q;
    for (std::int64_t p = 0; p < P; ++p) {
      for (std::int64_t q = 0; q < Q; ++q) {
        const Window win = window(p, q, H, W, params);
        float best = -std::numeric_limits<float>::infinity();
        for (std::int64_t h = win.h_begin; h < win.h_end; ++h) {
          for (std::int64_t w = win.w_begin; w < win.w_end; ++w) {
            const float value = in[h * W + w];
            if (value > best || std::isnan(value)) best = value;  // a NaN propagates, as in torch
          }
        }
        out[p * Q + q] = best;
      }
    }
  }
}

void CpuBackend::max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& dy,
                                     const Tensor& dx, const Pool2dParams& params) {
  check_max_pool2d_backward(x, y, dy, dx, params, device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    max_pool2d_backward(f32.input(x), f32.input(y), f32.input(dy), f32.output(dx), params);
    f32.finish();
    return;
  }
  const std::int64_t planes = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3);
  const std::int64_t P = y.dim(2), Q = y.dim(3);
  const float* x_data = x.data_as<float>();
  const float* y_data = y.data_as<float>();
  const float* dy_data = dy.data_as<float>();
  float* dx_data = dx.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t plane = 0; plane < planes; ++plane) {
    const float* in = x_data + plane * H * W;
    const float* out = y_data + plane * P * Q;
    const float* grad = dy_data + plane * P * Q;
    float* grad_in = dx_data + plane * H * W;
    std::fill(grad_in, grad_in + H * W, 0.0f);
    for (std::int64_t p = 0; p < P; ++p) {
      for (std::int64_t q = 0; q < Q; ++q) {
        const Window win = window(p, q, H, W, params);
        const float best = out[p * Q + q];
        bool found = false;
        for (std::int64_t h = win.h_begin; h < win.h_end && !found; ++h) {
          for (std::int64_t w = win.w_begin; w < win.w_end && !found; ++w) {
            if (in[h * W + w] == best) {
              grad_in[h * W + w] += grad[p * Q + q];
              found = true;
            }
          }
        }
      }
    }
  }
}

void CpuBackend::global_avg_pool_forward(const Tensor& x, const Tensor& y) {
  check_global_avg_pool_forward(x, y, device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    global_avg_pool_forward(f32.input(x), f32.output(y));
    f32.finish();
    return;
  }
  const std::int64_t planes = x.dim(0) * x.dim(1), HW = x.dim(2) * x.dim(3);
  const float* x_data = x.data_as<float>();
  float* y_data = y.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t plane = 0; plane < planes; ++plane) {
    const float* in = x_data + plane * HW;
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (std::int64_t i = 0; i < HW; ++i) sum += in[i];
    y_data[plane] = HW ? static_cast<float>(sum / static_cast<double>(HW)) : 0.0f;
  }
}

void CpuBackend::global_avg_pool_backward(const Tensor& dy, const Tensor& dx) {
  check_global_avg_pool_backward(dy, dx, device());
  if (F32Staging::needed(dx, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    global_avg_pool_backward(f32.input(dy), f32.output(dx));
    f32.finish();
    return;
  }
  const std::int64_t planes = dx.dim(0) * dx.dim(1), HW = dx.dim(2) * dx.dim(3);
  const float* dy_data = dy.data_as<float>();
  float* dx_data = dx.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t plane = 0; plane < planes; ++plane) {
    const float share = static_cast<float>(dy_data[plane] / static_cast<double>(HW));
    std::fill(dx_data + plane * HW, dx_data + (plane + 1) * HW, share);
  }
}

}  // namespace r50
