// cuDNN's graph API, through cudnn-frontend's C++ graph interface (cudnn_frontend::graph::Graph,
// header-only, from PyPI's nvidia-cudnn-frontend, which scripts/install_deps.sh fetches). A
// convolution shape gets one graph of one node. validate() checks it, build_operation_graph()
// lowers it to a cuDNN operation graph, create_execution_plans() asks cuDNN's heuristics for
// engine configurations (mode A's ranking, then the fallback list, whose engines take shapes the
// fast ones do not), deselect_*() strikes out the ones refused below, check_support() says whether
// any is left, and build_plan_at_index(), where cuDNN says what it really supports, builds the
// first that builds, in the heuristics' order, or under benchmark each of the first few, of which
// the fastest on the call's own operands wins. The graph, the configuration's index and its
// workspace size are the plan.
//
// Numerics. The graph API has no math type: each engine states what it does to the numbers in its
// numerical notes, and refusing notes gives the legacy API's rules (cudnn_conv.cpp). The compute
// type is FLOAT for every dtype, so F16 and BF16 data is summed in fp32. TENSOR_CORE on F32 data
// means tensor cores, which multiply fp32 data in TF32: refused unless tf32 was asked for.
// DOWN_CONVERT_INPUTS (the data converted to a narrower type on the way, as under the legacy API's
// TENSOR_OP_MATH_ALLOW_CONVERSION) and REDUCED_PRECISION_REDUCTION (sums narrower than the compute
// type) are refused for every dtype. PyTorch's cuDNN v8 path draws the same lines for TF32 and
// down-conversion.
//
// Accumulation. cudnn-frontend's conv_dgrad node writes its output with alpha 1 and beta 0 and
// exposes neither, so dx += result would take a second node: a pointwise ADD of the convolution
// and dx's old value, written to dx itself. One tensor would be both an input and the output of
// the graph, which cuDNN does not promise to handle in place, and a dgrad with an epilogue is a
// fusion few engines offer. So backward data with accumulate goes to the legacy API, whose
// beta = 1 does exactly that, through a CudnnConvolutions on the same stream and allocator; so do
// the empty sums cuDNN refuses to compute (the legacy class writes zeros, or adds nothing).
//
// Layouts. A tensor's dimensions are [N, C, H, W] ([K, C, R, S]) whatever its layout; its strides
// say NCHW or NHWC (KRSC). They are part of the graph, so the layout is part of a plan's key. So
// is the operands' alignment: engines are chosen for pointers aligned as the tensors declare
// (16 bytes unless told otherwise, which an engine may rely on for vector loads without checking),
// so a view that starts mid-allocation gets a plan of its own that declares what it has.
#include "ops/cuda/cudnn_graph.h"

#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <cudnn_frontend.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "memory/buffer.h"
#include "ops/cuda/cuda_check.h"
#include "ops/cuda/cudnn_check.h"
#include "ops/cuda/cudnn_conv.h"

