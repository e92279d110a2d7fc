// Convolutions as GEMMs, one image at a time. For image n, im2col unrolls x_n [C, H, W] into
// col [C·R·S, P·Q] (row (c, r, s) holds the input pixel each output position sees through tap
// (r, s), zero where the tap falls in the padding), so that
//   forward          y_n  [K, P·Q]   = w [K, C·R·S] · col
//   backward-data    col            = wᵀ · dy_n, then col2im adds each tap back into dx_n
//   backward-filter  dw [K, C·R·S]  += dy_n · colᵀ
// A 1×1 stride-1 unpadded convolution needs no unrolling: col is x_n itself.
#include <algorithm>
#include <cstdint>

#include "memory/buffer.h"
#include "ops/cpu/cpu_backend.h"
#include "ops/cpu/f32_staging.h"
#include "ops/cpu/gemm.h"

namespace r50 {
namespace {

struct ConvGeometry {
  std::int64_t N, C, H, W;  // input
  std::int64_t K, R, S;     // filter
  std::int64_t P, Q;        // output
  int stride, padding;

  std::int64_t col_rows() const { return C * R * S; }
  std::int64_t col_cols() const { return P * Q; }
  bool pointwise() const { return R == 1 && S == 1 && stride == 1 && padding == 0; }
};

ConvGeometry geometry(const Shape& x, const Shape& w, const Shape& y, const Conv2dParams& params) {
  return {x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3], params.stride, params.padding};
}

// Output columns q whose tap s lands inside the row: 0 <= q·stride - padding + s < W.
void valid_columns(const ConvGeometry& g, std::int64_t s, std::int64_t* begin, std::int64_t* end) {
  const std::int64_t offset = g.padding - s;  // iw = q·stride - offset
  *begin = offset > 0 ? std::min(g.Q, (offset + g.stride - 1) / g.stride) : 0;
  const std::int64_t last = g.W - 1 + offset;  // iw <= W - 1  <=>  q·stride <= last
  *end = last < 0 ? 0 : std::min(g.Q, last / g.stride + 1);
  *end = std::max(*begin, *end);
}

void im2col(const ConvGeometry& g, const float* x, float* col, int threads) {
  const std::int64_t rows = g.col_rows();
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t c = row / (g.R * g.S), r = row / g.S % g.R, s = row % g.S;
    const float* plane = x + c * g.H * g.W;
    std::int64_t q_begin, q_end;
    valid_columns(g, s, &q_begin, &q_end);
    for (std::int64_t p = 0; p < g.P; ++p) {
      float* out = col + row * g.col_cols() + p * g.Q;
      const std::int64_t ih = p * g.stride - g.padding + r;
      if (ih < 0 || ih >= g.H) {
        std::fill(out, out + g.Q, 0.0f);
        continue;
      }
      const float* in = plane + ih * g.W;
      const std::int64_t shift = s - g.padding;  // output q sees in[q·stride + shift]
      std::fill(out, out + q_begin, 0.0f);
      if (g.stride == 1) {
        std::copy(in + q_begin + shift, in + q_end + shift, out + q_begin);
      } else {
        for (std::int64_t q = q_begin; q < q_end; ++q) out[q] = in[q * g.stride + shift];
      }
      std::fill(out + q_end, out + g.Q, 0.0f);
    }
  }
}

// dx_n = the sum over taps of col, put back where im2col took it from. Channels are independent,
// so threads split them; within one channel, overlapping windows add into the same pixels.
void col2im(const ConvGeometry& g, const float* col, float* dx, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t c = 0; c < g.C; ++c) {
    float* plane = dx + c * g.H * g.W;
    std::fill(plane, plane + g.H * g.W, 0.0f);
    for (std::int64_t r = 0; r < g.R; ++r) {
      for (std::int64_t s = 0; s < g.S; ++s) {
        const float* rows = col + ((c * g.R + r) * g.S + s) * g.col_cols();
        std::int64_t q_begin, q_end;
        valid_columns(g, s, &q_begin, &q_end);
        for (std::int64_t p = 0; p < g.P; ++p) {
          const std::int64_t ih = p * g.stride - g.padding + r;
          if (ih < 0 || ih >= g.H) continue;
          const float* in = rows + p * g.Q;
          float* out = plane + ih * g.W;
          const std::int64_t shift = s - g.padding;
          for (std::int64_t q = q_begin; q < q_end; ++q) out[q * g.stride + shift] += in[q];
        }
      }
    }
  }
}

