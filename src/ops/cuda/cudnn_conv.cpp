// cuDNN's legacy descriptor API (cudnn_graph.cpp holds the graph API's calls). Each convolution
// shape and direction gets a plan once (descriptors, algorithm, workspace size), cached for the
// rest of the run; the three directions share that code through ConvApi, which maps a direction
// to its cuDNN calls.
//
// Math: fp32 data with CUDNN_FMA_MATH, so that compute capability 8.0 and newer do not quietly
// round operands to TF32 (cuDNN's default allows it); a candidate algorithm that cannot run under
// FMA math is passed over. Under tf32 the descriptors ask for CUDNN_TENSOR_OP_MATH, every
// candidate cuDNN offers is usable but one that would convert the fp32 data to a narrower type
// than TF32 (CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, fp16 on the way), and the chosen one's own
// math type is set on its descriptor.
//
// Half-precision data (F16, BF16) is stored as such and summed in fp32: the convolution's compute
// type is CUDNN_DATA_FLOAT (cuDNN's PSEUDO_HALF and PSEUDO_BFLOAT16 configurations, as PyTorch
// runs them), so a deep sum does not lose the small terms a half-precision accumulator would.
// The descriptors ask for CUDNN_TENSOR_OP_MATH. For half data cuDNN's default math would allow
// tensor cores too, but it is the math type that also lets fp32 data drift to TF32; asking for
// tensor cores by name says what is meant, and treats half data as tf32 is treated: every
// candidate is usable but one that would convert the data to another type on the way
// (CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION), and the chosen one's math type goes on its descriptor.
//
// Layouts: row-major tensors get NCHW descriptors; channels-last ones NHWC tensor descriptors and
// an NHWC filter descriptor (KRSC), the layout that tensor cores read without a transposition.
// The layout is part of a plan's key. cuDNN marks the candidates that do not take the layout as
// unsupported, which usable() passes over. Its NHWC tensor-core kernels want channel counts that
// are multiples of 8 (F16, BF16) or 4 (TF32); where C or K is not one, as the stem's C = 3, its
// heuristics offer CUDA-core algorithms (implicit GEMMs) for the same descriptors, which usable()
// accepts under tensor-op math as well: such a convolution runs, only slower. Nothing is padded.
#include "ops/cuda/cudnn_conv.h"

#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "memory/buffer.h"
#include "ops/cuda/cudnn_check.h"

namespace r50 {
namespace {

// Above this, an algorithm's workspace costs more memory than its speed is worth: a batch that
// fits without it should not fail because of it.
constexpr std::size_t kMaxWorkspaceBytes = std::size_t(1) << 30;

int as_int(std::int64_t value) {
  R50_CHECK(value <= INT32_MAX, "cuDNN: dimension ", value, " is beyond its 32-bit sizes");
  return static_cast<int>(value);
}

// The four descriptors of one convolution: x [N, C, H, W], w [K, C, R, S], y [N, K, P, Q], in
// `format`: CUDNN_TENSOR_NCHW, or CUDNN_TENSOR_NHWC for all three (w then KRSC).
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  Descriptors(const Shape& xs, const Shape& ws, const Shape& ys, const Conv2dParams& params,
              cudnnTensorFormat_t format, cudnnDataType_t data, cudnnMathType_t math) {
    R50_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    R50_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    R50_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    R50_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    // Dimensions go in N, C, H, W (K, C, R, S) order whatever the format, which sets the strides.
    R50_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, format, data, as_int(xs[0]), as_int(xs[1]), as_int(xs[2]),
                                               as_int(xs[3])));
    R50_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, format, data, as_int(ys[0]), as_int(ys[1]), as_int(ys[2]),
                                               as_int(ys[3])));
    R50_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, data, format, as_int(ws[0]), as_int(ws[1]), as_int(ws[2]),
                                               as_int(ws[3])));
    // fp32 sums whatever the data (the file's opening comment).
    R50_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, params.padding, params.padding,
                                                    params.stride, params.stride, 1, 1,
                                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    R50_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, math));
  }
  ~Descriptors() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
};

// The device pointers of one call, in the forward's roles: x the image side (dx for the backward
// of the data), w the filter side (dw for the backward of the filter), y the output side (dy).
struct Operands {
  void* x;
  void* w;
  void* y;
};

// alpha and beta are floats for every data type here: cuDNN reads its scaling factors as float
// unless the data is double.
template <ConvDirection D>
struct ConvApi;

