// defines: HostAllocator
#pragma once

#include "memory/direct_allocator.h"

namespace r50 {

// Plain, 64-byte aligned host memory with exact statistics; nothing is cached. Used by the CPU
// backend.
class HostAllocator final : public DirectAllocator {
 public:
  HostAllocator();
};

}  // namespace r50
