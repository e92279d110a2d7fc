#include "layer_benchmarks.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <vector>

#include "core/half.h"
#include "core/rng.h"
#include "memory/buffer.h"

namespace r50 {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Standard normal values, repeated with a period of 2^20 elements: data like a network's, filled
// without drawing a number per element of a 200 MB activation.
const std::vector<float>& value_pattern() {
  static const std::vector<float> pattern = [] {
    Rng rng(1);
    std::vector<float> values(std::size_t(1) << 20);
    for (float& value : values) value = static_cast<float>(rng.normal());
    return values;
  }();
  return pattern;
}

// value_pattern() as the bytes of `dtype` (F32, F16 or BF16) elements, rounded once.
const std::vector<unsigned char>& stored_pattern(DType dtype) {
  const auto store = [](DType stored) {
    const std::vector<float>& values = value_pattern();
    std::vector<unsigned char> bytes(values.size() * dtype_size(stored));
    floats_into(values.data(), static_cast<std::int64_t>(values.size()), bytes.data(), stored);
    return bytes;
  };
  switch (dtype) {
    case DType::F32: {
      static const std::vector<unsigned char> f32 = store(DType::F32);
      return f32;
    }
    case DType::F16: {
      static const std::vector<unsigned char> f16 = store(DType::F16);
      return f16;
    }
    case DType::BF16: {
      static const std::vector<unsigned char> bf16 = store(DType::BF16);
      return bf16;
    }
    default: R50_THROW("bench_layers fills F32, F16 or BF16 tensors, not ", dtype_name(dtype));
  }
}

void fill_with_pattern(Backend& backend, const Tensor& tensor) {
  const std::vector<unsigned char>& pattern = stored_pattern(tensor.dtype());
  // The pattern fills memory in order, whatever the layout: a flat view of the same bytes.
  const Tensor flat(tensor.data(), {tensor.numel()}, tensor.dtype(), tensor.device());
  const auto period = static_cast<std::int64_t>(value_pattern().size());
  for (std::int64_t begin = 0; begin < flat.numel(); begin += period) {
    backend.copy_from_host(flat.slice(begin, std::min(begin + period, flat.numel())), pattern.data());
  }
}

// The operands of one layer op, made and filled on the backend, and the call itself. Data and
// outputs are of the layer's dtype; batch norm's per-channel tensors are F32.
class LayerCall {
 public:
  LayerCall(Backend& backend, const LayerShape& layer) : backend_(backend), layer_(layer) {
    const Shape& x = layer.x;
    const Shape channels{x[1]};
    switch (layer.op) {
      case LayerOp::ConvForward:  // x, w -> y
      case LayerOp::ConvBackwardFilter: {  // x, dy -> dw
        const Shape y = conv2d_output_shape(x, layer.w, layer.conv);
        data({x, layer.op == LayerOp::ConvForward ? layer.w : y});
        output(layer.op == LayerOp::ConvForward ? y : layer.w);
        break;
      }
      case LayerOp::ConvBackwardData:  // dy, w -> dx
        data({conv2d_output_shape(x, layer.w, layer.conv), layer.w});
        output(x);
        break;
      case LayerOp::BatchNormForward:  // x, gamma, beta, running mean and variance -> y, saved mean, invstd
        data({x});
        constants({{channels, 1.0f}, {channels, 0.0f}, {channels, 0.0f}, {channels, 1.0f}});
        output(x);
        channel_output(channels);
        channel_output(channels);
        break;
      case LayerOp::BatchNormBackward:  // x, dy, gamma, saved mean and invstd -> dx, dgamma, dbeta
        data({x, x});
        constants({{channels, 1.0f}, {channels, 0.0f}, {channels, 1.0f}});
        output(x);
        channel_output(channels);
        channel_output(channels);
        break;
      case LayerOp::BatchNormReluForward:     // x, gamma, beta, running statistics -> y, saved mean, invstd
      case LayerOp::BatchNormAddReluForward:  // the same with the residual after the running statistics
        data({x});
        constants({{channels, 1.0f}, {channels, 0.0f}, {channels, 0.0f}, {channels, 1.0f}});
        if (layer.op == LayerOp::BatchNormAddReluForward) data({x});
        output(x);
        channel_output(channels);
        channel_output(channels);
        break;
      case LayerOp::BatchNormReluBackward:     // x, y, dy, gamma, beta, saved mean, invstd -> dx, dgamma, dbeta
      case LayerOp::BatchNormAddReluBackward:  // and the gradient at the sum after dx
        data({x, x, x});
        constants({{channels, 1.0f}, {channels, 0.0f}, {channels, 0.0f}, {channels, 1.0f}});
        output(x);
        if (layer.op == LayerOp::BatchNormAddReluBackward) output(x);
        channel_output(channels);
        channel_output(channels);
        break;
      case LayerOp::ReluForward:  // x -> y
        data({x});
        if (!layer.in_place) output(x);
        break;
      case LayerOp::ReluBackward:  // y, dy -> dx
        data({x, x});
        if (!layer.in_place) output(x);
        break;
      case LayerOp::Add:  // a, b -> y
        data({x, x});
        if (!layer.in_place) output(x);
        break;
      case LayerOp::MaxPoolForward:  // x -> y
        data({x});
        output(max_pool2d_output_shape(x, layer.pool));
        break;
      case LayerOp::MaxPoolBackward: {  // x, y, dy -> dx; y is the forward's, so windows find their maximum
        const Shape y = max_pool2d_output_shape(x, layer.pool);
        data({x});
        output(y);
        backend.max_pool2d_forward(operand(0), operand(1), layer.pool);
        data({y});
        output(x);
        break;
      }
      case LayerOp::GlobalAvgPoolForward:  // x -> y
        data({x});
        output({x[0], x[1]});
        break;
      case LayerOp::GlobalAvgPoolBackward:  // dy -> dx
        data({{x[0], x[1]}});
        output(x);
        break;
    }
  }