template <>
struct ConvApi<ConvDirection::Forward> {
  using Algo = cudnnConvolutionFwdAlgo_t;
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  static constexpr int kAlgorithms = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  static cudnnStatus_t heuristics(cudnnHandle_t h, const Descriptors& d, int n, int* got, Perf* perf) {
    return cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, n, got, perf);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Descriptors& d, const Operands& o, int n, int* got,
                            Perf* perf, void* workspace, std::size_t bytes) {
    return cudnnFindConvolutionForwardAlgorithmEx(h, d.x, o.x, d.w, o.w, d.conv, d.y, o.y, n, got,
                                                  perf, workspace, bytes);
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const Descriptors& d, Algo a, std::size_t* bytes) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, a, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Descriptors& d, const Operands& o, Algo a,
                           void* workspace, std::size_t bytes, float beta) {
    const float one = 1.0f;
    return cudnnConvolutionForward(h, &one, d.x, o.x, d.w, o.w, d.conv, a, workspace, bytes, &beta,
                                   d.y, o.y);
  }
  static const char* name(Algo a) {
    switch (a) {
      case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "IMPLICIT_GEMM";
      case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "IMPLICIT_PRECOMP_GEMM";
      case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "GEMM";
      case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "DIRECT";
      case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "FFT";
      case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "FFT_TILING";
      case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "WINOGRAD";
      case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
      default: return "UNKNOWN";
    }
  }
};

template <>
struct ConvApi<ConvDirection::BackwardData> {
  using Algo = cudnnConvolutionBwdDataAlgo_t;
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  static constexpr int kAlgorithms = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  static cudnnStatus_t heuristics(cudnnHandle_t h, const Descriptors& d, int n, int* got, Perf* perf) {
    return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, n, got, perf);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Descriptors& d, const Operands& o, int n, int* got,
                            Perf* perf, void* workspace, std::size_t bytes) {
    return cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.w, o.w, d.y, o.y, d.conv, d.x, o.x, n,
                                                       got, perf, workspace, bytes);
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const Descriptors& d, Algo a, std::size_t* bytes) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, a, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Descriptors& d, const Operands& o, Algo a,
                           void* workspace, std::size_t bytes, float beta) {
    const float one = 1.0f;
    return cudnnConvolutionBackwardData(h, &one, d.w, o.w, d.y, o.y, d.conv, a, workspace, bytes,
                                        &beta, d.x, o.x);
  }
  static const char* name(Algo a) {
    switch (a) {
      case CUDNN_CONVOLUTION_BWD_DATA_ALGO_0: return "ALGO_0";
      case CUDNN_CONVOLUTION_BWD_DATA_ALGO_1: return "ALGO_1";
      case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT: return "FFT";
      case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING: return "FFT_TILING";
      case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD: return "WINOGRAD";
      case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
      default: return "UNKNOWN";
    }
  }
};

template <>
struct ConvApi<ConvDirection::BackwardFilter> {
  using Algo = cudnnConvolutionBwdFilterAlgo_t;
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  static constexpr int kAlgorithms = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  static cudnnStatus_t heuristics(cudnnHandle_t h, const Descriptors& d, int n, int* got, Perf* perf) {
    return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, n, got, perf);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Descriptors& d, const Operands& o, int n, int* got,
                            Perf* perf, void* workspace, std::size_t bytes) {
    return cudnnFindConvolutionBackwardFilterAlgorithmEx(h, d.x, o.x, d.y, o.y, d.conv, d.w, o.w, n,
                                                         got, perf, workspace, bytes);
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const Descriptors& d, Algo a, std::size_t* bytes) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w, a, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const Descriptors& d, const Operands& o, Algo a,
                           void* workspace, std::size_t bytes, float beta) {
    const float one = 1.0f;
    return cudnnConvolutionBackwardFilter(h, &one, d.x, o.x, d.y, o.y, d.conv, a, workspace, bytes,
                                          &beta, d.w, o.w);
  }
  static const char* name(Algo a) {
    switch (a) {
      case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0: return "ALGO_0";
      case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1: return "ALGO_1";
      case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT: return "FFT";
      case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3: return "ALGO_3";
      case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
      case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING: return "FFT_TILING";
      default: return "UNKNOWN";
    }
  }
};

// How one call's data is stored and multiplied: its cuDNN data type, the math type its descriptors
// ask for, whether tensor cores may run it, and its name for messages.
struct Arithmetic {
  cudnnDataType_t data;
  cudnnMathType_t math;
  bool tensor_cores;
  const char* name;
};

