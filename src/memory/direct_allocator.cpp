#include "memory/host_allocator.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "core/error.h"

namespace r50 {
namespace {
constexpr std::size_t kAlignment = 64;  // a cache line, and enough for any SIMD load
}

HostAllocator::~HostAllocator() {
  if (!live_.empty()) {
    std::fprintf(stderr, "warning: HostAllocator destroyed with %zu blocks (%zu bytes) still live\n",
                 live_.size(), stats_.allocated_bytes);
  }
}

void* HostAllocator::allocate(std::size_t bytes, Stream /*stream*/) {
  const std::size_t rounded = std::max<std::size_t>(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  void* ptr = std::aligned_alloc(kAlignment, rounded);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.allocation_count;
  if (!ptr) {
    ++stats_.oom_count;
    R50_THROW("out of host memory: asked for ", bytes, " bytes with ", stats_.allocated_bytes,
              " bytes allocated");
  }
  ++stats_.raw_allocation_count;
  live_.emplace(ptr, rounded);
  stats_.allocated_bytes += rounded;
  stats_.reserved_bytes += rounded;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  return ptr;
}

void HostAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  R50_CHECK(it != live_.end(), "HostAllocator::deallocate: ", ptr, " was not allocated here");
  stats_.allocated_bytes -= it->second;
  stats_.reserved_bytes -= it->second;
  live_.erase(it);
  std::free(ptr);
}

void HostAllocator::record_stream(void* ptr, Stream /*stream*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  R50_CHECK(live_.count(ptr), "HostAllocator::record_stream: ", ptr, " was not allocated here");
}

AllocatorStats HostAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void HostAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

}  // namespace r50
