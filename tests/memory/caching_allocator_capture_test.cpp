// The caching allocator's CUDA graph capture scope over a fake device: a capture is served from
// the cache alone, and the memory it saw stays out of everyone else's hands until its graph is
// released. (Capturing on a real GPU is tests/backends/cuda_graph_test.cpp.)
#include "memory/caching_allocator.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fake_device_allocator.h"

namespace r50 {
namespace {

// A training step's pattern in miniature: activations kept, a scratch freed mid-way, a gradient
// allocated after it, then everything freed.
std::vector<void*> step(CachingAllocator& allocator) {
  void* activation = allocator.allocate(3 * kMiB);
  void* scratch = allocator.allocate(64 * kKiB);
  allocator.deallocate(scratch);
  void* gradient = allocator.allocate(2 * kMiB);
  allocator.deallocate(gradient);
  allocator.deallocate(activation);
  return {activation, scratch, gradient};
}

TEST(CachingAllocatorCapture, ServesACapturedStepFromTheCacheAStepBeforeItFilled) {
  FakeDeviceAllocator fake(256 * kMiB);
  const std::vector<void*> eager = step(fake.allocator);
  const std::uint64_t raw_before = fake.allocator.stats().raw_allocation_count;
  fake.allocator.begin_capture();
  const std::vector<void*> captured = step(fake.allocator);
  fake.allocator.end_capture();
  EXPECT_EQ(fake.allocator.stats().raw_allocation_count, raw_before);
  EXPECT_EQ(captured, eager);  // the same requests in the same cache: the same blocks
  fake.allocator.release_capture();
}

TEST(CachingAllocatorCapture, RefusesARequestTheCacheCannotServeNamingIt) {
  FakeDeviceAllocator fake(256 * kMiB);
  fake.allocator.begin_capture();
  try {
    fake.allocator.allocate(3 * kMiB);
    FAIL() << "a capture with an empty cache was served";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("CUDA graph capture: a request for 3.00 MiB"), std::string::npos) << message;
    EXPECT_NE(message.find("run training steps without capture first"), std::string::npos) << message;
  }
  EXPECT_EQ(fake.device.allocation_calls(), 0u);
  fake.allocator.end_capture();
  fake.allocator.release_capture();
  void* after = fake.allocator.allocate(3 * kMiB);  // outside a capture the device is asked again
  EXPECT_EQ(fake.device.allocation_calls(), 1u);
  fake.allocator.deallocate(after);
}

TEST(CachingAllocatorCapture, ReusesABlockFreedEarlierInTheSameCapture) {
  FakeDeviceAllocator fake(256 * kMiB);
  fake.allocator.deallocate(fake.allocator.allocate(kMiB));
  fake.allocator.begin_capture();
  void* first = fake.allocator.allocate(kMiB);
  fake.allocator.deallocate(first);
  void* second = fake.allocator.allocate(kMiB);  // after `first` in stream order, as a replay keeps it
  EXPECT_EQ(second, first);
  fake.allocator.deallocate(second);
  fake.allocator.end_capture();
  fake.allocator.release_capture();
}

TEST(CachingAllocatorCapture, KeepsWhatTheCaptureUsedFromLaterRequestsWhileTheGraphLives) {
  FakeDeviceAllocator fake(256 * kMiB);
  const std::vector<void*> eager = step(fake.allocator);
  fake.allocator.begin_capture();
  step(fake.allocator);
  fake.allocator.end_capture();
  EXPECT_GT(fake.allocator.held_for_graphs_bytes(), 0u);

  const std::uint64_t raw_before = fake.allocator.stats().raw_allocation_count;
  void* later = fake.allocator.allocate(3 * kMiB);
  EXPECT_NE(later, eager[0]);
  EXPECT_EQ(fake.allocator.stats().raw_allocation_count, raw_before + 1);  // a segment of its own
  fake.allocator.deallocate(later);
  fake.allocator.release_capture();
}

TEST(CachingAllocatorCapture, ReturnsHeldBlocksToTheCacheWhenTheGraphIsReleased) {
  FakeDeviceAllocator fake(256 * kMiB);
  const std::vector<void*> eager = step(fake.allocator);
  fake.allocator.begin_capture();
  step(fake.allocator);
  fake.allocator.end_capture();
  fake.allocator.release_capture();
  EXPECT_EQ(fake.allocator.held_for_graphs_bytes(), 0u);
  const std::uint64_t raw_before = fake.allocator.stats().raw_allocation_count;
  EXPECT_EQ(step(fake.allocator), eager);
  EXPECT_EQ(fake.allocator.stats().raw_allocation_count, raw_before);
  fake.allocator.empty_cache();  // merged back whole: every segment goes back to the device
  EXPECT_EQ(fake.allocator.stats().reserved_bytes, 0u);
}

TEST(CachingAllocatorCapture, HoldsABlockLiveAtTheCaptureThatItsOwnerFreesWhileTheGraphLives) {
  FakeDeviceAllocator fake(256 * kMiB);
  void* weights = fake.allocator.allocate(kMiB);  // read by the captured work, say
  fake.allocator.begin_capture();
  fake.allocator.end_capture();
  fake.allocator.deallocate(weights);
  void* later = fake.allocator.allocate(kMiB);
  EXPECT_NE(later, weights);
  fake.allocator.deallocate(later);
  fake.allocator.release_capture();
  void* after = fake.allocator.allocate(kMiB);
  EXPECT_EQ(after, weights);
  fake.allocator.deallocate(after);
}

// cuDNN's workspace grows this way: the old one, allocated before the capture, is freed during it
// after captured work has used it.
TEST(CachingAllocatorCapture, HoldsABlockFreedDuringTheCapture) {
  FakeDeviceAllocator fake(256 * kMiB);
  void* workspace = fake.allocator.allocate(4 * kMiB);
  fake.allocator.begin_capture();
  fake.allocator.deallocate(workspace);
  fake.allocator.end_capture();
  void* later = fake.allocator.allocate(4 * kMiB);
  EXPECT_NE(later, workspace);
  fake.allocator.deallocate(later);
  fake.allocator.release_capture();
}

TEST(CachingAllocatorCapture, HoldsMemoryUntilTheLastOfTwoGraphsIsReleased) {
  FakeDeviceAllocator fake(256 * kMiB);
  void* first = fake.allocator.allocate(11 * kMiB);  // a segment for each capture
  void* second = fake.allocator.allocate(11 * kMiB);
  for (void* ptr : {first, second}) fake.allocator.deallocate(ptr);
  for (int graph = 0; graph < 2; ++graph) {
    fake.allocator.begin_capture();
    fake.allocator.deallocate(fake.allocator.allocate(11 * kMiB));
    fake.allocator.end_capture();
  }
  fake.allocator.release_capture();
  EXPECT_GT(fake.allocator.held_for_graphs_bytes(), 0u);
  fake.allocator.release_capture();
  EXPECT_EQ(fake.allocator.held_for_graphs_bytes(), 0u);
}

TEST(CachingAllocatorCapture, CountsHeldMemoryAsReservedButNotAllocated) {
  FakeDeviceAllocator fake(256 * kMiB);
  step(fake.allocator);
  const AllocatorStats before = fake.allocator.stats();
  fake.allocator.begin_capture();
  step(fake.allocator);
  fake.allocator.end_capture();
  const AllocatorStats after = fake.allocator.stats();
  EXPECT_EQ(after.allocated_bytes, 0u);
  EXPECT_EQ(after.reserved_bytes, before.reserved_bytes);
  // The step freed everything it took, merging each segment back whole, and each is held now.
  EXPECT_EQ(fake.allocator.held_for_graphs_bytes(), before.reserved_bytes);
  EXPECT_EQ(fake.allocator.largest_free_block(), 0u);
  fake.allocator.release_capture();
}

TEST(CachingAllocatorCapture, RefusesToReleaseMemoryDuringACapture) {
  FakeDeviceAllocator fake(256 * kMiB);
  fake.allocator.begin_capture();
  EXPECT_THROW(fake.allocator.empty_cache(), Error);
  fake.allocator.end_capture();
  fake.allocator.release_capture();
}

TEST(CachingAllocatorCapture, RefusesCapturesOutOfOrder) {
  FakeDeviceAllocator fake(256 * kMiB);
  EXPECT_THROW(fake.allocator.end_capture(), Error);
  EXPECT_THROW(fake.allocator.release_capture(), Error);
  fake.allocator.begin_capture();
  EXPECT_TRUE(fake.allocator.capturing());
  EXPECT_THROW(fake.allocator.begin_capture(), Error);
  EXPECT_THROW(fake.allocator.release_capture(), Error);  // end it first
  fake.allocator.end_capture();
  EXPECT_FALSE(fake.allocator.capturing());
  fake.allocator.release_capture();
}

}  // namespace
}  // namespace r50