// `tf32` applies to F32 data alone: half-precision data always goes to tensor cores.
Arithmetic arithmetic_of(DType dtype, bool tf32) {
  switch (dtype) {
    case DType::F32:
      return tf32 ? Arithmetic{CUDNN_DATA_FLOAT, CUDNN_TENSOR_OP_MATH, true, "tf32"}
                  : Arithmetic{CUDNN_DATA_FLOAT, CUDNN_FMA_MATH, false, "fp32 (FMA math)"};
    case DType::F16: return {CUDNN_DATA_HALF, CUDNN_TENSOR_OP_MATH, true, "fp16"};
    case DType::BF16: return {CUDNN_DATA_BFLOAT16, CUDNN_TENSOR_OP_MATH, true, "bf16"};
    default: R50_THROW("cuDNN convolutions take F32, F16 or BF16 tensors, not ", dtype_name(dtype));
  }
}

// A candidate cuDNN offers is usable when it ran (or would run) and keeps the data's own type
// (no CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION), and, unless tensor cores are allowed (tf32, half
// data), needs no tensor-core math.
template <typename Perf>
bool usable(const Perf& perf, const Arithmetic& arithmetic) {
  if (perf.status != CUDNN_STATUS_SUCCESS) return false;
  if (arithmetic.tensor_cores) return perf.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  return perf.mathType == CUDNN_FMA_MATH || perf.mathType == CUDNN_DEFAULT_MATH;
}

cudnnTensorFormat_t format_of(Layout layout) {
  return layout == Layout::ChannelsLast ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
}

// A status with which cuDNN refused a call before enqueueing any work: the algorithm does not take
// this configuration after all. cuDNN 9 numbers its statuses in categories of a thousand.
bool refused(cudnnStatus_t status) {
  const int category = static_cast<int>(status) / 1000 * 1000;
  return category == CUDNN_STATUS_BAD_PARAM || category == CUDNN_STATUS_NOT_SUPPORTED;
}

// One usable algorithm cuDNN offered, in its order of preference.
struct Candidate {
  int algorithm;  // the direction's cudnnConvolution*Algo_t
  cudnnMathType_t math;
  std::size_t workspace_bytes;
  const char* name;
  float search_ms;
};

struct Plan {
  Plan(const Shape& x, const Shape& w, const Shape& y, const Conv2dParams& params, Layout layout,
       const Arithmetic& arithmetic_)
      : descriptors(x, w, y, params, format_of(layout), arithmetic_.data, arithmetic_.math),
        arithmetic(arithmetic_) {}
  Descriptors descriptors;
  Arithmetic arithmetic;
  std::vector<Candidate> candidates;
  std::size_t next = 0;  // the candidate to adopt should the adopted one be refused
  bool proven = false;   // the adopted candidate has run
  int algorithm = 0;     // the adopted candidate's
  std::size_t workspace_bytes = 0;
  ConvAlgorithmChoice choice;

  // Takes the next candidate: its algorithm, workspace and math type (tf32 and half data).
  void adopt_next() {
    const Candidate& candidate = candidates.at(next++);
    if (arithmetic.tensor_cores) R50_CUDNN_CHECK(cudnnSetConvolutionMathType(descriptors.conv, candidate.math));
    algorithm = candidate.algorithm;
    workspace_bytes = candidate.workspace_bytes;
    choice.algorithm = candidate.name;
    choice.search_ms = candidate.search_ms;
    choice.workspace_bytes = candidate.workspace_bytes;
  }
};

// Direction, dtype, layout, x's and w's four dimensions, stride, padding. Fixed-size, so that the
// lookup every convolution makes allocates nothing.
using Dims4 = std::array<std::int64_t, 4>;
using PlanKey = std::tuple<int, DType, Layout, Dims4, Dims4, int, int>;

Dims4 dims4(const Shape& shape) { return {shape[0], shape[1], shape[2], shape[3]}; }

}  // namespace

struct CudnnConvolutions::Impl {
  Allocator& allocator;
  cudaStream_t stream;
  bool benchmark;
  bool tf32;  // for F32 data
  cudnnHandle_t handle = nullptr;
  std::map<PlanKey, std::unique_ptr<Plan>> plans;
  std::vector<const Plan*> order;  // plans in the order they were made, for reports

  Impl(Allocator& allocator_, void* stream_, bool benchmark_, bool tf32_)
      : allocator(allocator_), stream(static_cast<cudaStream_t>(stream_)), benchmark(benchmark_), tf32(tf32_) {
    handle = make_cudnn_handle(stream);
  }
  ~Impl() {
    plans.clear();
    if (handle) cudnnDestroy(handle);
  }

