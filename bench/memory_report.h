// defines: memory_summary, describe_memory_limit
#pragma once

#include <cstddef>
#include <string>

#include "core/bytes.h"
#include "memory/allocator.h"
#include "memory/memory_limit.h"
#include "ops/backend.h"

namespace r50 {

// One line for a person: peak allocated, peak reserved, their ratio, raw allocations and
// out-of-memory count, as the allocator's statistics have them.
std::string memory_summary(const AllocatorStats& stats);

// The cap --gpu-memory-limit put on `backend`'s allocator, in words: "6.00 GiB",
// "50% of the device (39.59 GiB)", or "none (the device's 79.19 GiB)".
std::string describe_memory_limit(const MemoryLimit& limit, Backend& backend);

}  // namespace r50