  void operator()() {
    Backend& b = backend_;
    const LayerShape& l = layer_;
    switch (l.op) {
      case LayerOp::ConvForward: return b.conv2d_forward(operand(0), operand(1), operand(2), l.conv);
      case LayerOp::ConvBackwardData:
        return b.conv2d_backward_data(operand(0), operand(1), operand(2), l.conv, l.accumulate);
      case LayerOp::ConvBackwardFilter: return b.conv2d_backward_filter(operand(0), operand(1), operand(2), l.conv);
      case LayerOp::BatchNormForward:
        return b.batch_norm_forward_training(operand(0), operand(1), operand(2), operand(3), operand(4), operand(5),
                                             operand(6), operand(7), BatchNormParams{});
      case LayerOp::BatchNormBackward:
        return b.batch_norm_backward_training(operand(0), operand(1), operand(2), operand(3), operand(4),
                                              operand(5), operand(6), operand(7));
      case LayerOp::BatchNormReluForward:
        return b.batch_norm_relu_forward_training(operand(0), operand(1), operand(2), operand(3), operand(4),
                                                  Tensor(), operand(5), operand(6), operand(7), BatchNormParams{});
      case LayerOp::BatchNormAddReluForward:
        return b.batch_norm_relu_forward_training(operand(0), operand(1), operand(2), operand(3), operand(4),
                                                  operand(5), operand(6), operand(7), operand(8), BatchNormParams{});
      case LayerOp::BatchNormReluBackward:
        return b.batch_norm_relu_backward_training(operand(0), operand(1), operand(2), operand(3), operand(4),
                                                   operand(5), operand(6), operand(7), Tensor(), operand(8),
                                                   operand(9));
      case LayerOp::BatchNormAddReluBackward:
        return b.batch_norm_relu_backward_training(operand(0), operand(1), operand(2), operand(3), operand(4),
                                                   operand(5), operand(6), operand(7), operand(8), operand(9),
                                                   operand(10));
      case LayerOp::ReluForward: return b.relu_forward(operand(0), operand(l.in_place ? 0 : 1));
      case LayerOp::ReluBackward: return b.relu_backward(operand(0), operand(1), operand(l.in_place ? 1 : 2));
      case LayerOp::Add: return b.add(operand(0), operand(1), operand(l.in_place ? 0 : 2));
      case LayerOp::MaxPoolForward: return b.max_pool2d_forward(operand(0), operand(1), l.pool);
      case LayerOp::MaxPoolBackward:
        return b.max_pool2d_backward(operand(0), operand(1), operand(2), operand(3), l.pool);
      case LayerOp::GlobalAvgPoolForward: return b.global_avg_pool_forward(operand(0), operand(1));
      case LayerOp::GlobalAvgPoolBackward: return b.global_avg_pool_backward(operand(0), operand(1));
    }
  }