// Scratch for one image's columns; none for a pointwise convolution, whose columns are its input.
Buffer column_buffer(Allocator& allocator, const ConvGeometry& g) {
  return Buffer(allocator, g.pointwise() ? 0 : g.col_rows() * g.col_cols() * sizeof(float));
}

// The columns the GEMMs read for image x_n: x_n itself when pointwise, else im2col's unrolling.
const float* columns(const ConvGeometry& g, const float* x_n, const Buffer& col, int threads) {
  if (g.pointwise()) return x_n;
  im2col(g, x_n, static_cast<float*>(col.data()), threads);
  return static_cast<const float*>(col.data());
}

}  // namespace

void CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& y,
                                const Conv2dParams& params) {
  check_conv2d_forward(x, w, y, params, device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    conv2d_forward(f32.input(x), f32.input(w), f32.output(y), params);
    f32.finish();
    return;
  }
  const ConvGeometry g = geometry(x.shape(), w.shape(), y.shape(), params);
  const float* x_data = x.data_as<float>();
  float* y_data = y.data_as<float>();
  const Buffer col = column_buffer(allocator(), g);
  for (std::int64_t n = 0; n < g.N; ++n) {
    const float* cols = columns(g, x_data + n * g.C * g.H * g.W, col, threads());
    sgemm(false, false, g.K, g.col_cols(), g.col_rows(), 1.0f, w.data_as<float>(), g.col_rows(),
          cols, g.col_cols(), 0.0f, y_data + n * g.K * g.P * g.Q, g.col_cols(), threads());
  }
}

void CpuBackend::conv2d_backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx,
                                      const Conv2dParams& params, bool accumulate) {
  check_conv2d_backward_data(dy, w, dx, params, device());
  if (F32Staging::needed(dx, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    conv2d_backward_data(f32.input(dy), f32.input(w), accumulate ? f32.input_output(dx) : f32.output(dx), params,
                         accumulate);
    f32.finish();
    return;
  }
  if (accumulate) {
    // Made apart and added, rounded as a separate add rounds it: the model's fused and unfused
    // backward passes agree bit for bit here, which makes this backend their oracle.
    const OwnedTensor result(allocator(), dx.shape(), DType::F32, device());
    conv2d_backward_data(dy, w, result, params, false);
    add(dx, result, dx);
    return;
  }
  const ConvGeometry g = geometry(dx.shape(), w.shape(), dy.shape(), params);
  const float* dy_data = dy.data_as<float>();
  float* dx_data = dx.data_as<float>();
  const Buffer col = column_buffer(allocator(), g);
  for (std::int64_t n = 0; n < g.N; ++n) {
    const float* dy_n = dy_data + n * g.K * g.P * g.Q;
    float* dx_n = dx_data + n * g.C * g.H * g.W;
    float* cols = g.pointwise() ? dx_n : static_cast<float*>(col.data());
    sgemm(true, false, g.col_rows(), g.col_cols(), g.K, 1.0f, w.data_as<float>(), g.col_rows(),
          dy_n, g.col_cols(), 0.0f, cols, g.col_cols(), threads());
    if (!g.pointwise()) col2im(g, cols, dx_n, threads());
  }
}

void CpuBackend::conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                                        const Conv2dParams& params) {
  check_conv2d_backward_filter(x, dy, dw, params, device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    conv2d_backward_filter(f32.input(x), f32.input(dy), f32.output(dw), params);
    f32.finish();
    return;
  }
  const ConvGeometry g = geometry(x.shape(), dw.shape(), dy.shape(), params);
  const float* x_data = x.data_as<float>();
  const float* dy_data = dy.data_as<float>();
  float* dw_data = dw.data_as<float>();
  if (g.N == 0) fill(dw, 0.0f);
  const Buffer col = column_buffer(allocator(), g);
  for (std::int64_t n = 0; n < g.N; ++n) {
    const float* cols = columns(g, x_data + n * g.C * g.H * g.W, col, threads());
    // The first image overwrites dw, the others accumulate into it.
    sgemm(false, true, g.K, g.col_rows(), g.col_cols(), 1.0f, dy_data + n * g.K * g.P * g.Q,
          g.col_cols(), cols, g.col_cols(), n == 0 ? 0.0f : 1.0f, dw_data, g.col_rows(), threads());
  }
}

}  // namespace r50
