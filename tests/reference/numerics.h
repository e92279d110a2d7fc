// defines: HostTensor, vector_of, fill_uniform, uniform, abs_values, max_abs, norm2, dot, relative_error,
//          all_close, bitwise_equal, kF32UnitRoundoff, fp32_roundings, fp32_sum_error_bound, fp64_sum_error_bound,
//          sum_close, numerical_gradient, gradient_close
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace r50::reference {

// A dense row-major array that owns its values, for oracles and tests. view() lends it to a
// Backend as an r50::Tensor on the CPU.
template <typename T>
class HostTensor {
 public:
  HostTensor() = default;
  explicit HostTensor(const Shape& shape, T value = T(0))
      : shape_(shape), values_(static_cast<std::size_t>(shape.numel()), value) {
    for (int axis = 0; axis < shape.rank(); ++axis) dims_[axis] = shape[axis];
  }

  const Shape& shape() const { return shape_; }
  std::int64_t numel() const { return static_cast<std::int64_t>(values_.size()); }
  T* data() { return values_.data(); }
  const T* data() const { return values_.data(); }
  T& operator[](std::int64_t i) { return values_[static_cast<std::size_t>(i)]; }
  const T& operator[](std::int64_t i) const { return values_[static_cast<std::size_t>(i)]; }

  // Element (i0, i1, ...), one index per dimension.
  template <typename... Index>
  T& at(Index... index) {
    return values_[offset<sizeof...(Index)>({static_cast<std::int64_t>(index)...})];
  }
  template <typename... Index>
  const T& at(Index... index) const {
    return values_[offset<sizeof...(Index)>({static_cast<std::int64_t>(index)...})];
  }

  Tensor view() const { return Tensor(const_cast<T*>(values_.data()), shape_, dtype_of<T>()); }

  template <typename U>
  HostTensor<U> cast() const {
    HostTensor<U> out(shape_);
    for (std::int64_t i = 0; i < numel(); ++i) out[i] = static_cast<U>((*this)[i]);
    return out;
  }

  // The multi-index of flat element i, as "[n, c, h, w]".
  std::string index_str(std::int64_t i) const {
    std::vector<std::int64_t> index(static_cast<std::size_t>(shape_.rank()));
    for (int axis = shape_.rank() - 1; axis >= 0; --axis) {
      index[axis] = dims_[axis] ? i % dims_[axis] : 0;
      i = dims_[axis] ? i / dims_[axis] : 0;
    }
    return Shape(index).str();
  }

 private:
  template <std::size_t R>
  std::size_t offset(const std::array<std::int64_t, R>& index) const {
    std::int64_t flat = 0;
    for (std::size_t axis = 0; axis < R; ++axis) flat = flat * dims_[axis] + index[axis];
    return static_cast<std::size_t>(flat);
  }

  Shape shape_;
  std::array<std::int64_t, Shape::kMaxRank> dims_{};
  std::vector<T> values_;
};

// Uniform values in [low, high), drawn as float so that the same values are exact in double and a
// float backend and a double oracle see identical inputs.
template <typename T>
void fill_uniform(HostTensor<T>& tensor, Rng& rng, double low = -1.0, double high = 1.0) {
  for (std::int64_t i = 0; i < tensor.numel(); ++i) {
    tensor[i] = static_cast<T>(static_cast<float>(rng.uniform(low, high)));
  }
}

// A 1-D tensor of `values`: an op's small F32 operands, a loss scale's state, a flag.
inline HostTensor<float> vector_of(const std::vector<float>& values) {
  HostTensor<float> host(Shape{static_cast<std::int64_t>(values.size())});
  std::copy(values.begin(), values.end(), host.data());
  return host;
}

template <typename T>
HostTensor<T> uniform(const Shape& shape, Rng& rng, double low = -1.0, double high = 1.0) {
  HostTensor<T> tensor(shape);
  fill_uniform(tensor, rng, low, high);
  return tensor;
}

template <typename T>
HostTensor<T> abs_values(const HostTensor<T>& tensor) {
  HostTensor<T> out(tensor.shape());
  for (std::int64_t i = 0; i < tensor.numel(); ++i) out[i] = std::abs(tensor[i]);
  return out;
}

template <typename T>
double max_abs(const HostTensor<T>& tensor) {
  double largest = 0.0;
  for (std::int64_t i = 0; i < tensor.numel(); ++i)
    largest = std::max(largest, std::abs(double(tensor[i])));
  return largest;
}

template <typename T>
double norm2(const HostTensor<T>& tensor) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < tensor.numel(); ++i) sum += double(tensor[i]) * double(tensor[i]);
  return std::sqrt(sum);
}

