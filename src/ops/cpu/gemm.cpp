#include "ops/cpu/gemm.h"

#include <omp.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "core/error.h"

#ifdef R50_WITH_OPENBLAS
#include <cblas.h>
#endif

namespace r50 {
namespace {

void check_arguments(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                     std::int64_t lda, std::int64_t ldb, std::int64_t ldc) {
  R50_CHECK(M >= 0 && N >= 0 && K >= 0, "sgemm: negative size M ", M, " N ", N, " K ", K);
  R50_CHECK(lda >= std::max<std::int64_t>(1, trans_a ? M : K) &&
                ldb >= std::max<std::int64_t>(1, trans_b ? K : N) &&
                ldc >= std::max<std::int64_t>(1, N),
            "sgemm: leading dimensions lda ", lda, " ldb ", ldb, " ldc ", ldc, " too small for M ",
            M, " N ", N, " K ", K);
}

#ifndef R50_WITH_OPENBLAS
// The plain GEMM, organised as BLIS and OpenBLAS are: C is cut into NC-column slabs and the K
// dimension into KC-deep slices; each slice of op(B) is packed once into NR-wide panels (L2
// resident), each MC-row block of op(A) into MR-high panels (L1 resident), and a micro-kernel
// keeps an MR×NR tile of C in registers across the whole slice. Packing zero-pads the ragged
// edges, so the micro-kernel never branches; only the store is clipped.
constexpr std::int64_t kMR = 4;
constexpr std::int64_t kNR = 8;  // an MR×NR tile is 8 SSE registers: the rest hold A and B
constexpr std::int64_t kMC = 64;
constexpr std::int64_t kKC = 256;
constexpr std::int64_t kNC = 1024;

// Packs `lines` lines of M (rows from line0, each `depth` long from k0) into panels of `width`
// lines; panel p holds element (line p·width + i, k) at p·depth·width + k·width + i, zero past
// the last line. Element (line, k) is M[line·ld + k], or M[k·ld + line] when `transposed`.
// op(A)[rows, depth] packs by rows as it is; op(B)[depth, cols] packs by columns, which are the
// rows of op(B)ᵀ, so B's transposition flag is inverted.
void pack_panels(bool transposed, const float* M, std::int64_t ld, std::int64_t line0,
                 std::int64_t lines, std::int64_t k0, std::int64_t depth, std::int64_t width,
                 float* packed, int threads) {
  const std::int64_t panels = (lines + width - 1) / width;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t p = 0; p < panels; ++p) {
    float* out = packed + p * depth * width;
    for (std::int64_t k = 0; k < depth; ++k) {
      for (std::int64_t i = 0; i < width; ++i) {
        const std::int64_t line = p * width + i;
        const std::int64_t l = line0 + line, c = k0 + k;
        out[k * width + i] = line < lines ? (transposed ? M[c * ld + l] : M[l * ld + c]) : 0.0f;
      }
    }
  }
}

// C[rows ≤ MR, cols ≤ NR] += alpha · (panel a)ᵀ(panel b) over `depth`.
void micro_kernel(std::int64_t depth, float alpha, const float* a, const float* b, float* C,
                  std::int64_t ldc, std::int64_t rows, std::int64_t cols) {
  float acc[kMR][kNR] = {};
  for (std::int64_t k = 0; k < depth; ++k) {
    for (std::int64_t i = 0; i < kMR; ++i) {
      for (std::int64_t j = 0; j < kNR; ++j) acc[i][j] += a[k * kMR + i] * b[k * kNR + j];
    }
  }
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) C[i * ldc + j] += alpha * acc[i][j];
  }
}

void scale_c(std::int64_t M, std::int64_t N, float beta, float* C, std::int64_t ldc, int threads) {
  if (beta == 1.0f) return;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t i = 0; i < M; ++i) {
    float* row = C + i * ldc;
    // beta = 0 must overwrite: C may hold garbage, even NaN, that 0·C would keep.
    if (beta == 0.0f) {
      std::fill(row, row + N, 0.0f);
    } else {
      for (std::int64_t j = 0; j < N; ++j) row[j] *= beta;
    }
  }
}