 private:
  const Tensor& operand(std::size_t i) const { return operands_.at(i).tensor(); }

  OwnedTensor& make(const Shape& shape, DType dtype) {
    operands_.emplace_back(backend_.allocator(), shape, dtype, backend_.device(),
                           shape.rank() == 4 ? layer_.layout : Layout::RowMajor);
    return operands_.back();
  }
  void data(std::initializer_list<Shape> shapes) {
    for (const Shape& shape : shapes) fill_with_pattern(backend_, make(shape, layer_.dtype));
  }
  void output(const Shape& shape) { backend_.fill(make(shape, layer_.dtype), 0.0f); }
  // Batch norm's per-channel inputs and outputs.
  void constants(std::initializer_list<std::pair<Shape, float>> values) {
    for (const auto& [shape, value] : values) backend_.fill(make(shape, DType::F32), value);
  }
  void channel_output(const Shape& shape) { backend_.fill(make(shape, DType::F32), 0.0f); }

  Backend& backend_;
  const LayerShape& layer_;
  std::vector<OwnedTensor> operands_;
};

// Runs `call` once per iteration and gives Google Benchmark each call's device time. Call i lies
// between marks 2(i mod 2) and 2(i mod 2) + 1, and is read only after call i + 1 is enqueued, so
// the host queues each call while the device still runs the one before: the time between marks is
// the call's own, not the host's launch latency (unless launching a call takes the host longer
// than running it takes the device, which is then what the figure shows). Returns the mean
// milliseconds per call.
template <typename Call>
double time_each_call(benchmark::State& state, Backend& backend, Call&& call) {
  call();  // unmeasured: cuDNN's algorithm choice, workspace, caches
  const std::unique_ptr<Backend::Timer> timer = backend.make_timer(4);
  const std::int64_t iterations = state.max_iterations;
  std::int64_t i = 0;
  double total_ms = 0;
  for (auto _ : state) {
    const int mark = 2 * static_cast<int>(i % 2);
    timer->record(mark);
    call();
    timer->record(mark + 1);
    double ms = 0;
    if (i > 0) ms += timer->milliseconds(2 - mark, 3 - mark);  // the call before this one
    if (i == iterations - 1) ms += timer->milliseconds(mark, mark + 1);
    state.SetIterationTime(ms / 1e3);
    total_ms += ms;
    ++i;
  }
  backend.synchronize();
  return i > 0 ? total_ms / static_cast<double>(i) : 0.0;
}

struct MatrixOperands {
  OwnedTensor x, w, b, y;
};
MatrixOperands make_matrix_operands(Backend& backend, int n, DType dtype) {
  Allocator& memory = backend.allocator();
  MatrixOperands m{OwnedTensor(memory, {n, n}, dtype, backend.device()),
                   OwnedTensor(memory, {n, n}, dtype, backend.device()),
                   OwnedTensor(memory, {n}, dtype, backend.device()),
                   OwnedTensor(memory, {n, n}, dtype, backend.device())};
  fill_with_pattern(backend, m.x);
  fill_with_pattern(backend, m.w);
  backend.fill(m.b, 0.0f);
  return m;
}

// y = x·wᵀ + b: 2n³ flops for the product; the bias's n² are left out.
double matrix_flops(int n) { return 2.0 * n * static_cast<double>(n) * n; }

struct CopyOperands {
  OwnedTensor src, dst;
};
CopyOperands make_copy_operands(Backend& backend, std::size_t bytes) {
  const auto floats = static_cast<std::int64_t>(bytes / sizeof(float));
  CopyOperands c{OwnedTensor(backend.allocator(), {floats}, DType::F32, backend.device()),
                 OwnedTensor(backend.allocator(), {floats}, DType::F32, backend.device())};
  fill_with_pattern(backend, c.src);
  return c;
}

// A copy reads every byte once and writes it once.
double copy_bytes_moved(std::size_t bytes) { return 2.0 * static_cast<double>(bytes); }

// The fastest of `runs` calls, in milliseconds, after one unmeasured call.
template <typename Call>
double fastest_ms(Backend& backend, int runs, Call&& call) {
  call();
  const std::unique_ptr<Backend::Timer> timer = backend.make_timer(2);
  double best = 0;
  for (int run = 0; run < runs; ++run) {
    timer->record(0);
    call();
    timer->record(1);
    const double ms = timer->milliseconds(0, 1);
    if (run == 0 || ms < best) best = ms;
  }
  return best;
}

std::atomic<int> failures{0};

// Runs a benchmark's body; an error (out of memory at a large batch, a shape the library refuses)
// marks that benchmark alone as failed, with the message, and the others still run.
template <typename Body>
void skipped_on_error(benchmark::State& state, Body&& body) {
  try {
    body();
  } catch (const std::exception& error) {
    ++failures;
    state.SkipWithError(error.what());
  }
}

}  // namespace