template <typename A, typename B>
double dot(const HostTensor<A>& a, const HostTensor<B>& b) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < a.numel(); ++i) sum += double(a[i]) * double(b[i]);
  return sum;
}

// ‖a - b‖₂ / ‖b‖₂ over the whole tensor, in double; b is the reference. Infinite when the shapes
// differ or b is zero and a is not.
template <typename A, typename B>
double relative_error(const HostTensor<A>& a, const HostTensor<B>& b) {
  if (a.shape() != b.shape()) return std::numeric_limits<double>::infinity();
  double diff = 0.0, ref = 0.0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    diff += d * d;
    ref += double(b[i]) * double(b[i]);
  }
  if (ref == 0.0) return diff == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return std::sqrt(diff / ref);
}

// Passes when |actual - expected| <= atol + rtol·|expected| everywhere (a NaN never does);
// otherwise says how many elements failed and shows the first few with their indices.
template <typename A, typename B>
::testing::AssertionResult all_close(const HostTensor<A>& actual, const HostTensor<B>& expected,
                                     double atol, double rtol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.shape().str() << " but expected " << expected.shape().str();
  }
  constexpr int kShown = 5;
  std::int64_t failures = 0;
  std::ostringstream shown;
  shown.precision(9);
  for (std::int64_t i = 0; i < actual.numel(); ++i) {
    const double a = double(actual[i]), b = double(expected[i]);
    const double limit = atol + rtol * std::abs(b);
    if (!(std::abs(a - b) <= limit)) {
      if (failures++ < kShown) {
        shown << "\n  at " << expected.index_str(i) << ": " << a << " vs expected " << b
              << " (|diff| " << std::abs(a - b) << " > " << limit << ")";
      }
    }
  }
  if (failures == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << failures << " of " << actual.numel() << " elements differ beyond atol " << atol
         << " + rtol " << rtol << "·|expected|; the first:" << shown.str();
}

// Passes when both hold the same bits (so -0 differs from 0, and a NaN can match itself);
// otherwise says whether the values were equal all the same, or shows the first differences.
template <typename T>
::testing::AssertionResult bitwise_equal(const HostTensor<T>& actual, const HostTensor<T>& expected) {
  if (actual.shape() == expected.shape() &&
      std::memcmp(actual.data(), expected.data(), sizeof(T) * static_cast<std::size_t>(actual.numel())) == 0) {
    return ::testing::AssertionSuccess();
  }
  const ::testing::AssertionResult close = all_close(actual, expected, 0.0, 0.0);
  return ::testing::AssertionFailure() << (close ? "equal values, different bits" : close.message());
}

// fp32's unit roundoff: a correctly rounded operation has relative error at most u = 2^-24.
constexpr double kF32UnitRoundoff = 0x1p-24;

// The relative error of a product or quotient of exact values after `count` fp32 roundings:
// (1 + u)^count - 1.
inline double fp32_roundings(int count) {
  return std::pow(1.0 + kF32UnitRoundoff, count) - 1.0;
}

