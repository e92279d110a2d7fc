// bench_allocator: the caching allocator under ResNet-50's own allocation pattern. A training step
// runs once on a backend that computes nothing and records every allocate and deallocate the model
// makes; the benchmarks replay that trace, step after step, on the caching allocator (over a fake
// device and, where a GPU answers, over cudaMalloc) and on the system's allocators, and report the
// cost of one allocate/free pair. The fragmentation figures replay the parameters and two steps
// and compare the memory reserved with the memory handed out, at peak.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <new>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include "memory/caching_allocator.h"
#include "memory/cuda_memory.h"
#include "memory/fake_memory.h"
#include "memory_report.h"
#include "ops/cuda/cuda_probe.h"
#include "recording_backend.h"
#include "train/train_step.h"

namespace r50 {
namespace {

constexpr int kClasses = 101;
constexpr int kImageSize = 224;
constexpr std::size_t kFakeCapacity = std::size_t(1) << 40;  // never the limit

// Every allocation event of a program that builds ResNet-50 and trains three steps, with the
// positions in `events` where the set-up and each step end.
struct Recording {
  int batch = 0;
  std::vector<AllocationEvent> events;
  std::size_t setup_end = 0;
  std::size_t step_end[3] = {};
};

Recording record_training(int batch) {
  RecordingBackend backend;
  Recording recording;
  recording.batch = batch;
  {
    ResNet50 model(backend, kClasses);
    model.initialize(0);
    TrainStep step(model, SgdParams{});
    const OwnedTensor images(backend.allocator(), {batch, 3, kImageSize, kImageSize}, DType::F32,
                             backend.device());
    const OwnedTensor labels(backend.allocator(), {batch}, DType::I32, backend.device());
    recording.setup_end = backend.allocator().events().size();
    for (std::size_t& end : recording.step_end) {
      step.run(images, labels);
      (void)step.loss();
      end = backend.allocator().events().size();
    }
  }
  recording.events = backend.allocator().events();
  return recording;
}

// One event of a steady training step, for replay: an allocation into `slot`, or the return of
// the block in `slot`, allocated by this step or (previous_step) by the one before.
struct ReplayOp {
  bool allocate;
  bool previous_step;
  std::uint32_t slot;
  std::size_t bytes;
};

// The recording turned into something a loop can replay without look-ups: the set-up and first
// step, replayed once by block number, then the second step, which repeats for ever: each of its
// returns names either a block of the same step or one of the step before (the kept activations
// and logits, replaced by the next forward).
struct StepProgram {
  int batch = 0;
  std::vector<AllocationEvent> setup;  // parameters, buffers, images and the first step
  std::size_t setup_blocks = 0;
  std::vector<ReplayOp> step;
  std::size_t pairs_per_step = 0;
  std::vector<std::pair<std::uint32_t, std::size_t>> carried;  // (slot, set-up block) step 2 returns
  std::vector<std::size_t> kept;                               // set-up blocks that live on
  std::vector<std::uint32_t> carried_slots;                    // a step's blocks the next returns
};

std::size_t allocations_before(const std::vector<AllocationEvent>& events, std::size_t end) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < end; ++i) count += events[i].allocate;
  return count;
}

// Steps 2 and 3 must be the same sequence of requests, and every block of step 2 must be returned
// by the end of step 3; otherwise the training step is not in a steady state, which the
// allocator's design (and a CUDA graph) relies on.
StepProgram compile(const Recording& recording) {
  const std::vector<AllocationEvent>& events = recording.events;
  const std::size_t s1 = recording.step_end[0], s2 = recording.step_end[1], s3 = recording.step_end[2];
  const std::size_t length = s2 - s1;
  const std::size_t first2 = allocations_before(events, s1), first3 = allocations_before(events, s2);
  R50_CHECK(s3 - s2 == length, "batch ", recording.batch, ": step 2 made ", length,
            " allocator calls, step 3 ", s3 - s2);
  StepProgram program;
  program.batch = recording.batch;
  program.setup.assign(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(s1));
  program.setup_blocks = first2;
  program.pairs_per_step = first3 - first2;
  std::unordered_set<std::size_t> step2_returned, setup_returned;
  for (std::size_t i = 0; i < s1; ++i) {
    if (!events[i].allocate) setup_returned.insert(events[i].block);
  }
  for (std::size_t i = 0; i < length; ++i) {
    const AllocationEvent& e = events[s1 + i];
    const AllocationEvent& next = events[s2 + i];
    R50_CHECK(e.allocate == next.allocate && e.bytes == next.bytes, "batch ", recording.batch,
              ": call ", i, " of step 2 ", e.allocate ? "allocates " : "returns ", e.bytes,
              " bytes, but step 3 ", next.allocate ? "allocates " : "returns ", next.bytes);
    R50_CHECK(next.allocate || next.block >= first2, "batch ", recording.batch,
              ": step 3 returns a block of ", next.bytes, " bytes allocated before step 2");
    if (!next.allocate && next.block < first3) step2_returned.insert(next.block);
    if (e.allocate) {
      program.step.push_back({true, false, static_cast<std::uint32_t>(e.block - first2), e.bytes});
    } else if (e.block >= first2) {
      step2_returned.insert(e.block);
      program.step.push_back({false, false, static_cast<std::uint32_t>(e.block - first2), e.bytes});
    } else {
      // Returned from the set-up here; in steady state, the block step 3 returns at this point.
      const auto slot = static_cast<std::uint32_t>(next.block - first2);
      setup_returned.insert(e.block);
      program.step.push_back({false, true, slot, e.bytes});
      program.carried.emplace_back(slot, e.block);
      program.carried_slots.push_back(slot);
    }
  }
  R50_CHECK(step2_returned.size() == program.pairs_per_step, "batch ", recording.batch, ": of the ",
            program.pairs_per_step, " blocks step 2 allocates, only ", step2_returned.size(),
            " are returned by the end of step 3");
  for (std::size_t block = 0; block < first2; ++block) {
    if (!setup_returned.count(block)) program.kept.push_back(block);
  }
  return program;
}

