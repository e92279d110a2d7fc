// CUDA graphs on the CUDA backend (Backend::capture) and the training step captured once and
// replayed (GraphTrainStep, bench_resnet50 --cuda-graph): a replay is the eager step bit for bit,
// allocates nothing, and a capture that cannot work fails clearly and leaves the backend usable.
// The allocator's capture scope alone is tests/memory/caching_allocator_capture_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "backends/cuda_backend_for_tests.h"
#include "core/rng.h"
#include "gpu_skip.h"
#include "memory/buffer.h"
#include "train/graph_step.h"
#include "train/train_step.h"

namespace r50 {
namespace {

constexpr int kClasses = 10;
const SgdParams kSgd{0.01f, 0.9f, 1e-4f, 0.0f, false};

std::vector<float> to_host(Backend& backend, const Tensor& tensor) {
  std::vector<float> host(static_cast<std::size_t>(tensor.numel()));
  backend.copy_to_host(host.data(), tensor);
  return host;
}

OwnedTensor filled(Backend& backend, std::int64_t count, float value) {
  OwnedTensor tensor(backend.allocator(), {count}, DType::F32, backend.device());
  backend.fill(tensor, value);
  return tensor;
}

// An odd size, so that a tail the kernels mishandle would show.
constexpr std::int64_t kOdd = 1037;

TEST(CudaGraph, CapturingRunsNothingAndEachReplayRunsTheWorkOnceMore) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  const OwnedTensor x = filled(backend, kOdd, 0.0f), one = filled(backend, kOdd, 1.0f);
  const auto graph = backend.capture([&] { backend.add(x, one, x); });
  EXPECT_EQ(to_host(backend, x), std::vector<float>(kOdd, 0.0f));
  for (int i = 0; i < 3; ++i) graph->replay();
  EXPECT_EQ(to_host(backend, x), std::vector<float>(kOdd, 3.0f));
}

// The capture fails, names what broke it, and the backend runs and captures as before.
void expect_refused_then_usable(Backend& backend, const std::function<void(const Tensor&)>& waits,
                                const std::string& named) {
  const OwnedTensor x = filled(backend, kOdd, 0.0f);
  try {
    backend.capture([&] {
      backend.fill(x, 5.0f);
      waits(x);
    });
    FAIL() << "a capture that " << named << " succeeded";
  } catch (const Error& error) {
    const std::string message = error.what();
    std::cout << message << "\n";
    EXPECT_NE(message.find("CUDA graph capture failed"), std::string::npos) << message;
    EXPECT_NE(message.find(named + " while a CUDA graph is being captured"), std::string::npos) << message;
  }
  EXPECT_EQ(to_host(backend, x), std::vector<float>(kOdd, 0.0f));  // the captured fill never ran
  backend.fill(x, 2.0f);
  EXPECT_EQ(to_host(backend, x), std::vector<float>(kOdd, 2.0f));
  const auto graph = backend.capture([&] { backend.fill(x, 7.0f); });
  graph->replay();
  EXPECT_EQ(to_host(backend, x), std::vector<float>(kOdd, 7.0f));
}

TEST(CudaGraph, ACaptureThatSynchronizesFailsClearlyAndLeavesTheBackendUsable) {
  R50_REQUIRE_GPU_OR_SKIP();
  expect_refused_then_usable(cuda(), [](const Tensor&) { cuda().synchronize(); }, "synchronize()");
}

TEST(CudaGraph, ACaptureThatCopiesToTheHostFailsClearlyAndLeavesTheBackendUsable) {
  R50_REQUIRE_GPU_OR_SKIP();
  std::vector<float> host(kOdd);
  expect_refused_then_usable(
      cuda(), [&](const Tensor& x) { cuda().copy_to_host(host.data(), x); }, "copy_to_host()");
}

TEST(CudaGraph, ACaptureThatNeedsNewDeviceMemoryFailsClearlyAndAllocatesNothing) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  const AllocatorStats before = backend.allocator().stats();
  const std::size_t more_than_cached = before.reserved_bytes + (std::size_t(64) << 20);
  try {
    backend.capture([&] { const Buffer scratch(backend.allocator(), more_than_cached); });
    FAIL() << "a capture that needed a new segment succeeded";
  } catch (const Error& error) {
    const std::string message = error.what();
    std::cout << message << "\n";
    EXPECT_NE(message.find("would need a new segment"), std::string::npos) << message;
  }
  EXPECT_EQ(backend.allocator().stats().raw_allocation_count, before.raw_allocation_count);
  const OwnedTensor x = filled(backend, kOdd, 4.0f);
  EXPECT_EQ(to_host(backend, x), std::vector<float>(kOdd, 4.0f));
}