  // A call's workspace, from the allocator for that call alone: released as soon as the call is
  // enqueued, which is safe because its next user is on the same stream, after it. Kept between
  // calls, the largest workspace (300 MiB in tf32 at batch 64) would sit beside the activations at
  // their peak; per call, only the one the running convolution needs does.
  Buffer workspace_of(std::size_t bytes) { return Buffer(allocator, bytes); }

  // The plan for the shape, dtype and layout, chosen on first use. Timing candidates (benchmark)
  // writes the output: where it holds a sum to add to (`keep_output`), they write into a scratch
  // copy instead, as many elements as the output, which the plan's descriptors read in its layout.
  template <ConvDirection D>
  Plan& plan(const Shape& x, const Shape& w, const Shape& y, DType dtype, Layout layout,
             const Conv2dParams& params, const Operands& operands, bool keep_output) {
    const PlanKey key{static_cast<int>(D), dtype, layout, dims4(x), dims4(w), params.stride, params.padding};
    auto found = plans.find(key);
    if (found != plans.end()) return *found->second;
    auto made = std::make_unique<Plan>(x, w, y, params, layout, arithmetic_of(dtype, tf32));
    made->choice.direction = D;
    made->choice.x = x;
    made->choice.w = w;
    made->choice.dtype = dtype;
    made->choice.layout = layout;
    made->choice.params = params;
    if (benchmark && keep_output) {
      const auto [member, count] = output_of<D>(x, w, y);
      const Buffer trial(allocator, static_cast<std::size_t>(count) * dtype_size(dtype));
      Operands trial_operands = operands;
      trial_operands.*member = trial.data();
      choose<D>(*made, trial_operands);
    } else {
      choose<D>(*made, operands);
    }
    order.push_back(made.get());
    return *plans.emplace(key, std::move(made)).first->second;
  }

  // The workspace a candidate needs under its own math type, where it is usable and that fits
  // kMaxWorkspaceBytes; else nothing.
  template <ConvDirection D>
  std::optional<std::size_t> usable_workspace(Plan& plan, const typename ConvApi<D>::Perf& perf) {
    if (!usable(perf, plan.arithmetic)) return std::nullopt;
    if (plan.arithmetic.tensor_cores) {
      R50_CUDNN_CHECK(cudnnSetConvolutionMathType(plan.descriptors.conv, perf.mathType));
    }
    std::size_t bytes = 0;
    if (ConvApi<D>::workspace(handle, plan.descriptors, perf.algo, &bytes) != CUDNN_STATUS_SUCCESS ||
        bytes > kMaxWorkspaceBytes) {
      return std::nullopt;
    }
    return bytes;
  }

  // cuDNN's candidates in its order of preference (heuristics) or of measured time (benchmark):
  // the usable ones whose workspace fits kMaxWorkspaceBytes, the first of them adopted.
  template <ConvDirection D>
  void choose(Plan& plan, const Operands& operands) {
    using Api = ConvApi<D>;
    typename Api::Perf perf[Api::kAlgorithms];
    int got = 0;
    R50_CUDNN_CHECK(Api::heuristics(handle, plan.descriptors, Api::kAlgorithms, &got, perf));
    if (benchmark) {
      // Time every candidate with a workspace as large as the hungriest usable one needs.
      std::size_t largest = 0;
      for (int i = 0; i < got; ++i) largest = std::max(largest, usable_workspace<D>(plan, perf[i]).value_or(0));
      // The search offers what the descriptors' math type allows: the plan's, not the last candidate's.
      R50_CUDNN_CHECK(cudnnSetConvolutionMathType(plan.descriptors.conv, plan.arithmetic.math));
      const Buffer scratch = workspace_of(largest);
      R50_CUDNN_CHECK(Api::find(handle, plan.descriptors, operands, Api::kAlgorithms, &got, perf,
                                scratch.data(), largest));
    }
    for (int i = 0; i < got; ++i) {
      if (const std::optional<std::size_t> bytes = usable_workspace<D>(plan, perf[i])) {
        plan.candidates.push_back({static_cast<int>(perf[i].algo), perf[i].mathType, *bytes, Api::name(perf[i].algo),
                                   benchmark ? perf[i].time : 0.0f});
      }
    }
    if (plan.candidates.empty()) {
      R50_THROW("cuDNN offers no ", plan.arithmetic.name, " algorithm for conv2d ", conv_direction_name(D),
                " with ", layout_name(plan.choice.layout), " x ", plan.choice.x.str(), " and w ",
                plan.choice.w.str(), " (", got, " candidates)");
    }
    plan.adopt_next();
  }