PeakSizes default_peak_sizes(const Backend& backend) {
  if (!backend.device().is_cpu()) return PeakSizes{};
  return PeakSizes{1024, std::size_t(256) << 20};
}

DevicePeaks measure_peaks(Backend& backend, const PeakSizes& sizes, int runs) {
  DevicePeaks peaks;
  {
    const MatrixOperands m = make_matrix_operands(backend, sizes.matrix, sizes.matrix_dtype);
    const double ms = fastest_ms(backend, runs, [&] { backend.linear_forward(m.x, m.w, m.b, m.y); });
    peaks.tflops = matrix_flops(sizes.matrix) / (ms * 1e9);
  }
  {
    const CopyOperands c = make_copy_operands(backend, sizes.copy_bytes);
    const double ms = fastest_ms(backend, runs, [&] { backend.copy(c.dst, c.src); });
    peaks.gb_per_s = copy_bytes_moved(sizes.copy_bytes) / (ms * 1e6);
  }
  backend.allocator().empty_cache();  // the layers' tensors are of other sizes
  return peaks;
}

void layer_benchmark(benchmark::State& state, Backend* backend, const LayerShape* layer, const DevicePeaks* peaks,
                     LayerResult* result) {
  double ms_per_call = 0;
  skipped_on_error(state, [&] {
    LayerCall call(*backend, *layer);
    ms_per_call = time_each_call(state, *backend, call);
  });
  backend->allocator().empty_cache();  // one benchmark's tensors at a time on the device
  if (ms_per_call <= 0) return;
  const double flops = layer_flops(*layer);
  if (flops > 0) {
    state.counters["tflops"] = flops / (ms_per_call * 1e9);
  } else {
    state.counters["gb_per_s"] = layer_min_bytes(*layer) / (ms_per_call * 1e6);
  }
  result->measured = true;
  result->ms_per_call = ms_per_call;
  result->roofline_ms = roofline_ms(*layer, *peaks);
  state.counters["fraction_of_peak"] = result->fraction_of_roofline();
  state.counters["calls_per_step"] = layer->calls_per_step;
  state.counters["ms_per_step"] = result->ms_per_step();
}

void matrix_peak_benchmark(benchmark::State& state, Backend* backend, const PeakSizes* sizes,
                           const DevicePeaks* peaks) {
  double ms = 0;
  skipped_on_error(state, [&] {
    const MatrixOperands m = make_matrix_operands(*backend, sizes->matrix, sizes->matrix_dtype);
    ms = time_each_call(state, *backend, [&] { backend->linear_forward(m.x, m.w, m.b, m.y); });
  });
  backend->allocator().empty_cache();
  if (ms <= 0) return;
  const double tflops = matrix_flops(sizes->matrix) / (ms * 1e9);
  state.counters["tflops"] = tflops;
  state.counters["fraction_of_peak"] = tflops / peaks->tflops;
}

void bandwidth_peak_benchmark(benchmark::State& state, Backend* backend, const PeakSizes* sizes,
                              const DevicePeaks* peaks) {
  double ms = 0;
  skipped_on_error(state, [&] {
    const CopyOperands c = make_copy_operands(*backend, sizes->copy_bytes);
    ms = time_each_call(state, *backend, [&] { backend->copy(c.dst, c.src); });
  });
  backend->allocator().empty_cache();
  if (ms <= 0) return;
  const double gb_per_s = copy_bytes_moved(sizes->copy_bytes) / (ms * 1e6);
  state.counters["gb_per_s"] = gb_per_s;
  state.counters["fraction_of_peak"] = gb_per_s / peaks->gb_per_s;
  state.counters["copy_mib"] = static_cast<double>(sizes->copy_bytes) / kMiB;
}

int failed_layer_benchmarks() { return failures.load(); }

}  // namespace r50
