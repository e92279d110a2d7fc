// The caching allocator's statistics, its release-and-retry path, its cap, and what it says when
// memory runs out, over a fake device.
#include "memory/caching_allocator.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "fake_device_allocator.h"

namespace r50 {
namespace {

// Runs `request` and returns the OutOfMemory it must throw.
template <typename Request>
OutOfMemory out_of_memory_from(Request request) {
  try {
    request();
  } catch (const OutOfMemory& error) {
    return error;
  }
  ADD_FAILURE() << "no OutOfMemory";
  return OutOfMemory("none", __FILE__, __LINE__, 0);
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' is not in: " << text;
}

TEST(CachingAllocatorStats, CountRoundedBytesSegmentsAndCalls) {
  FakeDeviceAllocator fake(64 * kMiB);
  void* own = fake.allocator.allocate(12 * kMiB);  // a 12 MiB segment, exactly filled
  void* medium = fake.allocator.allocate(3 * kMiB);  // a 20 MiB segment
  void* small = fake.allocator.allocate(1000);  // 1024 bytes of a 2 MiB segment
  fake.allocator.deallocate(own);  // cached, still reserved

  const AllocatorStats stats = fake.allocator.stats();
  EXPECT_EQ(stats.allocated_bytes, 3 * kMiB + 1024);
  EXPECT_EQ(stats.reserved_bytes, 12 * kMiB + 20 * kMiB + 2 * kMiB);
  EXPECT_EQ(stats.peak_allocated_bytes, 12 * kMiB + 3 * kMiB + 1024);  // before own was freed
  EXPECT_EQ(stats.peak_reserved_bytes, 34 * kMiB);
  EXPECT_EQ(stats.allocation_count, 3u);
  EXPECT_EQ(stats.raw_allocation_count, 3u);
  EXPECT_EQ(stats.oom_count, 0u);
  EXPECT_EQ(fake.device.in_use_bytes(), stats.reserved_bytes);
  for (void* ptr : {medium, small}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocatorStats, CountReuseOfTheCacheAsAnAllocationButNotARawOne) {
  FakeDeviceAllocator fake(64 * kMiB);
  fake.allocator.deallocate(fake.allocator.allocate(12 * kMiB));
  fake.allocator.deallocate(fake.allocator.allocate(12 * kMiB));
  EXPECT_EQ(fake.allocator.stats().allocation_count, 2u);
  EXPECT_EQ(fake.allocator.stats().raw_allocation_count, 1u);
}

// allocator.h: allocation_count counts calls to allocate(); DirectAllocator counts a failed one.
TEST(CachingAllocatorStats, CountAFailedRequestAsACallToAllocate) {
  FakeDeviceAllocator fake(50 * kMiB);
  void* kept = fake.allocator.allocate(40 * kMiB);
  EXPECT_THROW(fake.allocator.allocate(20 * kMiB), OutOfMemory);
  EXPECT_EQ(fake.allocator.stats().allocation_count, 2u);
  EXPECT_EQ(fake.allocator.stats().raw_allocation_count, 1u);
  fake.allocator.deallocate(kept);
}

TEST(CachingAllocatorStats, ResetPeakSetsThePeaksToTheCurrentValues) {
  FakeDeviceAllocator fake(64 * kMiB);
  void* kept = fake.allocator.allocate(1000);  // 1024 bytes of a 2 MiB segment
  fake.allocator.deallocate(fake.allocator.allocate(12 * kMiB));
  fake.allocator.reset_peak();
  EXPECT_EQ(fake.allocator.stats().peak_allocated_bytes, 1024u);
  EXPECT_EQ(fake.allocator.stats().peak_reserved_bytes, 14 * kMiB);  // the freed 12 MiB is cached

  fake.allocator.empty_cache();  // reserved falls to 2 MiB; a peak does not fall with it
  EXPECT_EQ(fake.allocator.stats().peak_reserved_bytes, 14 * kMiB);
  fake.allocator.reset_peak();
  EXPECT_EQ(fake.allocator.stats().peak_reserved_bytes, 2 * kMiB);
  fake.allocator.deallocate(kept);
}

TEST(CachingAllocatorStats, EmptyCacheReleasesOnlyWhollyFreeSegments) {
  FakeDeviceAllocator fake(64 * kMiB);
  // The 12 MiB segment first: later, the 20 MiB segment's free rest would hold 12 MiB too.
  void* own = fake.allocator.allocate(12 * kMiB);  // a 12 MiB segment, freed: wholly free
  void* small = fake.allocator.allocate(1000);  // its 2 MiB segment stays partly used
  void* medium = fake.allocator.allocate(3 * kMiB);  // a 20 MiB segment
  void* medium_free = fake.allocator.allocate(2 * kMiB);  // beside it, freed: still partly used
  fake.allocator.deallocate(medium_free);
  fake.allocator.deallocate(own);

  fake.allocator.empty_cache();
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 2 * kMiB + 20 * kMiB);
  EXPECT_EQ(fake.device.in_use_bytes(), 22 * kMiB);
  EXPECT_EQ(fake.allocator.stats().allocated_bytes, 1024 + 3 * kMiB);

  fake.allocator.deallocate(small);
  fake.allocator.deallocate(medium);
  fake.allocator.empty_cache();
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 0u);
  EXPECT_EQ(fake.device.in_use_bytes(), 0u);
}

TEST(CachingAllocatorRetry, ReleasesCachedSegmentsAndRetriesWhenTheDeviceIsFull) {
  FakeDeviceAllocator fake(50 * kMiB);
  // Three 12 MiB segments, two of them freed: 36 MiB reserved, 14 MiB left on the device.
  void* kept = fake.allocator.allocate(12 * kMiB);
  void* freed1 = fake.allocator.allocate(12 * kMiB);
  void* freed2 = fake.allocator.allocate(12 * kMiB);
  fake.allocator.deallocate(freed1);
  fake.allocator.deallocate(freed2);
  // 20 MiB fits no cached 12 MiB block and not the 14 MiB left; releasing the two free segments
  // leaves 38 MiB.
  void* big = fake.allocator.allocate(20 * kMiB);
  ASSERT_NE(big, nullptr);

  const AllocatorStats stats = fake.allocator.stats();
  EXPECT_EQ(stats.reserved_bytes, 12 * kMiB + 20 * kMiB);
  EXPECT_EQ(fake.device.in_use_bytes(), stats.reserved_bytes);
  EXPECT_EQ(stats.raw_allocation_count, 4u);
  EXPECT_EQ(stats.oom_count, 0u);  // only a request that finally fails counts
  EXPECT_EQ(stats.peak_reserved_bytes, 36 * kMiB);
  for (void* ptr : {kept, big}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocatorRetry, ThrowsOutOfMemoryWhenTheRetryFailsToo) {
  FakeDeviceAllocator fake(50 * kMiB);
  void* kept = fake.allocator.allocate(40 * kMiB);
  EXPECT_THROW(fake.allocator.allocate(20 * kMiB), OutOfMemory);  // 10 MiB left, nothing cached

  const AllocatorStats stats = fake.allocator.stats();
  EXPECT_EQ(stats.oom_count, 1u);
  EXPECT_EQ(stats.allocated_bytes, 40 * kMiB);
  EXPECT_EQ(stats.reserved_bytes, 40 * kMiB);
  fake.allocator.deallocate(kept);
}

TEST(CachingAllocatorRetry, StaysUsableAfterOutOfMemory) {
  FakeDeviceAllocator fake(50 * kMiB);
  void* kept = fake.allocator.allocate(40 * kMiB);
  EXPECT_THROW(fake.allocator.allocate(20 * kMiB), OutOfMemory);
  void* small = fake.allocator.allocate(kMiB);  // a 2 MiB segment fits the 10 MiB left
  EXPECT_NE(small, nullptr);
  for (void* ptr : {kept, small}) fake.allocator.deallocate(ptr);
  EXPECT_EQ(fake.allocator.stats().allocated_bytes, 0u);
}

TEST(CachingAllocatorLimit, ThrowsOutOfMemoryAtTheLimitWhileTheDeviceHasRoom) {
  FakeDeviceAllocator fake(100 * kMiB, CachingAllocatorOptions{30 * kMiB});
  void* kept = fake.allocator.allocate(20 * kMiB);
  // A 12 MiB segment would make 32 MiB reserved, over the 30 MiB limit; the device has 80 MiB.
  EXPECT_THROW(fake.allocator.allocate(12 * kMiB), OutOfMemory);
  EXPECT_EQ(fake.allocator.stats().oom_count, 1u);
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 20 * kMiB);
  EXPECT_EQ(fake.device.in_use_bytes(), 20 * kMiB);
  fake.allocator.deallocate(kept);
}

TEST(CachingAllocatorLimit, ReleasesCachedSegmentsToStayUnderTheLimit) {
  FakeDeviceAllocator fake(100 * kMiB, CachingAllocatorOptions{30 * kMiB});
  fake.allocator.deallocate(fake.allocator.allocate(24 * kMiB));  // a cached 24 MiB segment
  // 25 MiB fits no cached block; its 26 MiB segment fits the limit once the 24 MiB one is gone.
  void* big = fake.allocator.allocate(25 * kMiB);
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 26 * kMiB);
  EXPECT_EQ(fake.allocator.stats().oom_count, 0u);
  fake.allocator.deallocate(big);
}

