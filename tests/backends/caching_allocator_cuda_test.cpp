// The caching allocator over real cudaMalloc (memory/caching_allocator.h): under a long random
// sequence of requests every block it hands out is aligned, inside memory the device gave it
// (cudaMemset over the whole block succeeds) and apart from every other live block; and a cap on
// reserved memory turns into OutOfMemory that says where the device stands.
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "gpu_skip.h"
#include "memory/caching_allocator.h"
#include "memory/cuda_memory.h"

namespace r50 {
namespace {

constexpr std::size_t kMiB = std::size_t(1) << 20;

// The raw memory promises 256-byte alignment (raw_memory.h) and every block starts a multiple of
// CachingAllocator::kRound bytes into its segment.
constexpr std::uintptr_t kAlignment = 256;

// Sizes across the allocator's three classes: small (up to 1 MiB, from 2 MiB segments), large
// (from 20 MiB segments) and those of 10 MiB or more (a segment each).
std::size_t random_size(std::mt19937_64& rng) {
  switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0: return std::uniform_int_distribution<std::size_t>(10 * kMiB, 40 * kMiB)(rng);
    case 1:
    case 2: return std::uniform_int_distribution<std::size_t>(kMiB + 1, 10 * kMiB - 1)(rng);
    default: return std::uniform_int_distribution<std::size_t>(1, kMiB)(rng);
  }
}

TEST(CachingAllocatorOnCuda, RandomRequestsGetAlignedDisjointUsableBlocks) {
  R50_REQUIRE_GPU_OR_SKIP();
  CachingAllocator allocator(std::make_unique<CudaMemory>(0));
  std::mt19937_64 rng(7);
  std::map<std::uintptr_t, std::size_t> live;  // start -> requested bytes
  std::size_t live_bytes = 0;
  const std::size_t live_cap = 2048 * kMiB;  // keep the test small on any card
  for (int op = 0; op < 20000; ++op) {
    const bool release = !live.empty() &&
                         (live_bytes > live_cap || std::uniform_int_distribution<int>(0, 1)(rng) == 0);
    if (release) {
      auto it = std::next(live.begin(), std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng));
      allocator.deallocate(reinterpret_cast<void*>(it->first));
      live_bytes -= it->second;
      live.erase(it);
      continue;
    }
    const std::size_t bytes = random_size(rng);
    void* ptr = allocator.allocate(bytes);
    const auto start = reinterpret_cast<std::uintptr_t>(ptr);
    ASSERT_NE(ptr, nullptr) << "op " << op << ": " << bytes << " bytes";
    ASSERT_EQ(start % kAlignment, 0u) << "op " << op << ": " << ptr << " for " << bytes << " bytes";
    auto next = live.lower_bound(start);
    if (next != live.end()) {
      ASSERT_LE(start + bytes, next->first) << "op " << op << ": [" << ptr << ", +" << bytes
                                            << ") overlaps the live block at " << next->first;
    }
    if (next != live.begin()) {
      const auto prev = std::prev(next);
      ASSERT_LE(prev->first + prev->second, start) << "op " << op << ": " << ptr << " for " << bytes
                                                   << " bytes starts inside the live block at "
                                                   << prev->first << " of " << prev->second << " bytes";
    }
    ASSERT_EQ(cudaMemset(ptr, op & 0xff, bytes), cudaSuccess)
        << "op " << op << ": " << bytes << " bytes at " << ptr;
    live.emplace(start, bytes);
    live_bytes += bytes;
  }
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const AllocatorStats busy = allocator.stats();
  for (const auto& [start, bytes] : live) allocator.deallocate(reinterpret_cast<void*>(start));
  const AllocatorStats idle = allocator.stats();
  std::cout << busy.allocation_count << " allocations, " << busy.raw_allocation_count
            << " of them from cudaMalloc; peak allocated " << busy.peak_allocated_bytes
            << " bytes, peak reserved " << busy.peak_reserved_bytes << "\n";
  EXPECT_EQ(idle.allocated_bytes, 0u);
  allocator.empty_cache();
  EXPECT_EQ(allocator.stats().reserved_bytes, 0u);
}

// How the allocator writes sizes in its messages: "79.19 GiB", "40.00 MiB".
std::string human(std::size_t bytes) {
  char text[32];
  if (bytes >= (std::size_t(1) << 30)) {
    std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  } else {
    std::snprintf(text, sizeof text, "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  }
  return text;
}

TEST(CachingAllocatorOnCuda, BeyondTheCapIsOutOfMemoryNamingTheDevicesFreeAndTotal) {
  R50_REQUIRE_GPU_OR_SKIP();
  CachingAllocator allocator(std::make_unique<CudaMemory>(0), CachingAllocatorOptions{64 * kMiB});
  void* first = allocator.allocate(40 * kMiB);
  std::size_t free_bytes = 0, total_bytes = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_bytes, &total_bytes), cudaSuccess);
  try {
    allocator.allocate(40 * kMiB);
    FAIL() << "80 MiB live under a 64 MiB cap";
  } catch (const OutOfMemory& error) {
    const std::string message = error.what();
    std::cout << message << "\n";
    EXPECT_EQ(error.requested_bytes(), 40 * kMiB);
    EXPECT_NE(message.find("free of " + human(total_bytes)), std::string::npos)
        << "the device's total (" << human(total_bytes) << ") is missing";
    EXPECT_NE(message.find("the device has "), std::string::npos);
    EXPECT_NE(message.find(human(64 * kMiB)), std::string::npos) << "the cap is missing";
  }
  EXPECT_EQ(allocator.stats().oom_count, 1u);
  // The failure leaves the allocator whole: what fits under the cap still comes.
  allocator.deallocate(first);
  void* again = allocator.allocate(40 * kMiB);
  EXPECT_NE(again, nullptr);
  allocator.deallocate(again);
}

}  // namespace
}  // namespace r50
