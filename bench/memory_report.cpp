#include "memory_report.h"

#include <cstdio>

namespace r50 {

std::string memory_summary(const AllocatorStats& stats) {
  char ratio[32] = "n/a";
  if (stats.peak_allocated_bytes > 0) {
    std::snprintf(ratio, sizeof ratio, "%.3f",
                  static_cast<double>(stats.peak_reserved_bytes) /
                      static_cast<double>(stats.peak_allocated_bytes));
  }
  return "peak allocated " + format_bytes(stats.peak_allocated_bytes) + ", peak reserved " +
         format_bytes(stats.peak_reserved_bytes) + " (reserved/allocated " + ratio + "), " +
         std::to_string(stats.raw_allocation_count) + " raw allocations, " +
         std::to_string(stats.oom_count) + " out of memory";
}

std::string describe_memory_limit(const MemoryLimit& limit, Backend& backend) {
  const std::size_t device_bytes = backend.device_info().memory_bytes;
  if (limit.none()) return "none (the device's " + format_bytes(device_bytes) + ")";
  if (limit.fraction > 0.0) return limit.str() + " (" + format_bytes(limit.bytes_of(device_bytes)) + ")";
  return limit.str();
}

}  // namespace r50