TEST(CachingAllocatorLimit, NeverReservesBeyondTheLimit) {
  const std::size_t limit = 100 * kMiB;
  FakeDeviceAllocator fake(kGiB, CachingAllocatorOptions{limit});
  Rng rng(7);
  std::vector<void*> live;
  std::uint64_t refused = 0;
  for (int step = 0; step < 3000; ++step) {
    if (!live.empty() && rng.below(2) == 0) {
      const std::size_t victim = rng.below(live.size());
      fake.allocator.deallocate(live[victim]);
      live[victim] = live.back();
      live.pop_back();
    } else {
      try {
        live.push_back(fake.allocator.allocate(1 + rng.below(30 * kMiB)));
      } catch (const OutOfMemory&) {
        ++refused;
      }
    }
    ASSERT_LE(fake.allocator.stats().reserved_bytes, limit) << "step " << step;
    ASSERT_EQ(fake.device.in_use_bytes(), fake.allocator.stats().reserved_bytes) << "step " << step;
  }
  EXPECT_GT(refused, 0u) << "the limit was never reached: the test proves nothing";
  EXPECT_EQ(fake.allocator.stats().oom_count, refused);
  for (void* ptr : live) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocatorOutOfMemory, CarriesTheRequestAsAsked) {
  FakeDeviceAllocator fake(50 * kMiB);
  const std::size_t request = 60 * kMiB + 100;  // not a multiple of 512: rounding would show
  const OutOfMemory error = out_of_memory_from([&] { fake.allocator.allocate(request); });
  EXPECT_EQ(error.requested_bytes(), request);
}

