#include "memory/memory_limit.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "core/bytes.h"
#include "core/error.h"

namespace r50 {
namespace {

constexpr std::pair<const char*, double> kUnits[] = {
    {"B", 1.0},           {"KiB", 1024.0},   {"MiB", 1048576.0}, {"GiB", 1073741824.0},
    {"TiB", 1099511627776.0}, {"KB", 1e3},   {"MB", 1e6},        {"GB", 1e9},
    {"TB", 1e12},
};

[[noreturn]] void refuse(const std::string& text, const char* why) {
  R50_THROW("--gpu-memory-limit '", text, "': ", why,
            "; expected a size such as 6GiB, 512MiB or 6GB, or a share of the device such as 0.5 "
            "or 50%");
}

}  // namespace

std::size_t MemoryLimit::bytes_of(std::size_t device_total) const {
  if (fraction > 0.0) return static_cast<std::size_t>(fraction * static_cast<double>(device_total));
  return bytes;
}

std::string MemoryLimit::str() const {
  if (none()) return "none";
  if (fraction == 0.0) return format_bytes(bytes);
  char text[64];
  std::snprintf(text, sizeof text, "%g%% of the device", fraction * 100.0);
  return text;
}

MemoryLimit parse_memory_limit(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double value = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(value)) refuse(text, "no number");
  if (value <= 0.0) refuse(text, "the limit must be positive");
  const std::string unit(end);
  MemoryLimit limit;
  if (unit == "%") {
    if (value > 100.0) refuse(text, "a share above 100%");
    limit.fraction = value / 100.0;
    return limit;
  }
  if (unit.empty() && value <= 1.0) {
    limit.fraction = value;
    return limit;
  }
  if (unit.empty() && value != std::floor(value)) refuse(text, "a count of bytes must be whole");
  double scale = unit.empty() ? 1.0 : 0.0;  // a bare number above 1 is bytes
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) scale = factor;
  }
  if (scale == 0.0) refuse(text, "unknown unit");
  const double bytes = value * scale;
  if (bytes < 1.0 || bytes > 1.8e19) refuse(text, "out of range");
  limit.bytes = static_cast<std::size_t>(bytes);
  return limit;
}

}  // namespace r50
