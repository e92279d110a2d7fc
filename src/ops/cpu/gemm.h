// defines: sgemm
#pragma once

#include <cstdint>

namespace r50 {

// Row-major single-precision GEMM: C [M, N] = alpha op(A) [M, K] · op(B) [K, N] + beta C, where
// op(A) is A [M, K] (leading dimension lda) or, with trans_a, the transpose of A [K, M]; likewise
// B. beta = 0 overwrites C without reading it, as BLAS does. OpenBLAS's cblas_sgemm when the build
// has R50_WITH_OPENBLAS, otherwise a cache-blocked OpenMP GEMM. Either way it threads itself
// (OpenBLAS's and OpenMP's process-wide thread counts): call it from outside parallel regions.
void sgemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
           const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
           std::int64_t ldc);

}  // namespace r50