namespace r50 {
namespace {

namespace fe = cudnn_frontend;

// As the legacy API's cap (cudnn_conv.cpp): a batch that fits without a larger workspace should
// not fail because of one.
constexpr std::int64_t kMaxWorkspaceBytes = std::int64_t(1) << 30;

// Under benchmark, how many configurations are built and timed, in the heuristics' order: they
// list dozens per shape, the promising ones first, and building one may compile a kernel.
constexpr std::size_t kTimedCandidates = 8;
// A candidate's time is the fastest of this many runs, after one that warms it up.
constexpr int kTimedRuns = 3;

// The graph's tensor uids, by their role in the forward: x the image side (dx for the backward of
// the data), w the filter side (dw for the backward of the filter), y the output side (dy).
constexpr std::int64_t kX = 1, kW = 2, kY = 3;

// The device pointers of one call, in the same roles.
struct Operands {
  void* x;
  void* w;
  void* y;
};

fe::DataType_t data_type_of(DType dtype) {
  switch (dtype) {
    case DType::F32: return fe::DataType_t::FLOAT;
    case DType::F16: return fe::DataType_t::HALF;
    case DType::BF16: return fe::DataType_t::BFLOAT16;
    default: R50_THROW("cuDNN convolutions take F32, F16 or BF16 tensors, not ", dtype_name(dtype));
  }
}

const char* arithmetic_name(DType dtype, bool tf32) {
  if (dtype != DType::F32) return dtype == DType::F16 ? "fp16" : "bf16";
  return tf32 ? "tf32" : "fp32 (no TF32)";
}

// The numerical notes of the engines refused (the file's opening comment).
std::vector<fe::NumericalNote_t> refused_notes(DType dtype, bool tf32) {
  std::vector<fe::NumericalNote_t> notes = {fe::NumericalNote_t::DOWN_CONVERT_INPUTS,
                                            fe::NumericalNote_t::REDUCED_PRECISION_REDUCTION};
  if (dtype == DType::F32 && !tf32) notes.push_back(fe::NumericalNote_t::TENSOR_CORE);
  return notes;
}

// The strides of a [N, C, H, W] tensor (or [K, C, R, S] filter) stored NCHW, or NHWC (KRSC).
std::vector<std::int64_t> strides_of(const Shape& shape, Layout layout) {
  const std::int64_t C = shape[1], H = shape[2], W = shape[3];
  if (layout == Layout::ChannelsLast) return {H * W * C, 1, W * C, C};
  return {C * H * W, H * W, W, 1};
}

// The largest power of two up to 16 bytes that divides every operand's address: what the tensors
// may declare as their alignment.
std::int64_t alignment_of(const Operands& operands) {
  const std::uintptr_t bits = reinterpret_cast<std::uintptr_t>(operands.x) |
                              reinterpret_cast<std::uintptr_t>(operands.w) |
                              reinterpret_cast<std::uintptr_t>(operands.y) | 16u;
  return static_cast<std::int64_t>(bits & (~bits + 1));  // the lowest bit set
}

std::string describe(const ConvAlgorithmChoice& c) {
  return detail::concat("conv2d ", conv_direction_name(c.direction), " with ", dtype_name(c.dtype), " ",
                        layout_name(c.layout), " x ", c.x.str(), " and w ", c.w.str(), " (stride ", c.params.stride,
                        ", padding ", c.params.padding, ")");
}

// Throws, naming the step, the convolution and cudnn-frontend's message, unless `status` is good.
void check(fe::error_t status, const char* step, const ConvAlgorithmChoice& convolution) {
  if (status.is_good()) return;
  R50_THROW("cuDNN graph API: ", step, " failed for ", describe(convolution), ": ", status.get_message());
}

// A tensor's dimensions, strides, data type and alignment, under `name` and `uid`.
fe::graph::Tensor_attributes& describe_tensor(fe::graph::Tensor_attributes& tensor, const char* name,
                                              std::int64_t uid, const Shape& shape, Layout layout,
                                              fe::DataType_t type, std::int64_t alignment) {
  return tensor.set_name(name)
      .set_uid(uid)
      .set_dim(shape.dims())
      .set_stride(strides_of(shape, layout))
      .set_data_type(type)
      .set_alignment(alignment);
}

// Adds the convolution of `c` in its direction to `graph`: two input tensors, one node, its output.
void add_convolution(fe::graph::Graph& graph, const ConvAlgorithmChoice& c, const Shape& y, std::int64_t alignment) {
  const fe::DataType_t type = data_type_of(c.dtype);
  const auto input = [&](const char* name, std::int64_t uid, const Shape& shape) {
    fe::graph::Tensor_attributes attributes;
    return graph.tensor(describe_tensor(attributes, name, uid, shape, c.layout, type, alignment));
  };
  const std::vector<std::int64_t> padding(2, c.params.padding), stride(2, c.params.stride), dilation(2, 1);
  switch (c.direction) {
    case ConvDirection::Forward: {
      auto attributes =
          fe::graph::Conv_fprop_attributes().set_padding(padding).set_stride(stride).set_dilation(dilation);
      auto output = graph.conv_fprop(input("x", kX, c.x), input("w", kW, c.w), attributes.set_name("forward"));
      describe_tensor(*output, "y", kY, y, c.layout, type, alignment).set_output(true);
      return;
    }
    case ConvDirection::BackwardData: {
      auto attributes =
          fe::graph::Conv_dgrad_attributes().set_padding(padding).set_stride(stride).set_dilation(dilation);
      auto output =
          graph.conv_dgrad(input("dy", kY, y), input("w", kW, c.w), attributes.set_name("backward_data"));
      describe_tensor(*output, "dx", kX, c.x, c.layout, type, alignment).set_output(true);
      return;
    }
    case ConvDirection::BackwardFilter: {
      auto attributes =
          fe::graph::Conv_wgrad_attributes().set_padding(padding).set_stride(stride).set_dilation(dilation);
      auto output =
          graph.conv_wgrad(input("dy", kY, y), input("x", kX, c.x), attributes.set_name("backward_filter"));
      describe_tensor(*output, "dw", kW, c.w, c.layout, type, alignment).set_output(true);
      return;
    }
  }
}

struct Plan {
  fe::graph::Graph graph;
  std::int64_t index = -1;  // of the engine configuration built, in the heuristics' list
  std::size_t workspace_bytes = 0;
  ConvAlgorithmChoice choice;
};

// Direction, dtype, layout, x's and w's four dimensions, stride, padding, alignment. Fixed-size,
// so that the lookup every convolution makes allocates nothing.
using Dims4 = std::array<std::int64_t, 4>;
using PlanKey = std::tuple<int, DType, Layout, Dims4, Dims4, int, int, std::int64_t>;

Dims4 dims4(const Shape& shape) { return {shape[0], shape[1], shape[2], shape[3]}; }

// Two CUDA events for timing, destroyed however the timing ends.
struct EventPair {
  cudaEvent_t start = nullptr, stop = nullptr;
  EventPair() {
    R50_CUDA_CHECK(cudaEventCreate(&start));
    R50_CUDA_CHECK(cudaEventCreate(&stop));
  }
  ~EventPair() {
    if (stop) cudaEventDestroy(stop);
    if (start) cudaEventDestroy(start);
  }
  EventPair(const EventPair&) = delete;
  EventPair& operator=(const EventPair&) = delete;
};

bool empty_sum(const Tensor& a, const Tensor& b, const Tensor& c) {
  return a.numel() == 0 || b.numel() == 0 || c.numel() == 0;
}

}  // namespace

struct CudnnGraphConvolutions::Impl {
  Allocator& allocator;
  cudaStream_t stream;
  bool benchmark;
  bool tf32;  // for F32 data
  cudnnHandle_t handle = nullptr;
  CudnnConvolutions legacy;  // the accumulating backward data, and empty sums
  std::map<PlanKey, std::unique_ptr<Plan>> plans;
  std::vector<const Plan*> order;  // plans in the order they were made, for reports

