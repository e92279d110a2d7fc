// defines: HostAllocator
#pragma once

#include "memory/direct_allocator.h"

namespace r50 {

// Plain, 64-byte aligned host memory with exact statistics; nothing is cached. Used by the CPU
// backend, with a cap (`limit_bytes`, 0: none) where it was given one.
class HostAllocator final : public DirectAllocator {
 public:
  explicit HostAllocator(std::size_t limit_bytes = 0);
};

}  // namespace r50
