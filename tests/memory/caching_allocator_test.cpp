// The caching allocator's policy over a fake device: sizes, splitting and merging, best fit,
// streams and events, and the pointers it refuses. Statistics and out of memory are in
// caching_allocator_stats_test.cpp; the random stress test in caching_allocator_stress_test.cpp.
#include "memory/caching_allocator.h"

#include <limits>
#include <utility>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fake_device_allocator.h"

namespace r50 {
namespace {

using CA = CachingAllocator;

char* as_bytes(void* ptr) { return static_cast<char*>(ptr); }

TEST(CachingAllocatorSizes, RoundsRequestsUpToAMultipleOf512Bytes) {
  EXPECT_EQ(CA::round_request(1), CA::kRound);
  EXPECT_EQ(CA::round_request(512), CA::kRound);
  EXPECT_EQ(CA::round_request(513), 2 * CA::kRound);
  EXPECT_EQ(CA::round_request(3 * kMiB + 1), 3 * kMiB + CA::kRound);
}

TEST(CachingAllocatorSizes, CarvesRequestsUpTo1MiBFrom2MiBSegments) {
  EXPECT_EQ(CA::kSmallSegment, 2 * kMiB);
  EXPECT_EQ(CA::segment_size(CA::round_request(1)), 2 * kMiB);
  EXPECT_EQ(CA::segment_size(CA::round_request(kMiB)), 2 * kMiB);
}

TEST(CachingAllocatorSizes, CarvesRequestsAbove1MiBAndUnder10MiBFrom20MiBSegments) {
  EXPECT_EQ(CA::segment_size(CA::round_request(kMiB + 1)), 20 * kMiB);  // 1 MiB + 512
  EXPECT_EQ(CA::segment_size(CA::round_request(10 * kMiB - 512)), 20 * kMiB);
}

TEST(CachingAllocatorSizes, GivesRequestsOf10MiBOrMoreASegmentRoundedTo2MiB) {
  EXPECT_EQ(CA::segment_size(CA::round_request(10 * kMiB)), 10 * kMiB);
  EXPECT_EQ(CA::segment_size(CA::round_request(10 * kMiB + 1)), 12 * kMiB);
  EXPECT_EQ(CA::segment_size(CA::round_request(11 * kMiB)), 12 * kMiB);
  EXPECT_EQ(CA::segment_size(CA::round_request(12 * kMiB)), 12 * kMiB);
}

TEST(CachingAllocator, TakesNothingFromTheDeviceUntilAsked) {
  FakeDeviceAllocator fake(64 * kMiB);
  EXPECT_EQ(fake.device.in_use_bytes(), 0u);
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 0u);
}

TEST(CachingAllocator, AsksTheDeviceForOneSegmentSizedByTheRequest) {
  FakeDeviceAllocator fake(64 * kMiB);
  void* own = fake.allocator.allocate(11 * kMiB);  // 10 MiB or more: its own segment, 12 MiB
  EXPECT_EQ(fake.device.in_use_bytes(), 12 * kMiB);
  void* small = fake.allocator.allocate(1000);  // a 2 MiB segment
  EXPECT_EQ(fake.device.in_use_bytes(), 14 * kMiB);
  void* medium = fake.allocator.allocate(3 * kMiB);  // own has only 1 MiB spare: a 20 MiB segment
  EXPECT_EQ(fake.device.in_use_bytes(), 34 * kMiB);
  EXPECT_EQ(fake.device.allocation_calls(), 3u);
  for (void* ptr : {own, small, medium}) fake.allocator.deallocate(ptr);
}

// Once 800 MiB are reserved, a 12 MiB request's new segment is an eighth of that, 100 MiB: a later
// request of another size splits from it instead of reserving a segment of its own.
TEST(CachingAllocator, GrowsABigRequestsSegmentToAnEighthOfWhatIsReserved) {
  FakeDeviceAllocator fake(4 * kGiB);
  void* held = fake.allocator.allocate(800 * kMiB);
  void* first = fake.allocator.allocate(12 * kMiB);
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 800 * kMiB + 100 * kMiB);
  void* second = fake.allocator.allocate(30 * kMiB);
  EXPECT_EQ(fake.device.allocation_calls(), 2u);
  EXPECT_EQ(static_cast<char*>(second), static_cast<char*>(first) + 12 * kMiB);
  for (void* ptr : {held, first, second}) fake.allocator.deallocate(ptr);
}