  Impl(Allocator& allocator_, void* stream_, bool benchmark_, bool tf32_)
      : allocator(allocator_),
        stream(static_cast<cudaStream_t>(stream_)),
        benchmark(benchmark_),
        tf32(tf32_),
        legacy(allocator_, stream_, benchmark_, tf32_) {
    handle = make_cudnn_handle(stream);
  }
  ~Impl() {
    plans.clear();  // their execution plans were made with the handle
    if (handle) cudnnDestroy(handle);
  }

  // A call's workspace, for that call alone, as the legacy class takes it (cudnn_conv.cpp).
  Buffer workspace_of(std::size_t bytes) { return Buffer(allocator, bytes); }

  // The operands by UID, refilled by every call: its three nodes are allocated once, not per call.
  std::unordered_map<std::int64_t, void*> pack{{kX, nullptr}, {kW, nullptr}, {kY, nullptr}};

  fe::error_t execute(const Plan& plan, std::int64_t index, const Operands& operands, void* workspace) {
    pack[kX] = operands.x;
    pack[kW] = operands.w;
    pack[kY] = operands.y;
    return plan.graph.execute_plan_at_index(handle, pack, workspace, index);
  }

  std::size_t workspace_bytes(const Plan& plan, std::int64_t index) const {
    std::int64_t bytes = 0;
    check(plan.graph.get_workspace_size_plan_at_index(index, bytes), "get_workspace_size_plan_at_index()",
          plan.choice);
    return static_cast<std::size_t>(bytes);
  }