// The error bound of an fp32 sum of `terms` rounded products, relative to the sum of the terms'
// magnitudes Σ|t_i|: |computed - exact| <= fp32_sum_error_bound(terms)·Σ|t_i|. The worst case is
// γ = terms·u, reached only by adversarial rounding; treating the roundings as independent and
// mean-zero (Higham and Mary, "A New Approach to Probabilistic Rounding Error Analysis", SIAM J.
// Sci. Comput. 41(5), 2019) gives λ·sqrt(terms)·u to first order, violated with probability at
// most 2·terms·exp(-λ²/2) per element. λ = 6 makes that 3e-8·terms, 1e-5 for the longest sums
// here, and the union bound behind it is far from tight. The tests' seeds are fixed, so a run
// that passes always passes; no tolerance was widened to get there. Blocked, pairwise or FMA
// summation only lowers the error.
inline double fp32_sum_error_bound(std::int64_t terms) {
  constexpr double lambda = 6.0;
  return std::min(lambda * std::sqrt(static_cast<double>(std::max<std::int64_t>(terms, 1))),
                  static_cast<double>(std::max<std::int64_t>(terms, 1))) *
         kF32UnitRoundoff;
}

// The deterministic bound for a double-precision sum of `terms` products, relative to Σ|t_i|:
// γ = terms·2^-53, negligible beside fp32's u but not zero, for values computed in double and
// rounded once to fp32 (these are within u·|value| + γ·Σ|t_i| of the exact value).
inline double fp64_sum_error_bound(std::int64_t terms) {
  return static_cast<double>(std::max<std::int64_t>(terms, 1)) * 0x1p-53;
}

// Checks an fp32 result each of whose elements is a sum of at most `terms` products against the
// exact `expected`, given `magnitude`: the same sums over the terms' absolute values (the oracle
// run on |inputs|). With γ = fp32_sum_error_bound(terms), element i may be off by γ·magnitude_i,
// so: elementwise |a - b| <= γ·max(magnitude), and over the tensor ‖a - b‖₂/‖b‖₂ <=
// γ·‖magnitude‖₂/‖b‖₂.
template <typename A>
::testing::AssertionResult sum_close(const HostTensor<A>& actual,
                                     const HostTensor<double>& expected,
                                     const HostTensor<double>& magnitude, std::int64_t terms) {
  const double gamma = fp32_sum_error_bound(terms);
  const double relative = relative_error(actual, expected);
  const double relative_limit = gamma * norm2(magnitude) / norm2(expected);
  if (!(relative <= relative_limit)) {
    return ::testing::AssertionFailure() << "relative error " << relative << " exceeds "
                                         << relative_limit << " (" << terms << "-term sums)";
  }
  return all_close(actual, expected, gamma * max_abs(magnitude), 0.0);
}

// d loss / d input by central differences in double: (loss(x + h·e_i) - loss(x - h·e_i)) / 2h,
// with `loss` reading `input` each time it is called. The truncation error is h²/6·|f'''|, zero
// for the (piecewise) linear and bilinear ops; the rounding error about 2^-53·|loss|/h.
template <typename Loss>
HostTensor<double> numerical_gradient(HostTensor<double>& input, Loss&& loss, double step = 1e-5) {
  HostTensor<double> gradient(input.shape());
  for (std::int64_t i = 0; i < input.numel(); ++i) {
    const double saved = input[i];
    input[i] = saved + step;
    const double up = loss();
    input[i] = saved - step;
    const double down = loss();
    input[i] = saved;
    gradient[i] = (up - down) / (2.0 * step);
  }
  return gradient;
}

// Checks an analytic gradient against numerical_gradient's estimate, both in double. With
// h = 1e-5 the estimate is good to about 1e-9 for these small tests (truncation h²/6·|f'''| is
// below 1e-9 for third derivatives up to 100; rounding 2^-53·Σ|loss terms|/h is below 1e-8 for up
// to 1e3 terms of size 1), so a limit of 1e-6, relative to the gradient's scale, leaves a margin
// of 100 and still catches any real mistake, which is an O(1) fraction of some element.
inline ::testing::AssertionResult gradient_close(const HostTensor<double>& analytic,
                                                 const HostTensor<double>& numeric) {
  constexpr double kLimit = 1e-6;
  const double relative = relative_error(analytic, numeric);
  if (!(relative <= kLimit)) {
    return ::testing::AssertionFailure() << "relative error " << relative << " against finite "
                                         << "differences exceeds " << kLimit;
  }
  return all_close(analytic, numeric, kLimit * std::max(1.0, max_abs(numeric)), kLimit);
}

}  // namespace r50::reference