// Where the grown segment would pass the cap, the request gets a segment of its own size.
TEST(CachingAllocator, FallsBackToAnExactSegmentWhereTheGrownOneWouldPassTheCap) {
  FakeDeviceAllocator fake(4 * kGiB, CachingAllocatorOptions{820 * kMiB});
  void* held = fake.allocator.allocate(800 * kMiB);
  void* first = fake.allocator.allocate(12 * kMiB);
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 812 * kMiB);
  for (void* ptr : {held, first}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocator, CarvesSmallRequestsFromOneSegmentSideBySide) {
  FakeDeviceAllocator fake(64 * kMiB);
  char* a = as_bytes(fake.allocator.allocate(1000));  // 1024 bytes
  char* b = as_bytes(fake.allocator.allocate(5000));  // 5120 bytes
  char* c = as_bytes(fake.allocator.allocate(100));   // 512 bytes
  EXPECT_EQ(fake.device.allocation_calls(), 1u);
  EXPECT_EQ(b - a, 1024);
  EXPECT_EQ(c - b, 5120);
  for (void* ptr : {a, b, c}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocator, CarvesMediumRequestsFromOne20MiBSegmentSideBySide) {
  FakeDeviceAllocator fake(64 * kMiB);
  char* a = as_bytes(fake.allocator.allocate(2 * kMiB));
  char* b = as_bytes(fake.allocator.allocate(3 * kMiB));
  EXPECT_EQ(fake.device.allocation_calls(), 1u);
  EXPECT_EQ(b - a, static_cast<std::ptrdiff_t>(2 * kMiB));
  for (void* ptr : {a, b}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocator, MergesAFreedBlockWithItsFreeNeighbours) {
  FakeDeviceAllocator fake(64 * kMiB);
  char* a = as_bytes(fake.allocator.allocate(1000));
  char* b = as_bytes(fake.allocator.allocate(5000));
  char* c = as_bytes(fake.allocator.allocate(100));
  fake.allocator.deallocate(b);  // both neighbours in use: nothing to merge with
  fake.allocator.deallocate(a);  // merges with b
  fake.allocator.deallocate(c);  // merges with a+b and with the segment's untouched rest
  // Only a segment merged back into one 2 MiB block holds two 1 MiB blocks, at its start. Unmerged,
  // the first 1 MiB would come from the rest behind c and the second would need a new segment.
  char* first = as_bytes(fake.allocator.allocate(kMiB));
  char* second = as_bytes(fake.allocator.allocate(kMiB));
  EXPECT_EQ(first, a);
  EXPECT_EQ(second, a + kMiB);
  EXPECT_EQ(fake.device.allocation_calls(), 1u);
  for (void* ptr : {first, second}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocator, ServesARequestFromTheSmallestCachedBlockThatFits) {
  FakeDeviceAllocator fake(64 * kMiB);
  // Free blocks of 8, 4 and 16 KiB, kept apart by 512-byte blocks still in use.
  char* kib8 = as_bytes(fake.allocator.allocate(8 * kKiB));
  void* gap1 = fake.allocator.allocate(512);
  char* kib4 = as_bytes(fake.allocator.allocate(4 * kKiB));
  void* gap2 = fake.allocator.allocate(512);
  char* kib16 = as_bytes(fake.allocator.allocate(16 * kKiB));
  void* gap3 = fake.allocator.allocate(512);
  // Freed in an order that defeats last-in-first-out, first-in-first-out and lowest-address-first.
  for (void* ptr : {kib4, kib16, kib8}) fake.allocator.deallocate(ptr);

  void* for3 = fake.allocator.allocate(3 * kKiB);  // fits all three: the 4 KiB block
  void* for6 = fake.allocator.allocate(6 * kKiB);  // fits 8 and 16: the 8 KiB block
  void* for10 = fake.allocator.allocate(10 * kKiB);  // fits only 16 (and the rest)
  EXPECT_EQ(for3, kib4);
  EXPECT_EQ(for6, kib8);
  EXPECT_EQ(for10, kib16);
  EXPECT_EQ(fake.device.allocation_calls(), 1u);
  for (void* ptr : {gap1, gap2, gap3, for3, for6, for10}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocator, ReusesAFreedBlockOnlyForItsOwnStream) {
  // Both ways round, so that no order of the stream handles can hide a mix-up.
  for (const auto& [a_stream, b_stream] : {std::pair(stream_number(1), stream_number(2)),
                                           std::pair(stream_number(2), stream_number(1))}) {
    SCOPED_TRACE(testing::Message() << "freed on " << a_stream.handle << ", asked on "
                                    << b_stream.handle);
    FakeDeviceAllocator fake(64 * kMiB);
    char* a = as_bytes(fake.allocator.allocate(1000, a_stream));
    fake.allocator.deallocate(a);

    char* on_b = as_bytes(fake.allocator.allocate(1000, b_stream));
    EXPECT_TRUE(on_b < a || on_b >= a + CA::kSmallSegment) << "stream B got stream A's segment";
    EXPECT_EQ(fake.device.allocation_calls(), 2u);

    void* on_a = fake.allocator.allocate(1000, a_stream);
    EXPECT_EQ(on_a, a);
    EXPECT_EQ(fake.device.allocation_calls(), 2u);
    for (void* ptr : {on_a, static_cast<void*>(on_b)}) fake.allocator.deallocate(ptr);
  }
}

TEST(CachingAllocator, KeepsABlockUsedOnAnotherStreamUntilThatStreamsWorkHasFinished) {
  FakeDeviceAllocator fake(64 * kMiB);
  const Stream a_stream = stream_number(1), b_stream = stream_number(2);
  void* a = fake.allocator.allocate(1000, a_stream);
  fake.allocator.record_stream(a, b_stream);
  fake.allocator.deallocate(a);
  EXPECT_EQ(fake.device.live_events(), 1u);  // one event, on B

  void* while_pending_a = fake.allocator.allocate(1000, a_stream);
  void* while_pending_b = fake.allocator.allocate(1000, b_stream);
  EXPECT_NE(while_pending_a, a);
  EXPECT_NE(while_pending_b, a);

  fake.device.finish_stream(b_stream);
  // Back in A's cache, and the exact fit: the rest of the segment is larger.
  void* after = fake.allocator.allocate(1000, a_stream);
  EXPECT_EQ(after, a);
  EXPECT_EQ(fake.device.live_events(), 0u);
  for (void* ptr : {while_pending_a, while_pending_b, after}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocator, WaitsForEveryStreamABlockWasUsedOn) {
  FakeDeviceAllocator fake(64 * kMiB);
  const Stream a_stream = stream_number(1);
  void* a = fake.allocator.allocate(1000, a_stream);
  fake.allocator.record_stream(a, stream_number(2));
  fake.allocator.record_stream(a, stream_number(3));
  fake.allocator.record_stream(a, stream_number(3));  // said twice: still one event
  fake.allocator.deallocate(a);
  EXPECT_EQ(fake.device.live_events(), 2u);

  fake.device.finish_stream(stream_number(2));
  void* one_done = fake.allocator.allocate(1000, a_stream);
  EXPECT_NE(one_done, a);
  fake.device.finish_stream(stream_number(3));
  void* both_done = fake.allocator.allocate(1000, a_stream);
  EXPECT_EQ(both_done, a);
  EXPECT_EQ(fake.device.live_events(), 0u);
  for (void* ptr : {one_done, both_done}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocator, RecordingABlocksOwnStreamDoesNotDelayItsReuse) {
  FakeDeviceAllocator fake(64 * kMiB);
  const Stream a_stream = stream_number(1);
  void* a = fake.allocator.allocate(1000, a_stream);
  fake.allocator.record_stream(a, a_stream);
  fake.allocator.deallocate(a);
  EXPECT_EQ(fake.device.live_events(), 0u);
  void* again = fake.allocator.allocate(1000, a_stream);
  EXPECT_EQ(again, a);
  fake.allocator.deallocate(again);
}

TEST(CachingAllocator, CountsABlockWaitingForAnotherStreamAsFreedButStillReserved) {
  FakeDeviceAllocator fake(64 * kMiB);
  void* a = fake.allocator.allocate(12 * kMiB, stream_number(1));  // a 12 MiB segment of its own
  fake.allocator.record_stream(a, stream_number(2));
  fake.allocator.deallocate(a);
  EXPECT_EQ(fake.allocator.stats().allocated_bytes, 0u);

  fake.allocator.empty_cache();  // the block is not free yet: its segment stays
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 12 * kMiB);
  EXPECT_EQ(fake.device.in_use_bytes(), 12 * kMiB);

  fake.device.finish_stream(stream_number(2));
  fake.allocator.empty_cache();
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 0u);
  EXPECT_EQ(fake.device.in_use_bytes(), 0u);
  EXPECT_EQ(fake.device.live_events(), 0u);
}

TEST(CachingAllocator, ReportsTheLargestCachedFreeBlock) {
  FakeDeviceAllocator fake(64 * kMiB);
  EXPECT_EQ(fake.allocator.largest_free_block(), 0u);
  void* small = fake.allocator.allocate(1000);  // 1024 bytes of a 2 MiB segment
  EXPECT_EQ(fake.allocator.largest_free_block(), 2 * kMiB - 1024);
  void* medium = fake.allocator.allocate(3 * kMiB);  // 3 MiB of a 20 MiB segment
  EXPECT_EQ(fake.allocator.largest_free_block(), 17 * kMiB);
  for (void* ptr : {small, medium}) fake.allocator.deallocate(ptr);
}

TEST(CachingAllocator, RefusesToFreeAPointerItDidNotHandOut) {
  FakeDeviceAllocator fake(64 * kMiB);
  int local = 0;
  EXPECT_THROW(fake.allocator.deallocate(&local), Error);
  char* block = as_bytes(fake.allocator.allocate(1000));
  EXPECT_THROW(fake.allocator.deallocate(block + 512), Error);  // inside a block, not its start
  fake.allocator.deallocate(block);
  EXPECT_THROW(fake.allocator.deallocate(block), Error);  // twice
}

TEST(CachingAllocator, RefusesToRecordAStreamForAPointerItDidNotHandOut) {
  FakeDeviceAllocator fake(64 * kMiB);
  int local = 0;
  EXPECT_THROW(fake.allocator.record_stream(&local, stream_number(1)), Error);
}

// A size that wrapped below zero upstream must not come back as a small block: rounding it up to
// 512 bytes or to a segment would overflow.
TEST(CachingAllocator, RefusesARequestTooLargeToRound) {
  const std::size_t largest = std::numeric_limits<std::size_t>::max();
  for (const std::size_t bytes : {largest, largest - 100, largest - kMiB}) {
    FakeDeviceAllocator fake(64 * kMiB);
    EXPECT_THROW(fake.allocator.allocate(bytes), Error) << bytes << " bytes";
    EXPECT_EQ(fake.allocator.stats().allocated_bytes, 0u) << bytes << " bytes";
  }
}

TEST(CachingAllocator, TreatsFreeingNullAsNothing) {
  FakeDeviceAllocator fake(64 * kMiB);
  EXPECT_NO_THROW(fake.allocator.deallocate(nullptr));
  EXPECT_EQ(fake.allocator.stats().allocated_bytes, 0u);
}

// The header does not say what a zero-byte request gets; the implementation rounds it up to one
// 512-byte block, as malloc(0) may return a unique pointer. Test that it is a real, distinct block.
TEST(CachingAllocator, HandsOutADistinctFreeableBlockForZeroBytes) {
  FakeDeviceAllocator fake(64 * kMiB);
  void* first = fake.allocator.allocate(0);
  void* second = fake.allocator.allocate(0);
  ASSERT_NE(first, nullptr);
  EXPECT_NE(first, second);
  EXPECT_EQ(fake.allocator.stats().allocated_bytes, 2 * CA::round_request(0));
  fake.allocator.deallocate(first);
  fake.allocator.deallocate(second);
  EXPECT_EQ(fake.allocator.stats().allocated_bytes, 0u);
}

}  // namespace
}  // namespace r50
