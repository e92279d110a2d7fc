// The caching allocator under many random operations, checked after every one against a shadow
// of what it has handed out, and under two threads at once.
#include "memory/caching_allocator.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "fake_device_allocator.h"

namespace r50 {
namespace {

using CA = CachingAllocator;

// Mostly small requests, as a network's scratch and bias buffers; some up to 1 MiB, some that
// share 20 MiB segments, a few of their own segment, and now and then a size at a boundary.
std::size_t draw_request(Rng& rng) {
  static constexpr std::size_t kBoundaries[] = {
      1, 512, 513, kMiB, kMiB + 1, 10 * kMiB - 512, 10 * kMiB, 10 * kMiB + 1, 20 * kMiB};
  const std::uint64_t kind = rng.below(100);
  if (kind < 2) return kBoundaries[rng.below(std::size(kBoundaries))];
  if (kind < 70) return 1 + rng.below(64 * kKiB);
  if (kind < 90) return 64 * kKiB + 1 + rng.below(kMiB - 64 * kKiB);
  if (kind < 98) return kMiB + 1 + rng.below(29 * kMiB);
  return 40 * kMiB + rng.below(60 * kMiB + 1);
}

// What the test knows of the allocator's memory, to judge each step by.
class Shadow {
 public:
  struct Live {
    std::size_t requested;
    Stream stream;
    unsigned char mark;            // written at the block's first and last byte
    std::vector<Stream> used_on;  // other streams, from record_stream
  };

  // A block handed out at `ptr` must lie clear of every live block, of every freed block whose
  // other streams' work is pending, and of every block another stream freed, unless the segments
  // went back to the device since (then its address may come round again).
  void check_new_block(char* ptr, std::size_t requested, Stream stream) {
    const std::size_t size = CA::round_request(requested);
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(ptr) % CA::kRound, 0u) << static_cast<void*>(ptr);
    auto next = live_.lower_bound(ptr);
    if (next != live_.end()) {
      ASSERT_LE(ptr + size, next->first) << "overlaps the live block after it";
    }
    if (next != live_.begin()) {
      const auto prev = std::prev(next);
      ASSERT_LE(prev->first + CA::round_request(prev->second.requested), ptr)
          << "overlaps the live block before it";
    }
    auto freed = freed_.lower_bound(ptr);
    if (freed != freed_.begin() && std::prev(freed)->first + std::prev(freed)->second.size > ptr) {
      --freed;
    }
    while (freed != freed_.end() && freed->first < ptr + size) {
      ASSERT_TRUE(freed->second.pending_on.empty())
          << "reused while work on another stream may still use it";
      ASSERT_TRUE(freed->second.stream == stream) << "a block freed on one stream went to another";
      pending_.erase(freed->first);
      freed = freed_.erase(freed);
    }
  }

  void add(char* ptr, std::size_t requested, Stream stream, unsigned char mark) {
    ptr[0] = static_cast<char>(mark);
    ptr[requested - 1] = static_cast<char>(mark);
    live_.emplace(ptr, Live{requested, stream, mark, {}});
    allocated_ += CA::round_request(requested);
  }

  void record(char* ptr, Stream stream) {
    Live& block = live_.at(ptr);
    if (stream == block.stream) return;
    if (std::find(block.used_on.begin(), block.used_on.end(), stream) == block.used_on.end()) {
      block.used_on.push_back(stream);
    }
  }

  // Checks the block's marks, and remembers its memory as freed on its stream.
  void remove(char* ptr) {
    const auto it = live_.find(ptr);
    const Live& block = it->second;
    EXPECT_EQ(static_cast<unsigned char>(ptr[0]), block.mark) << "first byte overwritten";
    EXPECT_EQ(static_cast<unsigned char>(ptr[block.requested - 1]), block.mark)
        << "last byte overwritten";
    const std::size_t size = CA::round_request(block.requested);
    freed_.emplace(ptr, Freed{size, block.stream, block.used_on});
    if (!block.used_on.empty()) pending_.insert(ptr);
    allocated_ -= size;
    live_.erase(it);
  }

