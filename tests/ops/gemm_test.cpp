// sgemm, the CPU backend's one GEMM (OpenBLAS or the plain blocked one, whichever the build has),
// against a double-precision triple loop.
#include "ops/cpu/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>

#include "core/rng.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;

struct GemmCase {
  const char* name;
  bool trans_a, trans_b;
  std::int64_t M, N, K;
};

void PrintTo(const GemmCase& c, std::ostream* os) {
  *os << c.name;
}

// 67, 1029 and 261 step past the plain GEMM's 64-row, 1024-column and 256-deep blocks and are
// multiples of none of its 4×8 tile: every ragged edge gets exercised. Wide cases are split
// across threads by columns, tall ones by rows.
const GemmCase kGemmCases[] = {
    {"WideNN", false, false, 67, 1029, 261},  {"WideNT", false, true, 67, 1029, 261},
    {"WideTN", true, false, 67, 1029, 261},   {"WideTT", true, true, 67, 1029, 261},
    {"TallNN", false, false, 1029, 67, 261},  {"TallTN", true, false, 1029, 67, 261},
    {"SingleElement", false, false, 1, 1, 1}, {"Skinny", true, false, 5, 3, 300},
};

// Two threads whatever the machine, so that the split between threads is always exercised.
constexpr int kThreads = 2;

// Stored operands with two spare columns, so a leading dimension that differs from the width is
// honoured or visibly not.
constexpr std::int64_t kSpare = 2;

class SgemmMatchesTripleLoop : public ::testing::TestWithParam<GemmCase> {};

TEST_P(SgemmMatchesTripleLoop, WithAlphaBetaAndPaddedRows) {
  const GemmCase& c = GetParam();
  const std::int64_t a_rows = c.trans_a ? c.K : c.M, a_cols = c.trans_a ? c.M : c.K;
  const std::int64_t b_rows = c.trans_b ? c.N : c.K, b_cols = c.trans_b ? c.K : c.N;
  Rng rng(11);
  const auto A = reference::uniform<float>({a_rows, a_cols + kSpare}, rng);
  const auto B = reference::uniform<float>({b_rows, b_cols + kSpare}, rng);
  auto C = reference::uniform<float>({c.M, c.N + kSpare}, rng);
  const auto C0 = C;
  const float alpha = 0.75f, beta = -0.5f;
  sgemm(c.trans_a, c.trans_b, c.M, c.N, c.K, alpha, A.data(), a_cols + kSpare, B.data(),
        b_cols + kSpare, beta, C.data(), c.N + kSpare, kThreads);

  HostTensor<double> expected({c.M, c.N}), magnitude({c.M, c.N});
  HostTensor<float> actual({c.M, c.N});
  for (std::int64_t i = 0; i < c.M; ++i) {
    for (std::int64_t j = 0; j < c.N; ++j) {
      double sum = 0.0, sum_abs = 0.0;
      for (std::int64_t k = 0; k < c.K; ++k) {
        const double a = c.trans_a ? A.at(k, i) : A.at(i, k);
        const double b = c.trans_b ? B.at(j, k) : B.at(k, j);
        sum += a * b;
        sum_abs += std::abs(a * b);
      }
      expected.at(i, j) = alpha * sum + beta * double(C0.at(i, j));
      magnitude.at(i, j) = std::abs(alpha) * sum_abs + std::abs(beta * double(C0.at(i, j)));
      actual.at(i, j) = C.at(i, j);
    }
    for (std::int64_t j = c.N; j < c.N + kSpare; ++j) {
      ASSERT_EQ(C.at(i, j), C0.at(i, j)) << "the padding after row " << i << " was written";
    }
  }
  // K products, the beta·C term, and alpha's scaling: K + 2 roundings on the way.
  EXPECT_TRUE(reference::sum_close(actual, expected, magnitude, c.K + 2));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SgemmMatchesTripleLoop, ::testing::ValuesIn(kGemmCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Sgemm, BetaZeroOverwritesWhateverCHeld) {
  const float A[2 * 3] = {1, 2, 3, 4, 5, 6};
  const float B[3 * 2] = {1, 0, 0, 1, 1, 1};
  float C[2 * 2];
  for (float& value : C) value = std::numeric_limits<float>::quiet_NaN();
  sgemm(false, false, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
  // [1 2 3; 4 5 6]·[1 0; 0 1; 1 1] = [4 5; 10 11], exact in fp32.
  EXPECT_EQ(C[0], 4.0f);
  EXPECT_EQ(C[1], 5.0f);
  EXPECT_EQ(C[2], 10.0f);
  EXPECT_EQ(C[3], 11.0f);
}

TEST(Sgemm, EmptyDepthScalesCByBeta) {
  float C[3] = {1.0f, -2.0f, 4.0f};
  sgemm(false, false, 1, 3, 0, 1.0f, nullptr, 1, nullptr, 3, 0.5f, C, 3);
  EXPECT_EQ(C[0], 0.5f);
  EXPECT_EQ(C[1], -1.0f);
  EXPECT_EQ(C[2], 2.0f);
}

TEST(Sgemm, RefusesALeadingDimensionShorterThanARow) {
  float A[6] = {}, B[6] = {}, C[4] = {};
  EXPECT_TRUE(throws_naming([&] { sgemm(false, false, 2, 2, 3, 1.0f, A, 2, B, 2, 0.0f, C, 2); },
                            {"sgemm", "lda 2"}));
}

}  // namespace
}  // namespace r50
