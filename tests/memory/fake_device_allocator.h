// defines: FakeDeviceAllocator, kKiB, kMiB, kGiB, stream_number
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "memory/caching_allocator.h"
#include "memory/fake_memory.h"

namespace r50 {

constexpr std::size_t kKiB = std::size_t(1) << 10;
constexpr std::size_t kMiB = std::size_t(1) << 20;
constexpr std::size_t kGiB = std::size_t(1) << 30;

// Stream n, for n >= 1: distinct handles that no other code uses. Stream{} is the default stream.
inline Stream stream_number(std::uintptr_t n) { return Stream{reinterpret_cast<void*>(n)}; }

// A caching allocator over a fake device of `capacity` bytes. The allocator owns the device;
// `device` stays a view behind it, so a test can see raw allocations and finish streams' work.
struct FakeDeviceAllocator {
  explicit FakeDeviceAllocator(std::size_t capacity, CachingAllocatorOptions options = {})
      : FakeDeviceAllocator(std::make_unique<FakeDeviceMemory>(capacity), options) {}

  FakeDeviceMemory& device;
  CachingAllocator allocator;

 private:
  FakeDeviceAllocator(std::unique_ptr<FakeDeviceMemory> fake, CachingAllocatorOptions options)
      : device(*fake), allocator(std::move(fake), options) {}
};

}  // namespace r50
