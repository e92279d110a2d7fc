// The fully connected layer as GEMMs over row-major x [N, IN] and w [OUT, IN].
#include <cstdint>

#include "ops/cpu/cpu_backend.h"
#include "ops/cpu/f32_staging.h"
#include "ops/cpu/gemm.h"

namespace r50 {

void CpuBackend::linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                                const Tensor& y) {
  check_linear_forward(x, w, b, y, device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    linear_forward(f32.input(x), f32.input(w), f32.input(b), f32.output(y));
    f32.finish();
    return;
  }
  const std::int64_t N = x.dim(0), IN = x.dim(1), OUT = w.dim(0);
  const float* bias = b.data_as<float>();
  float* y_data = y.data_as<float>();
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t o = 0; o < OUT; ++o) y_data[n * OUT + o] = bias[o];
  }
  sgemm(false, true, N, OUT, IN, 1.0f, x.data_as<float>(), IN, w.data_as<float>(), IN, 1.0f, y_data,
        OUT, threads());
}

void CpuBackend::linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy,
                                 const Tensor& dx, const Tensor& dw, const Tensor& db) {
  check_linear_backward(x, w, dy, dx, dw, db, device());
  if (F32Staging::needed(x, F32Staging::Order::RowMajor)) {
    F32Staging f32(allocator_, F32Staging::Order::RowMajor);
    linear_backward(f32.input(x), f32.input(w), f32.input(dy), f32.output(dx), f32.output(dw), f32.output(db));
    f32.finish();
    return;
  }
  const std::int64_t N = x.dim(0), IN = x.dim(1), OUT = w.dim(0);
  const float* dy_data = dy.data_as<float>();
  if (dx.defined()) {
    sgemm(false, false, N, IN, OUT, 1.0f, dy_data, OUT, w.data_as<float>(), IN, 0.0f,
          dx.data_as<float>(), IN, threads());
  }
  sgemm(true, false, OUT, IN, N, 1.0f, dy_data, OUT, x.data_as<float>(), IN, 0.0f,
        dw.data_as<float>(), IN, threads());
  float* db_data = db.data_as<float>();
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (std::int64_t o = 0; o < OUT; ++o) {
    double sum = 0.0;
    for (std::int64_t n = 0; n < N; ++n) sum += dy_data[n * OUT + o];
    db_data[o] = static_cast<float>(sum);
  }
}

}  // namespace r50