// Where replayed memory comes from.
struct AllocatorMemory {
  Allocator* allocator;
  void* allocate(std::size_t bytes) { return allocator->allocate(bytes); }
  void deallocate(void* ptr) { allocator->deallocate(ptr); }
};

struct MallocMemory {
  void* allocate(std::size_t bytes) {
    void* ptr = std::malloc(bytes);
    if (!ptr) throw std::bad_alloc();
    return ptr;
  }
  void deallocate(void* ptr) { std::free(ptr); }
};

struct CudaMallocMemory {
  void* allocate(std::size_t bytes) {
    void* ptr = nullptr;
    const cudaError_t status = cudaMalloc(&ptr, bytes);
    R50_CHECK(status == cudaSuccess, "cudaMalloc(", bytes, ") failed: ", cudaGetErrorString(status));
    return ptr;
  }
  void deallocate(void* ptr) {
    const cudaError_t status = cudaFree(ptr);
    R50_CHECK(status == cudaSuccess, "cudaFree failed: ", cudaGetErrorString(status));
  }
};

// Hands out one address and forgets it: the cost of the replay loop itself.
struct NoMemory {
  void* allocate(std::size_t /*bytes*/) { return this; }
  void deallocate(void* ptr) { benchmark::DoNotOptimize(ptr); }
};

template <typename Memory>
class Replayer {
 public:
  Replayer(const StepProgram& program, Memory memory)
      : program_(program),
        memory_(memory),
        by_block_(program.setup_blocks),
        current_(program.pairs_per_step),
        previous_(program.pairs_per_step) {}

  // The parameters, buffers, images and the first step, as recorded.
  void setup() {
    for (const AllocationEvent& e : program_.setup) {
      if (e.allocate) {
        by_block_[e.block] = memory_.allocate(e.bytes);
      } else {
        memory_.deallocate(by_block_[e.block]);
      }
    }
    for (const auto& [slot, block] : program_.carried) previous_[slot] = by_block_[block];
  }

  void step() {
    for (const ReplayOp& op : program_.step) {
      if (op.allocate) {
        current_[op.slot] = memory_.allocate(op.bytes);
      } else {
        memory_.deallocate((op.previous_step ? previous_ : current_)[op.slot]);
      }
    }
    current_.swap(previous_);
  }

  // Returns everything still held.
  void finish() {
    for (std::uint32_t slot : program_.carried_slots) memory_.deallocate(previous_[slot]);
    for (std::size_t block : program_.kept) memory_.deallocate(by_block_[block]);
  }

 private:
  const StepProgram& program_;
  Memory memory_;
  std::vector<void*> by_block_, current_, previous_;
};

// Steady steps, one per iteration, after the set-up and one untimed step.
template <typename Memory>
void replay(benchmark::State& state, const StepProgram& program, Memory memory, Allocator* stats_of) {
  Replayer<Memory> replayer(program, memory);
  replayer.setup();
  replayer.step();
  const std::uint64_t raw_before = stats_of ? stats_of->stats().raw_allocation_count : 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) replayer.step();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t raw_after = stats_of ? stats_of->stats().raw_allocation_count : 0;
  replayer.finish();
  const double pairs = static_cast<double>(state.iterations()) * static_cast<double>(program.pairs_per_step);
  state.SetItemsProcessed(static_cast<std::int64_t>(pairs));
  state.counters["ns_per_pair"] = seconds * 1e9 / pairs;
  state.counters["pairs_per_step"] = static_cast<double>(program.pairs_per_step);
  if (stats_of) {
    state.counters["raw_allocations_per_step"] =
        static_cast<double>(raw_after - raw_before) / static_cast<double>(state.iterations());
  }
}