// Batches of images of 32×32, 8 a batch unless `sizes` says otherwise, a different one each step,
// each in its own device memory (so that a replay reading the capture's batch, not the copy of
// this one, would show).
struct Batches {
  std::vector<OwnedTensor> images, labels;
};

Batches make_batches(Backend& backend, int steps, std::vector<int> sizes = {}) {
  sizes.resize(static_cast<std::size_t>(steps), 8);
  Batches batches;
  for (int step = 0; step < steps; ++step) {
    const int n = sizes[static_cast<std::size_t>(step)];
    Rng rng(100 + static_cast<std::uint64_t>(step));
    std::vector<float> pixels(static_cast<std::size_t>(n) * 3 * 32 * 32);
    for (float& value : pixels) value = static_cast<float>(rng.normal());
    std::vector<std::int32_t> classes(static_cast<std::size_t>(n));
    for (std::int32_t& label : classes) label = static_cast<std::int32_t>(rng.below(kClasses));
    batches.images.emplace_back(backend.allocator(), Shape{n, 3, 32, 32}, DType::F32, backend.device());
    batches.labels.emplace_back(backend.allocator(), Shape{n}, DType::I32, backend.device());
    backend.copy_from_host(batches.images.back(), pixels.data());
    backend.copy_from_host(batches.labels.back(), classes.data());
  }
  return batches;
}

// Every tensor of the model's state (momentum buffers too), each step's loss, the batch counters,
// and under fp16 the loss scale's count of skipped steps and its last scale.
struct TrainedState {
  std::vector<std::vector<float>> tensors;
  std::vector<float> losses;
  std::vector<std::int64_t> counters;
  std::int64_t skipped_steps = 0;
  float loss_scale = 1.0f;
};

// How a run computes: fp32, or mixed precision with the loss scale's parameters for fp16.
struct Arithmetic {
  DType compute = DType::F32;
  LossScaleParams loss_scale;
};

TrainedState train(Backend& backend, const Batches& batches, bool graph, const Arithmetic& arithmetic = {}) {
  ResNet50 model(backend, kClasses, arithmetic.compute);
  model.initialize(0);
  TrainStep step(model, kSgd, arithmetic.loss_scale);
  GraphTrainStep graph_step(step);
  TrainedState state;
  for (std::size_t i = 0; i < batches.images.size(); ++i) {
    if (graph) {
      graph_step.run(batches.images[i], batches.labels[i]);
    } else {
      step.run(batches.images[i], batches.labels[i]);
    }
    state.losses.push_back(step.loss());
  }
  if (graph) {
    // Every batch of the first one's shape past the eager steps is a replay; the others ran eagerly.
    std::int64_t like_the_first = 0;
    for (const OwnedTensor& images : batches.images) like_the_first += images.shape() == batches.images[0].shape();
    EXPECT_EQ(graph_step.replays(), like_the_first - GraphTrainStep::kEagerSteps);
  }
  for (const StateEntry& entry : model.state()) {
    if (entry.kind == StateEntry::Kind::BatchCounter) {
      state.counters.push_back(*entry.counter);
      continue;
    }
    state.tensors.push_back(to_host(backend, entry.tensor));
    if (entry.parameter) state.tensors.push_back(to_host(backend, entry.parameter->momentum));
  }
  state.skipped_steps = step.skipped_steps();
  state.loss_scale = step.loss_scale();
  return state;
}

bool identical(const TrainedState& a, const TrainedState& b) {
  if (a.tensors.size() != b.tensors.size() || a.counters != b.counters || a.skipped_steps != b.skipped_steps ||
      a.loss_scale != b.loss_scale) {
    return false;
  }
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    if (a.tensors[i].size() != b.tensors[i].size() ||
        std::memcmp(a.tensors[i].data(), b.tensors[i].data(), a.tensors[i].size() * sizeof(float)) != 0) {
      return false;
    }
  }
  return std::memcmp(a.losses.data(), b.losses.data(), a.losses.size() * sizeof(float)) == 0;
}

// The largest relative error ‖a−b‖₂/‖b‖₂ over the state's tensors.
double worst_relative_error(const TrainedState& a, const TrainedState& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    double difference = 0, norm = 0;
    for (std::size_t j = 0; j < a.tensors[i].size(); ++j) {
      difference += std::pow(double(a.tensors[i][j]) - b.tensors[i][j], 2);
      norm += std::pow(double(b.tensors[i][j]), 2);
    }
    if (norm > 0) worst = std::max(worst, std::sqrt(difference / norm));
  }
  return worst;
}

