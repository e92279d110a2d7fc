#include "memory/direct_allocator.h"

#include <algorithm>
#include <cstdio>
#include <exception>

#include "core/error.h"

namespace r50 {
namespace {
constexpr std::size_t kAlignment = 64;  // a cache line, and enough for any SIMD load
}

DirectAllocator::DirectAllocator(std::unique_ptr<RawMemory> raw) : raw_(std::move(raw)) {}

DirectAllocator::~DirectAllocator() {
  if (!live_.empty()) {
    std::fprintf(stderr, "warning: the %s allocator was destroyed with %zu blocks (%zu bytes) still live\n",
                 raw_->name().c_str(), live_.size(), stats_.allocated_bytes);
  }
  for (const auto& [ptr, bytes] : live_) {
    try {
      raw_->release(ptr);
    } catch (const std::exception& error) {  // a destructor must not throw
      std::fprintf(stderr, "warning: %s\n", error.what());
    }
  }
}

void* DirectAllocator::allocate(std::size_t bytes, Stream /*stream*/) {
  const std::size_t rounded = std::max<std::size_t>(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  void* ptr = raw_->allocate(rounded);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.allocation_count;
  if (!ptr) {
    ++stats_.oom_count;
    R50_THROW("out of ", raw_->name(), " memory: asked for ", bytes, " bytes with ",
              stats_.allocated_bytes, " bytes allocated");
  }
  ++stats_.raw_allocation_count;
  live_.emplace(ptr, rounded);
  stats_.allocated_bytes += rounded;
  stats_.reserved_bytes += rounded;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  return ptr;
}

void DirectAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  R50_CHECK(it != live_.end(), "deallocate: ", ptr, " was not allocated by the ", raw_->name(),
            " allocator");
  stats_.allocated_bytes -= it->second;
  stats_.reserved_bytes -= it->second;
  live_.erase(it);
  raw_->release(ptr);
}

void DirectAllocator::record_stream(void* ptr, Stream /*stream*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  R50_CHECK(live_.count(ptr), "record_stream: ", ptr, " was not allocated by the ", raw_->name(),
            " allocator");
}

AllocatorStats DirectAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void DirectAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

}  // namespace r50