  // The plan for the call's shape, dtype, layout and alignment, made on first use.
  const Plan& plan(ConvDirection direction, const Shape& x, const Shape& w, const Shape& y, DType dtype,
                   Layout layout, const Conv2dParams& params, const Operands& operands) {
    const std::int64_t alignment = alignment_of(operands);
    const PlanKey key{static_cast<int>(direction), dtype, layout, dims4(x), dims4(w), params.stride,
                      params.padding, alignment};
    auto found = plans.find(key);
    if (found != plans.end()) return *found->second;
    auto made = std::make_unique<Plan>();
    made->choice.direction = direction;
    made->choice.x = x;
    made->choice.w = w;
    made->choice.dtype = dtype;
    made->choice.layout = layout;
    made->choice.params = params;
    made->choice.search_ms = 0.0f;
    try {
      build(*made, y, alignment, operands);
    } catch (const fe::cudnnException& error) {
      R50_THROW("cuDNN graph API: building a plan for ", describe(made->choice), " threw: ", error.what());
    }
    made->choice.workspace_bytes = made->workspace_bytes;
    order.push_back(made.get());
    return *plans.emplace(key, std::move(made)).first->second;
  }

  // The graph of one convolution, its engine configurations less those refused, and the one
  // chosen: the first that builds, or under benchmark the fastest of the first that build.
  void build(Plan& plan, const Shape& y, std::int64_t alignment, const Operands& operands) {
    fe::graph::Graph& graph = plan.graph;
    const ConvAlgorithmChoice& c = plan.choice;
    graph.set_io_data_type(data_type_of(c.dtype))
        .set_intermediate_data_type(fe::DataType_t::FLOAT)
        .set_compute_data_type(fe::DataType_t::FLOAT);
    add_convolution(graph, c, y, alignment);
    check(graph.validate(), "validate()", c);
    check(graph.build_operation_graph(handle), "build_operation_graph()", c);
    check(graph.create_execution_plans({fe::HeurMode_t::A, fe::HeurMode_t::FALLBACK}), "create_execution_plans()",
          c);
    graph.deselect_numeric_notes(refused_notes(c.dtype, tf32));
    graph.deselect_workspace_greater_than(kMaxWorkspaceBytes);
    const std::int64_t configurations = graph.get_execution_plan_count();
    fe::error_t supported = graph.check_support();
    if (supported.is_bad()) {
      R50_THROW("cuDNN graph API offers no ", arithmetic_name(c.dtype, tf32), " engine for ", describe(c), " among ",
                configurations, " configurations (refused: TF32 for strict fp32, conversions to narrower types, "
                "sums narrower than fp32, workspaces over 1 GiB): ", supported.get_message());
    }
    std::vector<std::int64_t> built;
    // What the failures said, each message once and the first few only: the configurations
    // deselected above fail here too, and their message must not hide a real build failure's.
    std::string failures;
    int distinct_failures = 0;
    const std::size_t wanted = benchmark ? kTimedCandidates : 1;
    for (std::int64_t i = 0; i < configurations && built.size() < wanted; ++i) {
      fe::error_t status = graph.build_plan_at_index(i);
      if (status.is_good()) {
        built.push_back(i);
      } else if (failures.find(status.get_message()) == std::string::npos && ++distinct_failures <= 4) {
        failures += (failures.empty() ? "" : " | ") + status.get_message();
      }
    }
    if (distinct_failures > 4) failures += " | and " + std::to_string(distinct_failures - 4) + " more";
    R50_CHECK(!built.empty(), "cuDNN graph API: no ", arithmetic_name(c.dtype, tf32), " engine configuration of ",
              configurations, " builds for ", describe(c), "; the failures said: ", failures);
    plan.index = built.front();
    if (benchmark) choose_fastest(plan, built, operands);
    plan.workspace_bytes = workspace_bytes(plan, plan.index);
    std::string name;
    check(graph.get_plan_name_at_index(plan.index, name), "get_plan_name_at_index()", c);
    plan.choice.algorithm = name;
  }

