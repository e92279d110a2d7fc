// defines: backend_compare::Tolerance, kExact, elementwise, per_element, Output, Outputs, Row,
//          ShapeCase, PoolShape, ConvShape, channels_last_order, from_channels_last_order, Stage,
//          sum_bound, uniform, absolute, rounded, uniform_in, unit_roundoff, rounded_to,
//          half_output, CpuTensors, DTypeStage, random_labels, label_tensor, convolution_rows,
//          linear_rows, batch_norm_rows, half_precision_rows, nhwc_rows, nhwc_batch_norm_rows,
//          tf32_rows
//
// The pieces of the CUDA-against-CPU table (backend_compare_test.cpp): a row builds its inputs
// from a seeded Rng, runs one op on the backend it is given and returns the outputs, each with
// the tolerance it must meet against the other backend's. The error bounds that rows of several
// files share are in backend_compare_bounds.h and backend_compare_batchnorm.h; what is not inline
// here is defined in backend_compare_shared.cpp.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "core/dtype.h"
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
  // The CUDA backend's: tf32 rows run on a tf32 backend, where the GPU has TF32. The CPU backend
  // runs every row in IEEE fp32.
  Precision precision = Precision::Fp32;
  // The dtype of the row's activations on the CUDA backend. BF16 needs compute capability 8.0,
  // as the bf16 precision does.
  DType dtype = DType::F32;
};

inline void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

// The shapes a family of rows runs over: the name each gives its rows, and whether its sizes are
// multiples of no block size (Row::odd_shape).
struct ShapeCase {
  const char* name;
  Shape x;
  bool odd;
};

struct PoolShape {
  const char* name;
  Shape x;
  Pool2dParams params;
  bool odd;
};

struct ConvShape {
  const char* name;
  Shape x, w;
  Conv2dParams params;
  bool odd;
};

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

// `values` as `dtype` holds them: each rounded to nearest even (core/half.h) and widened back.
HostTensor<float> rounded(const HostTensor<float>& values, DType dtype);

// Uniform values the dtype holds exactly: uniform's, rounded.
HostTensor<float> uniform_in(DType dtype, const Shape& shape, Rng& rng, double low = -1.0,
                             double high = 1.0);

// The unit roundoff of F16 (2^-11), BF16 (2^-8) or F32 (u = 2^-24).
double unit_roundoff(DType dtype);

// The tolerance of an output stored as `dtype` whose F32 op meets `f32`: `f32` itself for F32;
// for a half dtype widened by the two roundings of the output (one per backend), each within
// u·|value| (3u relative covers both, and |value| before rounding against |cpu| after), and for
// F16 below 2^-14 within half its subnormal spacing 2^-24, 2^-24 absolute for both.
Tolerance rounded_to(DType dtype, Tolerance f32, const HostTensor<float>& cpu_values);

// An output of `values` (the CPU's, rounded to `dtype`) whose F32 op meets `f32`.
Output half_output(const std::string& name, const HostTensor<float>& values, DType dtype,
                   const Tolerance& f32);

// Where a DTypeStage keeps the CPU backend's tensors of the row's dtype.
enum class CpuTensors {
  // F32 tensors of the same values, whose outputs read() rounds to the dtype as a half-precision
  // op stores them: the rows then ask nothing of the CPU backend but its F32 ops.
  F32StandIns,
  // Tensors of the dtype itself, as on the CUDA backend: the CPU backend's own half-precision ops.
  SameDType,
};

// One row's tensors on one backend: tensors of the row's dtype (F16, BF16 or F32), filled from
// and read back as NCHW host values whatever their layout (channels_last_order), and the tensors
// that are F32 on both backends through f32(). An input's values must be ones the dtype holds
// (uniform_in, rounded), so that both backends read them exactly. With `one_element_off` each
// tensor starts one element past its allocation, so that none is aligned to more than one
// element and the kernels take their one-element path, as on a view.
class DTypeStage {
 public:
  DTypeStage(Backend& backend, DType dtype, CpuTensors cpu_tensors = CpuTensors::F32StandIns,
             bool one_element_off = false);

  // True on the CPU when its tensors are F32 stand-ins.
  bool stands_in() const { return stored_ != dtype_; }

  const Tensor& input(const HostTensor<float>& values, Layout layout = Layout::RowMajor);
  const Tensor& output(const Shape& shape, Layout layout = Layout::RowMajor);
  // A tensor's values, rounded to the dtype where they were computed in F32 (stands_in()).
  HostTensor<float> read(const Tensor& tensor);

  Stage& f32() { return f32_; }

 private:
  Backend& backend_;
  DType dtype_, stored_;
  std::int64_t offset_;  // elements
  Stage f32_;
  std::deque<OwnedTensor> allocations_;  // deques keep the tensors' addresses as they grow
  std::deque<Tensor> tensors_;
};

// Softmax cross-entropy's labels: n classes drawn below k, and the tensor that holds them.
std::vector<std::int32_t> random_labels(Rng& rng, std::int64_t n, std::int64_t k);
HostTensor<std::int32_t> label_tensor(const std::vector<std::int32_t>& labels);

// The rows of each op family kept in a file of its own.
std::vector<Row> convolution_rows();  // backend_compare_conv_linear.cpp
std::vector<Row> linear_rows();       // backend_compare_conv_linear.cpp
std::vector<Row> batch_norm_rows();   // backend_compare_batchnorm.cpp
std::vector<Row> half_precision_rows();  // backend_compare_half.cpp: F16 and BF16
std::vector<Row> nhwc_rows();            // backend_compare_nhwc.cpp: channels-last tensors
std::vector<Row> nhwc_batch_norm_rows();  // backend_compare_nhwc_batchnorm.cpp: F32 and F16
std::vector<Row> tf32_rows();             // backend_compare_tf32.cpp: convolutions under tf32

}  // namespace r50::backend_compare