  // The operand direction D writes, and its element count.
  template <ConvDirection D>
  static std::pair<void* Operands::*, std::int64_t> output_of(const Shape& x, const Shape& w, const Shape& y) {
    return D == ConvDirection::Forward        ? std::pair{&Operands::y, y.numel()}
           : D == ConvDirection::BackwardData ? std::pair{&Operands::x, x.numel()}
                                              : std::pair{&Operands::w, w.numel()};
  }

  // Zero bits are +0 in F32, F16 and BF16 alike.
  template <ConvDirection D>
  void zero_output(const Shape& x, const Shape& w, const Shape& y, DType dtype, const Operands& operands) {
    const auto [member, count] = output_of<D>(x, w, y);
    void* output = operands.*member;
    if (count == 0) return;
    const cudaError_t status =
        cudaMemsetAsync(output, 0, static_cast<std::size_t>(count) * dtype_size(dtype), stream);
    R50_CHECK(status == cudaSuccess, "cudaMemsetAsync failed: ", cudaGetErrorString(status));
  }

  // output = conv + beta·output, beta 0 or 1.
  template <ConvDirection D>
  void run(const Shape& x, const Shape& w, const Shape& y, DType dtype, Layout layout,
           const Conv2dParams& params, const Operands& operands, float beta) {
    using Api = ConvApi<D>;
    if (x.numel() == 0 || w.numel() == 0 || y.numel() == 0) {
      // A sum of nothing, which cuDNN refuses to compute: adds nothing, or overwrites with zeros.
      if (beta == 0.0f) zero_output<D>(x, w, y, dtype, operands);
      return;
    }
    Plan& chosen = plan<D>(x, w, y, dtype, layout, params, operands, beta != 0.0f);
    for (;;) {
      const Buffer scratch = workspace_of(chosen.workspace_bytes);
      const cudnnStatus_t status = Api::run(handle, chosen.descriptors, operands,
                                            static_cast<typename Api::Algo>(chosen.algorithm), scratch.data(),
                                            chosen.workspace_bytes, beta);
      if (status == CUDNN_STATUS_SUCCESS) {
        chosen.proven = true;
        return;
      }
      // An algorithm the heuristics offered may still refuse the call, before it enqueues
      // anything; on its first call, the next candidate takes its place, as PyTorch's does.
      if (chosen.proven || !refused(status) || chosen.next == chosen.candidates.size()) {
        R50_THROW("cuDNN conv2d ", conv_direction_name(D), " with algorithm ", chosen.choice.algorithm, " (",
                  chosen.arithmetic.name, ", ", layout_name(layout), " x ", x.str(), ", w ", w.str(),
                  ") failed: ", cudnnGetErrorString(status));
      }
      chosen.adopt_next();
    }
  }
};

CudnnConvolutions::CudnnConvolutions(Allocator& allocator, void* cuda_stream, bool benchmark, bool tf32)
    : impl_(std::make_unique<Impl>(allocator, cuda_stream, benchmark, tf32)) {}

CudnnConvolutions::~CudnnConvolutions() = default;

void CudnnConvolutions::forward(const Tensor& x, const Tensor& w, const Tensor& y,
                                const Conv2dParams& params) {
  impl_->run<ConvDirection::Forward>(x.shape(), w.shape(), y.shape(), x.dtype(), x.layout(), params,
                                     {x.data(), w.data(), y.data()}, 0.0f);
}

void CudnnConvolutions::backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx,
                                      const Conv2dParams& params, bool accumulate) {
  impl_->run<ConvDirection::BackwardData>(dx.shape(), w.shape(), dy.shape(), dx.dtype(), dx.layout(),
                                          params, {dx.data(), w.data(), dy.data()},
                                          accumulate ? 1.0f : 0.0f);
}

void CudnnConvolutions::backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                                        const Conv2dParams& params) {
  impl_->run<ConvDirection::BackwardFilter>(x.shape(), dw.shape(), dy.shape(), x.dtype(), x.layout(),
                                            params, {x.data(), dw.data(), dy.data()}, 0.0f);
}

std::vector<ConvAlgorithmChoice> CudnnConvolutions::choices() const {
  std::vector<ConvAlgorithmChoice> result;
  for (const Plan* plan : impl_->order) result.push_back(plan->choice);
  return result;
}

std::int64_t cudnn_compiled_version() { return CUDNN_VERSION; }
std::int64_t cudnn_loaded_version() { return static_cast<std::int64_t>(cudnnGetVersion()); }

}  // namespace r50
