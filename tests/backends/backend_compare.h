// defines: backend_compare::Tolerance, kExact, elementwise, per_element, Output, Outputs, Row,
//          channels_last_order, from_channels_last_order, Stage, sum_bound, uniform, absolute,
//          kCudnnAlgorithmFactor, activations, ChannelStatistics, channel_statistics,
//          convolution_rows, linear_rows, batch_norm_rows, half_precision_rows, nhwc_rows,
//          nhwc_batch_norm_rows
//
// The pieces of the CUDA-against-CPU table (backend_compare_test.cpp): a row builds its inputs
// from a seeded Rng, runs one op on the backend it is given and returns the outputs, each with
// the tolerance it must meet against the other backend's.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "memory/buffer.h"
#include "ops/backend.h"
#include "reference/numerics.h"

namespace r50::backend_compare {

using reference::HostTensor;
constexpr double u = reference::kF32UnitRoundoff;

// γ(terms): the bound on an fp32 sum of `terms` products relative to Σ|terms|, for any order of
// summation (reference/numerics.h).
inline double sum_bound(std::int64_t terms) { return reference::fp32_sum_error_bound(terms); }

// |cuda − cpu| <= atol + rtol·|cpu| element by element, and ‖cuda − cpu‖₂ <= norm; a negative
// norm means the norm of the elementwise limits, which the elementwise bound implies.
struct Tolerance {
  double atol = 0.0;
  double rtol = 0.0;
  double norm = -1.0;
};

inline const Tolerance kExact{};

inline Tolerance elementwise(double atol, double rtol) { return {atol, rtol, -1.0}; }

// For an output whose element i may differ by factor·limit_i: atol = factor·max(limit), and over
// the tensor ‖cuda − cpu‖₂ <= factor·‖limit‖₂.
template <typename T>
Tolerance per_element(const HostTensor<T>& limit, double factor = 1.0) {
  return {factor * reference::max_abs(limit), 0.0, factor * reference::norm2(limit)};
}

struct Output {
  std::string name;
  HostTensor<float> values;
  Tolerance tolerance;
};
using Outputs = std::vector<Output>;

struct Row {
  std::string name;  // op and shape: the test's name
  bool odd_shape;    // sizes that are multiples of no block size: checked element by element too
  std::function<Outputs(Backend&)> run;
};

inline void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

// [N, C, H, W] values between the NCHW order of a HostTensor and the NHWC order in which a
// channels-last tensor holds them: element (n, c, hw) of one is element (n, hw, c) of the other.
template <typename T>
std::vector<T> channels_last_order(const HostTensor<T>& values) {
  const Shape& shape = values.shape();
  const std::int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
  std::vector<T> nhwc(static_cast<std::size_t>(values.numel()));
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < HW; ++i)
        nhwc[static_cast<std::size_t>((n * HW + i) * C + c)] = values[(n * C + c) * HW + i];
  return nhwc;
}

template <typename T>
HostTensor<T> from_channels_last_order(const Shape& shape, const T* nhwc) {
  const std::int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
  HostTensor<T> values(shape);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < HW; ++i)
        values[(n * C + c) * HW + i] = nhwc[static_cast<std::size_t>((n * HW + i) * C + c)];
  return values;
}

// One row's tensors on one backend: inputs copied from the host, outputs filled with NaN first so
// that an element the op fails to write cannot pass, results copied back. Host values are in
// row-major (NCHW) order whatever the tensor's layout: a channels-last tensor is filled and read
// back through channels_last_order.
class Stage {
 public:
  explicit Stage(Backend& backend) : backend_(backend) {}

  template <typename T>
  const Tensor& input(const HostTensor<T>& host, Layout layout = Layout::RowMajor) {
    const Tensor& tensor = tensors_
                               .emplace_back(backend_.allocator(), host.shape(), dtype_of<T>(),
                                             backend_.device(), layout)
                               .tensor();
    if (layout == Layout::ChannelsLast) {
      backend_.copy_from_host(tensor, channels_last_order(host).data());
    } else {
      backend_.copy_from_host(tensor, host.data());
    }
    return tensor;
  }
  const Tensor& output(const Shape& shape, Layout layout = Layout::RowMajor) {
    return input(HostTensor<float>(shape, std::numeric_limits<float>::quiet_NaN()), layout);
  }
  template <typename T = float>
  HostTensor<T> read(const Tensor& tensor) {
    HostTensor<T> host(tensor.shape());
    backend_.copy_to_host(host.data(), tensor);
    if (tensor.layout() != Layout::ChannelsLast) return host;
    return from_channels_last_order(tensor.shape(), host.data());
  }

 private:
  Backend& backend_;
  std::deque<OwnedTensor> tensors_;  // a deque keeps the tensors' addresses as it grows
};

inline HostTensor<float> uniform(const Shape& shape, Rng& rng, double low = -1.0,
                                 double high = 1.0) {
  return reference::uniform<float>(shape, rng, low, high);
}

inline HostTensor<float> absolute(const HostTensor<float>& x) { return reference::abs_values(x); }

// How many times a direct sum's error bound cuDNN's Winograd and FFT algorithms may take (derived
// in backend_compare_conv_linear.cpp), for the convolution rows of every dtype.
constexpr double kCudnnAlgorithmFactor = 4.0;

// Batch norm's inputs as a network has them (backend_compare_batchnorm.cpp): each channel centred
// on its own mean in [-2, 2] with its own spread in [0.3, 1.5], so that the mean matters and the
// variance is not 1.
HostTensor<float> activations(const Shape& shape, Rng& rng);

// Exact per-channel statistics of x [N, C, H, W], in double.
struct ChannelStatistics {
  std::int64_t C, HW, count;
  std::vector<double> mean, var, max_abs;
  std::int64_t channel(std::int64_t i) const { return i / HW % C; }
};
ChannelStatistics channel_statistics(const HostTensor<float>& x);

// The rows of each op family kept in a file of its own.
std::vector<Row> convolution_rows();  // backend_compare_conv_linear.cpp
std::vector<Row> linear_rows();       // backend_compare_conv_linear.cpp
std::vector<Row> batch_norm_rows();   // backend_compare_batchnorm.cpp
std::vector<Row> half_precision_rows();  // backend_compare_half.cpp: F16 and BF16
std::vector<Row> nhwc_rows();            // backend_compare_nhwc.cpp: channels-last tensors
std::vector<Row> nhwc_batch_norm_rows();  // backend_compare_nhwc_batchnorm.cpp: F32 and F16

}  // namespace r50::backend_compare
