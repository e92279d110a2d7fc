// The fully connected layer as cuBLAS GEMMs. cuBLAS is column-major: a row-major matrix [R, C] is
// the column-major matrix [C, R], its transpose. So with x [N, IN], w [OUT, IN], y [N, OUT]:
//   y  = x·wᵀ   is  yᵀ [OUT, N]  = w·xᵀ       gemm(T, N) over w seen as [IN, OUT] and x as [IN, N]
//   dx = dy·w   is  dxᵀ [IN, N]  = wᵀ·dyᵀ     gemm(N, N)
//   dw = dyᵀ·x  is  dwᵀ [IN, OUT] = xᵀ·dy     gemm(N, T)
// and the bias enters as a rank-1 product with a vector of ones, its gradient as dyᵀ·ones.
// F32 goes to cublasSgemm and cublasSgemv with cuBLAS's default math: fp32 stays fp32 unless a
// precision mode asks otherwise. F16 and BF16 go to cublasGemmEx with fp32 sums (tensor cores),
// each output rounded once; their ones vector is in the same dtype, since cuBLAS takes both
// factors of a product in one type.
#include "ops/cuda/cublas_check.h"
#include "ops/cuda/cuda_backend.h"
#include "ops/op_checks.h"

namespace r50 {
namespace {

int as_int(std::int64_t value, const char* what) {
  R50_CHECK(value <= INT32_MAX, "linear: ", what, " ", value, " is beyond cuBLAS's 32-bit sizes");
  return static_cast<int>(value);
}

// C = op_a(A)·op_b(B) + beta·C, column-major as cuBLAS sees it, on F32 (cublasSgemm) or on F16 or
// BF16 matrices with fp32 sums (cublasGemmEx).
void gemm(cublasHandle_t handle, DType dtype, cublasOperation_t op_a, cublasOperation_t op_b,
          int m, int n, int k, const void* a, int lda, const void* b, int ldb, float beta, void* c,
          int ldc) {
  const float one = 1.0f;
  if (dtype == DType::F32) {
    R50_CUBLAS_CHECK(cublasSgemm(handle, op_a, op_b, m, n, k, &one, static_cast<const float*>(a),
                                 lda, static_cast<const float*>(b), ldb, &beta,
                                 static_cast<float*>(c), ldc));
    return;
  }
  const cudaDataType_t type = dtype == DType::F16 ? CUDA_R_16F : CUDA_R_16BF;
  R50_CUBLAS_CHECK(cublasGemmEx(handle, op_a, op_b, m, n, k, &one, a, type, lda, b, type, ldb,
                                &beta, c, type, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace

void CudaBackend::linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                                 const Tensor& y) {
  check_linear_forward(x, w, b, y, device());
  const int N = as_int(x.dim(0), "batch"), IN = as_int(x.dim(1), "inputs"),
            OUT = as_int(w.dim(0), "outputs");
  if (N == 0 || OUT == 0) return;
  const DType dtype = x.dtype();
  // yᵀ = b·onesᵀ, then yᵀ += w·xᵀ.
  gemm(cublas_, dtype, CUBLAS_OP_N, CUBLAS_OP_N, OUT, N, 1, b.data(), OUT, ones(N, dtype), 1, 0.0f,
       y.data(), OUT);
  if (IN == 0) return;
  gemm(cublas_, dtype, CUBLAS_OP_T, CUBLAS_OP_N, OUT, N, IN, w.data(), IN, x.data(), IN, 1.0f,
       y.data(), OUT);
}

void CudaBackend::linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy,
                                  const Tensor& dx, const Tensor& dw, const Tensor& db) {
  check_linear_backward(x, w, dy, dx, dw, db, device());
  const int N = as_int(x.dim(0), "batch"), IN = as_int(x.dim(1), "inputs"),
            OUT = as_int(w.dim(0), "outputs");
  const DType dtype = x.dtype();
  if (N == 0) {  // no rows: the gradients of the parameters are sums of nothing
    fill(dw, 0.0f);
    fill(db, 0.0f);
    return;
  }
  if (dx.defined() && OUT == 0) fill(dx, 0.0f);
  if (dx.defined() && IN > 0 && OUT > 0) {
    gemm(cublas_, dtype, CUBLAS_OP_N, CUBLAS_OP_N, IN, N, OUT, w.data(), IN, dy.data(), OUT, 0.0f,
         dx.data(), IN);
  }
  if (IN > 0 && OUT > 0) {
    gemm(cublas_, dtype, CUBLAS_OP_N, CUBLAS_OP_T, IN, OUT, N, x.data(), IN, dy.data(), OUT, 0.0f,
         dw.data(), IN);
  }
  if (OUT == 0) return;
  if (dtype == DType::F32) {
    const float one = 1.0f, zero = 0.0f;
    R50_CUBLAS_CHECK(cublasSgemv(cublas_, CUBLAS_OP_N, OUT, N, &one, dy.data_as<float>(), OUT,
                                 static_cast<const float*>(ones(N, dtype)), 1, &zero, db.data_as<float>(), 1));
    return;
  }
  // db [OUT, 1] = dyᵀ [OUT, N]·ones [N, 1]: cuBLAS has no half-precision gemv.
  gemm(cublas_, dtype, CUBLAS_OP_N, CUBLAS_OP_N, OUT, 1, N, dy.data(), OUT, ones(N, dtype), N, 0.0f,
       db.data(), OUT);
}

}  // namespace r50