  void finish_stream(Stream stream) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      std::vector<Stream>& on = freed_.at(*it).pending_on;
      on.erase(std::remove(on.begin(), on.end(), stream), on.end());
      it = on.empty() ? pending_.erase(it) : std::next(it);
    }
  }

  // Segments went back to the device: freed blocks that no stream waits on may come round again.
  void segments_released() {
    for (auto it = freed_.begin(); it != freed_.end();) {
      it = it->second.pending_on.empty() ? freed_.erase(it) : std::next(it);
    }
  }

  std::size_t allocated_bytes() const { return allocated_; }

 private:
  struct Freed {
    std::size_t size;
    Stream stream;
    std::vector<Stream> pending_on;
  };
  std::map<char*, Live> live_;
  std::map<char*, Freed> freed_;
  std::set<char*> pending_;  // keys of freed_ still waiting on some stream
  std::size_t allocated_ = 0;
};

// What a run of random operations went through, to show it exercised what it claims to.
struct RunCounts {
  std::uint64_t allocations = 0;
  std::uint64_t releases = 0;  // steps on which cached segments went back to the device
  std::uint64_t out_of_memory = 0;
};

// 100,000 random allocate, deallocate, record_stream, finish_stream and empty_cache calls on three
// streams, each step checked: placement against the shadow, statistics exactly.
void run_random_operations(std::size_t capacity, std::uint64_t seed, RunCounts& counts) {
  constexpr int kSteps = 100000;
  constexpr std::size_t kMaxLive = 200;
  const Stream streams[] = {stream_number(1), stream_number(2), stream_number(3)};
  // The fake takes host memory only for the pages written: two bytes a block.
  FakeDeviceAllocator fake(capacity);
  Shadow shadow;
  Rng rng(seed);
  std::vector<char*> live;  // the shadow's blocks, for drawing one at random
  std::size_t peak_allocated = 0, peak_reserved = 0;

  for (int step = 0; step < kSteps; ++step) {
    SCOPED_TRACE(testing::Message() << "step " << step);
    const std::uint64_t op = rng.below(1000);
    if (live.empty() || (op < 480 && live.size() < kMaxLive)) {
      const std::size_t requested = draw_request(rng);
      const Stream stream = streams[rng.below(3)];
      const std::size_t segment = CA::segment_size(CA::round_request(requested));
      const std::size_t reserved_before = fake.device.in_use_bytes();
      const std::uint64_t raw_before = fake.device.allocation_calls();
      char* ptr = nullptr;
      try {
        ptr = static_cast<char*>(fake.allocator.allocate(requested, stream));
      } catch (const OutOfMemory&) {
        ++counts.out_of_memory;
        // Only when, with every wholly free segment given back, the device has no room for one.
        ASSERT_LT(fake.device.memory_info().free_bytes, segment);
      }
      ++counts.allocations;
      // A new segment adds its size; anything else means cached segments were given back first.
      const std::uint64_t new_segments = fake.device.allocation_calls() - raw_before;
      ASSERT_LE(new_segments, 1u);
      if (fake.device.in_use_bytes() != reserved_before + new_segments * segment) {
        ++counts.releases;
        shadow.segments_released();
      }
      if (ptr) {
        shadow.check_new_block(ptr, requested, stream);
        if (testing::Test::HasFatalFailure()) return;
        shadow.add(ptr, requested, stream, static_cast<unsigned char>(1 + step % 255));
        live.push_back(ptr);
      }
    } else if (op < 940 || live.size() >= kMaxLive) {
      const std::size_t victim = rng.below(live.size());
      shadow.remove(live[victim]);
      fake.allocator.deallocate(live[victim]);
      live[victim] = live.back();
      live.pop_back();
    } else if (op < 970) {
      char* ptr = live[rng.below(live.size())];
      const Stream stream = streams[rng.below(3)];
      fake.allocator.record_stream(ptr, stream);
      shadow.record(ptr, stream);
    } else if (op < 998) {
      const Stream stream = streams[rng.below(3)];
      fake.device.finish_stream(stream);
      shadow.finish_stream(stream);
    } else {
      fake.allocator.empty_cache();
      shadow.segments_released();
    }

    const AllocatorStats stats = fake.allocator.stats();
    peak_allocated = std::max(peak_allocated, shadow.allocated_bytes());
    peak_reserved = std::max(peak_reserved, fake.device.in_use_bytes());
    ASSERT_EQ(stats.allocated_bytes, shadow.allocated_bytes());
    ASSERT_EQ(stats.allocation_count, counts.allocations);  // every call, as allocator.h says
    ASSERT_EQ(stats.reserved_bytes, fake.device.in_use_bytes());
    ASSERT_EQ(stats.raw_allocation_count, fake.device.allocation_calls());
    ASSERT_EQ(stats.peak_allocated_bytes, peak_allocated);
    ASSERT_EQ(stats.peak_reserved_bytes, peak_reserved);
    ASSERT_EQ(stats.oom_count, counts.out_of_memory);
  }

  for (char* ptr : live) {
    shadow.remove(ptr);
    fake.allocator.deallocate(ptr);
  }
  for (const Stream& stream : streams) fake.device.finish_stream(stream);
  fake.allocator.empty_cache();
  EXPECT_EQ(fake.allocator.stats().allocated_bytes, 0u);
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 0u);
  EXPECT_EQ(fake.device.in_use_bytes(), 0u);
  EXPECT_EQ(fake.device.live_events(), 0u);
}