// Replayed and eager runs over the same batches: the same bits, or no further apart than two eager
// runs are.
TrainedState expect_replays_land_where_eager_steps_do(Backend& backend, const Batches& batches,
                                                      const Arithmetic& arithmetic = {}) {
  const TrainedState eager = train(backend, batches, false, arithmetic);
  const TrainedState replayed = train(backend, batches, true, arithmetic);
  for (std::size_t i = 0; i < eager.losses.size(); ++i) {
    std::cout << "step " << i + 1 << ": loss " << eager.losses[i] << " eager, " << replayed.losses[i]
              << (i < GraphTrainStep::kEagerSteps ? " (eager)" : " replayed") << "\n";
  }
  if (identical(eager, replayed)) return eager;
  // The same kernels on the same data give the same bits, unless cuDNN chose an algorithm that
  // sums in a different order each run (its non-deterministic ones): then two eager runs differ
  // too, and the replay can only be asked to differ from eager steps as much as they do.
  const TrainedState eager_again = train(backend, batches, false, arithmetic);
  if (identical(eager, eager_again)) {
    ADD_FAILURE() << "two eager runs agree bit for bit, but the replayed run differs (worst relative error "
                  << worst_relative_error(replayed, eager) << "): the graph does not replay the eager step";
    return eager;
  }
  const double spread = worst_relative_error(eager_again, eager);
  std::cout << "two eager runs differ (a non-deterministic cuDNN algorithm) by up to " << spread
            << "; the replayed run by " << worst_relative_error(replayed, eager) << "\n";
  EXPECT_EQ(replayed.counters, eager.counters);
  EXPECT_EQ(replayed.skipped_steps, eager.skipped_steps);
  EXPECT_LE(worst_relative_error(replayed, eager), 10 * spread);
  return eager;
}

TEST(GraphTrainStep, ReplaysLandWhereEagerStepsDoBitForBit) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  expect_replays_land_where_eager_steps_do(backend, make_batches(backend, GraphTrainStep::kEagerSteps + 4));
}

// An epoch's short last batch between replays runs as an ordinary step; the graph stays and the
// replays after it go on where eager steps would.
TEST(GraphTrainStep, AShortBatchRunsAsAnOrdinaryStepAndTheGraphStays) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  std::vector<int> sizes(GraphTrainStep::kEagerSteps + 5, 8);
  sizes[GraphTrainStep::kEagerSteps + 2] = 3;
  expect_replays_land_where_eager_steps_do(backend, make_batches(backend, static_cast<int>(sizes.size()), sizes));
}

// fp16's loss scale lives on the device, so the graph records the overflow test, the skip and
// the scale's update. From 2^24, quartered on each overflow, the first steps' gradients overflow
// (dlogits alone reach 2^24 / 8 against fp16's 65504) and later ones do not: replays both skip
// and update, as the eager steps do. Where the overflows stop depends on the batch and on every
// rounding (a fresh model's small batch on the CPU backend: from a scale of 16 up, or of 64 with
// one op rounding twice), so the steps run down to a scale of 1.
TEST(GraphTrainStep, Fp16ReplaysSkipAndScaleAsEagerStepsDo) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  Arithmetic fp16;
  fp16.compute = DType::F16;
  fp16.loss_scale.initial = 16777216.0f;
  fp16.loss_scale.backoff_factor = 0.25f;
  const int steps = GraphTrainStep::kEagerSteps + 12;
  const TrainedState eager = expect_replays_land_where_eager_steps_do(backend, make_batches(backend, steps), fp16);
  std::cout << eager.skipped_steps << " of " << steps << " steps skipped, loss scale " << eager.loss_scale << "\n";
  EXPECT_GT(eager.skipped_steps, GraphTrainStep::kEagerSteps) << "no replay met an overflow";
  EXPECT_LT(eager.skipped_steps, steps) << "no step updated";
}

TEST(GraphTrainStep, ReplaysAllocateNothingFromTheDevice) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  const Batches batches = make_batches(backend, 2);
  ResNet50 model(backend, kClasses);
  model.initialize(0);
  TrainStep step(model, kSgd);
  GraphTrainStep graph_step(step);
  for (int i = 0; i < GraphTrainStep::kEagerSteps; ++i) graph_step.run(batches.images[i % 2], batches.labels[i % 2]);
  backend.synchronize();
  const AllocatorStats eager = backend.allocator().stats();
  for (int i = 0; i < 10; ++i) graph_step.run(batches.images[i % 2], batches.labels[i % 2]);
  backend.synchronize();
  const AllocatorStats replayed = backend.allocator().stats();
  ASSERT_TRUE(graph_step.captured());
  std::cout << "after the eager steps: " << eager.raw_allocation_count << " raw allocations, "
            << eager.reserved_bytes << " bytes reserved; after the capture and 10 replays: "
            << replayed.raw_allocation_count << ", " << replayed.reserved_bytes << "\n";
  EXPECT_EQ(replayed.raw_allocation_count, eager.raw_allocation_count);
  EXPECT_EQ(replayed.reserved_bytes, eager.reserved_bytes);
}

}  // namespace
}  // namespace r50
