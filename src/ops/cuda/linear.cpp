// The fully connected layer as cuBLAS GEMMs. cuBLAS is column-major: a row-major matrix [R, C] is
// the column-major matrix [C, R], its transpose. So with x [N, IN], w [OUT, IN], y [N, OUT]:
//   y  = x·wᵀ   is  yᵀ [OUT, N]  = w·xᵀ       gemm(T, N) over w seen as [IN, OUT] and x as [IN, N]
//   dx = dy·w   is  dxᵀ [IN, N]  = wᵀ·dyᵀ     gemm(N, N)
//   dw = dyᵀ·x  is  dwᵀ [IN, OUT] = xᵀ·dy     gemm(N, T)
// and the bias enters as a rank-1 product with a vector of ones, its gradient as dyᵀ·ones.
// cuBLAS keeps its default math: fp32 stays fp32 unless a precision mode asks otherwise.
#include "ops/cuda/cublas_check.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

int as_int(std::int64_t value, const char* what) {
  R50_CHECK(value <= INT32_MAX, "linear: ", what, " ", value, " is beyond cuBLAS's 32-bit sizes");
  return static_cast<int>(value);
}

}  // namespace

void CudaBackend::linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                                 const Tensor& y) {
  check_linear_forward(x, w, b, y, device());
  const int N = as_int(x.dim(0), "batch"), IN = as_int(x.dim(1), "inputs"),
            OUT = as_int(w.dim(0), "outputs");
  if (N == 0 || OUT == 0) return;
  const float one = 1.0f, zero = 0.0f;
  // yᵀ = b·onesᵀ, then yᵀ += w·xᵀ.
  R50_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, OUT, N, 1, &one, b.data_as<float>(),
                               OUT, ones(N), 1, &zero, y.data_as<float>(), OUT));
  if (IN == 0) return;
  R50_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, OUT, N, IN, &one, w.data_as<float>(),
                               IN, x.data_as<float>(), IN, &one, y.data_as<float>(), OUT));
}

void CudaBackend::linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy,
                                  const Tensor& dx, const Tensor& dw, const Tensor& db) {
  check_linear_backward(x, w, dy, dx, dw, db, device());
  const int N = as_int(x.dim(0), "batch"), IN = as_int(x.dim(1), "inputs"),
            OUT = as_int(w.dim(0), "outputs");
  const float one = 1.0f, zero = 0.0f;
  if (N == 0) {  // no rows: the gradients of the parameters are sums of nothing
    fill(dw, 0.0f);
    fill(db, 0.0f);
    return;
  }
  if (dx.defined() && OUT == 0) fill(dx, 0.0f);
  if (dx.defined() && IN > 0 && OUT > 0) {
    R50_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, IN, N, OUT, &one,
                                 w.data_as<float>(), IN, dy.data_as<float>(), OUT, &zero,
                                 dx.data_as<float>(), IN));
  }
  if (IN > 0 && OUT > 0) {
    R50_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_T, IN, OUT, N, &one,
                                 x.data_as<float>(), IN, dy.data_as<float>(), OUT, &zero,
                                 dw.data_as<float>(), IN));
  }
  if (OUT > 0) {
    R50_CUBLAS_CHECK(cublasSgemv(cublas_, CUBLAS_OP_N, OUT, N, &one, dy.data_as<float>(), OUT,
                                 ones(N), 1, &zero, db.data_as<float>(), 1));
  }
}

}  // namespace r50