// This seed's run peaks near 1.1 GiB allocated and 1.7 GiB reserved, so 8 GiB is never full.
TEST(CachingAllocatorStress, KeepsBlocksApartAlignedAndCountedUnderRandomUse) {
  RunCounts counts;
  run_random_operations(8 * kGiB, 20240611, counts);
}

// The same run on 1 GiB, less than it would hold at its peak: the cache must give segments back
// and retry (about 180 times), and now and then (about 80 times) even that is not enough.
TEST(CachingAllocatorStress, KeepsBlocksApartAndCountedWhenTheDeviceFillsUp) {
  RunCounts counts;
  run_random_operations(kGiB, 20240611, counts);
  EXPECT_GT(counts.releases, 0u) << "the device never filled: the test proves nothing";
  EXPECT_GT(counts.out_of_memory, 0u) << "nothing was refused: the test proves nothing";
}

// Two threads, each on its own stream, allocate and free at once; each keeps a few blocks
// marked with its own bytes, so a block handed to both would show as a changed mark.
TEST(CachingAllocatorThreads, TwoThreadsAllocateAndFreeAtOnce) {
  constexpr int kPairs = 20000;
  constexpr std::size_t kKept = 8;
  FakeDeviceAllocator fake(4 * kGiB);
  std::atomic<int> misplaced{0};
  const auto work = [&](std::uintptr_t thread) {
    Rng rng = Rng::keyed(5, thread);
    const Stream stream = stream_number(thread + 1);
    std::vector<std::pair<char*, std::size_t>> kept;
    for (int i = 0; i < kPairs; ++i) {
      const std::size_t bytes = 1 + rng.below(rng.below(10) == 0 ? 4 * kMiB : 64 * kKiB);
      char* ptr = static_cast<char*>(fake.allocator.allocate(bytes, stream));
      if (reinterpret_cast<std::uintptr_t>(ptr) % CA::kRound != 0) ++misplaced;
      ptr[0] = ptr[bytes - 1] = static_cast<char>(thread);
      kept.emplace_back(ptr, bytes);
      if (kept.size() > kKept || i == kPairs - 1) {
        while (!kept.empty()) {
          const auto [old, old_bytes] = kept.back();
          const char mark = static_cast<char>(thread);
          if (old[0] != mark || old[old_bytes - 1] != mark) ++misplaced;
          fake.allocator.deallocate(old);
          kept.pop_back();
        }
      }
    }
  };
  std::thread first(work, 1), second(work, 2);
  first.join();
  second.join();

  EXPECT_EQ(misplaced.load(), 0);
  const AllocatorStats stats = fake.allocator.stats();
  EXPECT_EQ(stats.allocated_bytes, 0u);
  EXPECT_EQ(stats.allocation_count, 2u * kPairs);
  EXPECT_EQ(stats.reserved_bytes, fake.device.in_use_bytes());
}

}  // namespace
}  // namespace r50
