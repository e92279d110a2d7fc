#include "core/error.h"

#include <cstring>

namespace r50 {
namespace {

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

}  // namespace

Error::Error(const std::string& message, const char* file, int line)
    : std::runtime_error(detail::concat(message, " (", base_name(file), ":", line, ")")),
      message_(message),
      file_(base_name(file)),
      line_(line) {}

}  // namespace r50
