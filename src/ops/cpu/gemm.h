// defines: sgemm
#pragma once

#include <cstdint>

namespace r50 {

// Row-major single-precision GEMM: C [M, N] = alpha op(A) [M, K] · op(B) [K, N] + beta C, where
// op(A) is A [M, K] (leading dimension lda) or, with trans_a, the transpose of A [K, M]; likewise
// B. beta = 0 overwrites C without reading it, as BLAS does. Single-threaded OpenBLAS on each of
// `threads` OpenMP threads when the build has R50_WITH_OPENBLAS, otherwise a cache-blocked OpenMP
// GEMM; threads <= 0 takes OpenMP's default count. Called inside a parallel region, it runs on
// the calling thread alone.
void sgemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
           const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
           std::int64_t ldc, int threads = 0);

}  // namespace r50