void blocked_sgemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                   float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                   float beta, float* C, std::int64_t ldc, int threads) {
  scale_c(M, N, beta, C, ldc, threads);
  if (alpha == 0.0f || K == 0) return;
  std::vector<float> packed_a(static_cast<std::size_t>(kMC * kKC));
  std::vector<float> packed_b(
      static_cast<std::size_t>(kKC * ((std::min(N, kNC) + kNR - 1) / kNR) * kNR));
  for (std::int64_t jc = 0; jc < N; jc += kNC) {
    const std::int64_t nc = std::min(kNC, N - jc);
    for (std::int64_t pc = 0; pc < K; pc += kKC) {
      const std::int64_t kc = std::min(kKC, K - pc);
      pack_panels(!trans_b, B, ldb, jc, nc, pc, kc, kNR, packed_b.data(), threads);
      for (std::int64_t ic = 0; ic < M; ic += kMC) {
        const std::int64_t mc = std::min(kMC, M - ic);
        pack_panels(trans_a, A, lda, ic, mc, pc, kc, kMR, packed_a.data(), threads);
        const std::int64_t row_panels = (mc + kMR - 1) / kMR;
        const std::int64_t col_panels = (nc + kNR - 1) / kNR;
        // Tiles of C are disjoint, so any split over them is race-free; columns first keeps the
        // B panel a thread works on in its cache.
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static)
        for (std::int64_t q = 0; q < col_panels; ++q) {
          for (std::int64_t p = 0; p < row_panels; ++p) {
            const std::int64_t row = ic + p * kMR, col = jc + q * kNR;
            micro_kernel(kc, alpha, packed_a.data() + p * kc * kMR, packed_b.data() + q * kc * kNR,
                         C + row * ldc + col, ldc, std::min(kMR, M - row), std::min(kNR, N - col));
          }
        }
      }
    }
  }
}
#endif

#ifdef R50_WITH_OPENBLAS
int blas_int(std::int64_t value) {
  return static_cast<int>(value);
}

// OpenBLAS runs single-threaded (CpuBackend sets it so) and the OpenMP threads split C between
// them: one slab of rows or columns each, whichever dimension is longer, so that the operand
// every thread packs in full is the smaller one. One pool of threads, not OpenBLAS's beside
// OpenMP's: on two cores the pools' spin-waiting fought over the cores, and a ResNet-50 training
// step (batch 8, 224×224) took 4.2 s instead of 1.2 s.
void split_sgemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                 float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                 float beta, float* C, std::int64_t ldc, int threads) {
  // Each thread gets at least a million multiply-adds and 16 rows or columns: below that, waking
  // the others costs more than it saves.
  constexpr double kMinWork = 1 << 20;
  constexpr std::int64_t kMinSlab = 16;
  const bool split_rows = M >= N;
  const std::int64_t extent = split_rows ? M : N;
  const double work = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  int parts = omp_in_parallel() ? 1 : threads;
  parts = static_cast<int>(std::min<std::int64_t>(parts, extent / kMinSlab));
  parts = static_cast<int>(std::min<double>(parts, work / kMinWork));
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if (parts <= 1) {
    cblas_sgemm(CblasRowMajor, ta, tb, blas_int(M), blas_int(N), blas_int(K), alpha, A,
                blas_int(lda), B, blas_int(ldb), beta, C, blas_int(ldc));
    return;
  }
  const std::int64_t slab = (extent + parts - 1) / parts;
#pragma omp parallel for num_threads(parts) schedule(static)
  for (int part = 0; part < parts; ++part) {
    const std::int64_t begin = part * slab, end = std::min(extent, begin + slab);
    if (begin >= end) continue;
    if (split_rows) {  // rows [begin, end) of C and of op(A)
      cblas_sgemm(CblasRowMajor, ta, tb, blas_int(end - begin), blas_int(N), blas_int(K), alpha,
                  trans_a ? A + begin : A + begin * lda, blas_int(lda), B, blas_int(ldb), beta,
                  C + begin * ldc, blas_int(ldc));
    } else {  // columns [begin, end) of C and of op(B)
      cblas_sgemm(CblasRowMajor, ta, tb, blas_int(M), blas_int(end - begin), blas_int(K), alpha, A,
                  blas_int(lda), trans_b ? B + begin * ldb : B + begin, blas_int(ldb), beta,
                  C + begin, blas_int(ldc));
    }
  }
}
#endif

}  // namespace

void sgemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
           const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
           std::int64_t ldc, int threads) {
  check_arguments(trans_a, trans_b, M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0) return;
  const int team = threads > 0 ? threads : omp_get_max_threads();
#ifdef R50_WITH_OPENBLAS
  R50_CHECK(M <= INT_MAX && N <= INT_MAX && K <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX &&
                ldc <= INT_MAX,
            "sgemm: sizes M ", M, " N ", N, " K ", K, " exceed OpenBLAS's 32-bit integers");
  split_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, team);
#else
  blocked_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, team);
#endif
}

}  // namespace r50