void replay_caching_fake(benchmark::State& state, const StepProgram* program) {
  CachingAllocator allocator(std::make_unique<FakeDeviceMemory>(kFakeCapacity));
  replay(state, *program, AllocatorMemory{&allocator}, &allocator);
}

void replay_caching_cuda(benchmark::State& state, const StepProgram* program) {
  CachingAllocator allocator(std::make_unique<CudaMemory>(0));
  replay(state, *program, AllocatorMemory{&allocator}, &allocator);
}

void replay_malloc(benchmark::State& state, const StepProgram* program) {
  replay(state, *program, MallocMemory{}, nullptr);
}

void replay_cuda_malloc(benchmark::State& state, const StepProgram* program) {
  replay(state, *program, CudaMallocMemory{}, nullptr);
}

void replay_nothing(benchmark::State& state, const StepProgram* program) {
  replay(state, *program, NoMemory{}, nullptr);
}

struct Fragmentation {
  int batch = 0;
  AllocatorStats stats;
  double ratio() const {
    return static_cast<double>(stats.peak_reserved_bytes) / static_cast<double>(stats.peak_allocated_bytes);
  }
};

// The parameters and two steps on a fresh caching allocator over the fake device.
void fragmentation(benchmark::State& state, const StepProgram* program, Fragmentation* result) {
  for (auto _ : state) {
    CachingAllocator allocator(std::make_unique<FakeDeviceMemory>(kFakeCapacity));
    Replayer<AllocatorMemory> replayer(*program, AllocatorMemory{&allocator});
    replayer.setup();
    replayer.step();
    result->stats = allocator.stats();
    replayer.finish();
  }
  result->batch = program->batch;
  state.counters["peak_allocated_bytes"] = static_cast<double>(result->stats.peak_allocated_bytes);
  state.counters["peak_reserved_bytes"] = static_cast<double>(result->stats.peak_reserved_bytes);
  state.counters["reserved_over_allocated"] = result->ratio();
  state.counters["raw_allocations"] = static_cast<double>(result->stats.raw_allocation_count);
}

}  // namespace
}  // namespace r50

int main(int argc, char** argv) {
  using namespace r50;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  try {
    std::vector<StepProgram> programs;
    for (int batch : {64, 256}) {
      programs.push_back(compile(record_training(batch)));
      std::cerr << "recorded ResNet-50 (" << kClasses << " classes) at batch " << batch << ", "
                << kImageSize << "x" << kImageSize << ": " << programs.back().setup.size()
                << " allocator calls to set up and train one step, then " << programs.back().pairs_per_step
                << " allocate/free pairs per step\n";
    }
    const StepProgram& timed = programs.front();
    const std::string suffix = "/bs:" + std::to_string(timed.batch);
    const auto add = [&](const std::string& name, void (*function)(benchmark::State&, const StepProgram*)) {
      benchmark::RegisterBenchmark(name.c_str(), function, &timed)->UseRealTime();
    };
    add("replay/none" + suffix, replay_nothing);
    add("replay/caching_fake" + suffix, replay_caching_fake);
    add("replay/malloc" + suffix, replay_malloc);
    const CudaProbe probe = probe_cuda();
    if (probe.device_count > 0) {
      add("replay/caching_cuda" + suffix, replay_caching_cuda);
      add("replay/cudaMalloc" + suffix, replay_cuda_malloc);
    } else {
      std::cerr << "note: replay/caching_cuda and replay/cudaMalloc not run: no GPU (" << probe.why_not
                << ")\n";
    }
    std::vector<Fragmentation> results(programs.size());
    for (std::size_t i = 0; i < programs.size(); ++i) {
      const std::string name = "fragmentation/caching_fake/bs:" + std::to_string(programs[i].batch);
      benchmark::RegisterBenchmark(name.c_str(), fragmentation, &programs[i], &results[i])
          ->Iterations(1)
          ->UseRealTime();
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    for (const Fragmentation& result : results) {
      if (result.batch == 0) continue;  // filtered out
      std::printf("batch %d, parameters and two steps: peak reserved %s over peak allocated %s = %.3f "
                  "(target <= 1.10), %llu raw allocations\n",
                  result.batch, format_bytes(result.stats.peak_reserved_bytes).c_str(),
                  format_bytes(result.stats.peak_allocated_bytes).c_str(), result.ratio(),
                  static_cast<unsigned long long>(result.stats.raw_allocation_count));
    }
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
