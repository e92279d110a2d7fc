// The CPU backend's allocator: aligned memory and exact statistics.
#include "memory/host_allocator.h"

#include <cstdint>

#include <gtest/gtest.h>

#include "core/error.h"
#include "memory/buffer.h"

namespace r50 {
namespace {

TEST(HostAllocator, ReturnsCacheLineAlignedMemory) {
  HostAllocator allocator;
  for (std::size_t bytes : {1, 63, 64, 1000, 1 << 20}) {
    void* ptr = allocator.allocate(bytes);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(ptr) % 64, 0u) << bytes << " bytes";
    allocator.deallocate(ptr);
  }
}

TEST(HostAllocator, CountsBytesRoundedToTheAlignmentAndKeepsThePeak) {
  HostAllocator allocator;
  void* a = allocator.allocate(100);  // 128 bytes
  void* b = allocator.allocate(64);
  EXPECT_EQ(allocator.stats().allocated_bytes, 192u);
  allocator.deallocate(a);
  const AllocatorStats stats = allocator.stats();
  EXPECT_EQ(stats.allocated_bytes, 64u);
  EXPECT_EQ(stats.reserved_bytes, 64u);
  EXPECT_EQ(stats.peak_allocated_bytes, 192u);
  EXPECT_EQ(stats.allocation_count, 2u);
  EXPECT_EQ(stats.raw_allocation_count, 2u);
  allocator.reset_peak();
  EXPECT_EQ(allocator.stats().peak_allocated_bytes, 64u);
  allocator.deallocate(b);
}

TEST(HostAllocator, ACapMakesTheRequestPastItOutOfMemoryAndLeavesTheRestUsable) {
  HostAllocator allocator(1024);
  void* a = allocator.allocate(1000);  // 1024 bytes: exactly the cap
  try {
    allocator.allocate(1);
    FAIL() << "a request past the cap was granted";
  } catch (const OutOfMemory& error) {
    EXPECT_EQ(error.requested_bytes(), 1u);
    const std::string message = error.what();
    EXPECT_NE(message.find("out of host memory"), std::string::npos) << message;
    EXPECT_NE(message.find("the limit is 1024 bytes"), std::string::npos) << message;
  }
  EXPECT_EQ(allocator.stats().oom_count, 1u);
  EXPECT_EQ(allocator.stats().allocated_bytes, 1024u);
  allocator.deallocate(a);
  void* b = allocator.allocate(512);
  EXPECT_NE(b, nullptr);
  allocator.deallocate(b);
}

TEST(HostAllocator, RefusesAPointerItDidNotAllocate) {
  HostAllocator allocator;
  int local = 0;
  EXPECT_THROW(allocator.deallocate(&local), Error);
  EXPECT_THROW(allocator.record_stream(&local, Stream{}), Error);
}

TEST(Buffer, ReturnsItsMemoryWhenItGoesAway) {
  HostAllocator allocator;
  {
    Buffer buffer(allocator, 256);
    EXPECT_EQ(allocator.stats().allocated_bytes, 256u);
    Buffer moved = std::move(buffer);
    EXPECT_EQ(buffer.data(), nullptr);
    EXPECT_EQ(allocator.stats().allocated_bytes, 256u);
  }
  EXPECT_EQ(allocator.stats().allocated_bytes, 0u);
}

TEST(OwnedTensor, ViewsItsOwnBufferWithTheShapeAsked) {
  HostAllocator allocator;
  const OwnedTensor tensor(allocator, {2, 3}, DType::F32, Device::cpu());
  EXPECT_EQ(tensor.shape(), Shape({2, 3}));
  EXPECT_NE(tensor.tensor().data(), nullptr);
  EXPECT_EQ(allocator.stats().allocated_bytes, 64u);  // 24 bytes, rounded up
}

}  // namespace
}  // namespace r50
