#include "memory/direct_allocator.h"

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <exception>
#include <sstream>

#include "core/bytes.h"
#include "core/error.h"

namespace r50 {
namespace {
constexpr std::size_t kAlignment = 64;  // a cache line, and enough for any SIMD load
}

DirectAllocator::DirectAllocator(std::unique_ptr<RawMemory> raw, std::size_t limit_bytes)
    : raw_(std::move(raw)), limit_bytes_(limit_bytes) {}

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
  R50_CHECK(bytes <= SIZE_MAX - kAlignment, "allocate: ", bytes, " bytes is no size");
  const std::size_t rounded = std::max<std::size_t>(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.allocation_count;
    if (limit_bytes_ && rounded > limit_bytes_ - std::min(limit_bytes_, stats_.allocated_bytes)) {
      out_of_memory(bytes, rounded);
    }
  }
  void* ptr = raw_->allocate(rounded);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!ptr) out_of_memory(bytes, rounded);
  ++stats_.raw_allocation_count;
  live_.emplace(ptr, rounded);
  stats_.allocated_bytes += rounded;
  stats_.reserved_bytes += rounded;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  return ptr;
}

void DirectAllocator::out_of_memory(std::size_t bytes, std::size_t rounded) {
  ++stats_.oom_count;
  std::ostringstream message;
  message << "out of " << raw_->name() << " memory: asked for " << format_bytes(rounded) << " (" << bytes
          << " bytes) with " << format_bytes(stats_.allocated_bytes) << " allocated";
  if (limit_bytes_) message << "; the limit is " << format_bytes(limit_bytes_);
  message << ". A smaller batch may fit.";
  throw OutOfMemory(message.str(), __FILE__, __LINE__, bytes);
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