  // Times each candidate on the call's operands, writing its output as the call will, and keeps the
  // fastest in plan.index and its time in the choice. A candidate that fails to run is passed over.
  void choose_fastest(Plan& plan, const std::vector<std::int64_t>& candidates, const Operands& operands) {
    std::size_t largest = 0;
    for (std::int64_t index : candidates) largest = std::max(largest, workspace_bytes(plan, index));
    const Buffer scratch = workspace_of(largest);
    const EventPair events;
    float best = std::numeric_limits<float>::infinity();
    for (std::int64_t index : candidates) {
      if (execute(plan, index, operands, scratch.data()).is_bad()) continue;
      float fastest = std::numeric_limits<float>::infinity();
      for (int run = 0; run < kTimedRuns; ++run) {
        R50_CUDA_CHECK(cudaEventRecord(events.start, stream));
        const bool ran = execute(plan, index, operands, scratch.data()).is_good();
        R50_CUDA_CHECK(cudaEventRecord(events.stop, stream));
        R50_CUDA_CHECK(cudaEventSynchronize(events.stop));
        float elapsed = 0.0f;
        R50_CUDA_CHECK(cudaEventElapsedTime(&elapsed, events.start, events.stop));
        if (ran) fastest = std::min(fastest, elapsed);
      }
      if (fastest < best) {
        best = fastest;
        plan.index = index;
      }
    }
    R50_CHECK(best < std::numeric_limits<float>::infinity(), "cuDNN graph API: none of the ", candidates.size(),
              " engines built for ", describe(plan.choice), " ran when timed");
    plan.choice.search_ms = best;
  }

  void run(ConvDirection direction, const Shape& x, const Shape& w, const Shape& y, DType dtype, Layout layout,
           const Conv2dParams& params, const Operands& operands) {
    const Plan& chosen = plan(direction, x, w, y, dtype, layout, params, operands);
    const Buffer scratch = workspace_of(chosen.workspace_bytes);
    check(execute(chosen, chosen.index, operands, scratch.data()), "execute_plan_at_index()", chosen.choice);
  }
};

CudnnGraphConvolutions::CudnnGraphConvolutions(Allocator& allocator, void* cuda_stream, bool benchmark, bool tf32)
    : impl_(std::make_unique<Impl>(allocator, cuda_stream, benchmark, tf32)) {}

CudnnGraphConvolutions::~CudnnGraphConvolutions() = default;

void CudnnGraphConvolutions::forward(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& params) {
  if (empty_sum(x, w, y)) return impl_->legacy.forward(x, w, y, params);
  impl_->run(ConvDirection::Forward, x.shape(), w.shape(), y.shape(), x.dtype(), x.layout(), params,
             {x.data(), w.data(), y.data()});
}

void CudnnGraphConvolutions::backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx,
                                           const Conv2dParams& params, bool accumulate) {
  if (accumulate || empty_sum(dy, w, dx)) return impl_->legacy.backward_data(dy, w, dx, params, accumulate);
  impl_->run(ConvDirection::BackwardData, dx.shape(), w.shape(), dy.shape(), dx.dtype(), dx.layout(), params,
             {dx.data(), w.data(), dy.data()});
}

void CudnnGraphConvolutions::backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                                             const Conv2dParams& params) {
  if (empty_sum(x, dy, dw)) return impl_->legacy.backward_filter(x, dy, dw, params);
  impl_->run(ConvDirection::BackwardFilter, x.shape(), dw.shape(), dy.shape(), x.dtype(), x.layout(), params,
             {x.data(), dw.data(), dy.data()});
}

std::vector<ConvAlgorithmChoice> CudnnGraphConvolutions::choices() const {
  std::vector<ConvAlgorithmChoice> result;
  for (const Plan* plan : impl_->order) result.push_back(plan->choice);
  for (ConvAlgorithmChoice choice : impl_->legacy.choices()) {
    choice.algorithm = "legacy API: " + choice.algorithm;
    result.push_back(choice);
  }
  return result;
}

}  // namespace r50