// Memory stands at: 20 MiB own segment in use; 4 MiB in use of a 20 MiB segment whose other
// 16 MiB is cached; so 24 MiB allocated, 40 MiB reserved (the limit), 16 MiB of it free, the
// largest free block 16 MiB, and 60 MiB of the 100 MiB device free. 17 MiB fits no cached block
// and its 18 MiB segment would pass the limit.
TEST(CachingAllocatorOutOfMemory, MessageSaysWhatWasAskedAndWhereMemoryStands) {
  FakeDeviceAllocator fake(100 * kMiB, CachingAllocatorOptions{40 * kMiB});
  void* own = fake.allocator.allocate(20 * kMiB);
  void* medium = fake.allocator.allocate(4 * kMiB);
  const std::string what =
      out_of_memory_from([&] { fake.allocator.allocate(17 * kMiB); }).what();

  expect_contains(what, "fake device");
  expect_contains(what, "asked for 17.00 MiB");
  expect_contains(what, "24.00 MiB allocated");
  expect_contains(what, "40.00 MiB reserved");
  expect_contains(what, "16.00 MiB is reserved but free");
  expect_contains(what, "largest free block 16.00 MiB");
  expect_contains(what, "60.00 MiB free of 100.00 MiB");
  expect_contains(what, "limit is 40.00 MiB");
  for (void* ptr : {own, medium}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocatorOutOfMemory, MessageNamesNoLimitWhenNoneIsSet) {
  FakeDeviceAllocator fake(50 * kMiB);
  const std::string what = out_of_memory_from([&] { fake.allocator.allocate(60 * kMiB); }).what();
  expect_contains(what, "50.00 MiB free of 50.00 MiB");
  EXPECT_EQ(what.find("limit"), std::string::npos) << what;
}

}  // namespace
}  // namespace r50
