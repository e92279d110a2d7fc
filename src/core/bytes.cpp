#include "core/bytes.h"

#include <cstdio>

namespace r50 {

std::string format_bytes(std::size_t bytes) {
  char text[32];
  const double value = static_cast<double>(bytes);
  if (bytes >= (std::size_t(1) << 30)) {
    std::snprintf(text, sizeof text, "%.2f GiB", value / (1 << 30));
  } else if (bytes >= (std::size_t(1) << 20)) {
    std::snprintf(text, sizeof text, "%.2f MiB", value / (1 << 20));
  } else {
    std::snprintf(text, sizeof text, "%zu bytes", bytes);
  }
  return text;
}

}  // namespace r50
