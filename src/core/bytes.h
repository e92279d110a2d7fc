// defines: format_bytes
#pragma once

#include <cstddef>
#include <string>

namespace r50 {

// A size for a person: "512 bytes", "3.50 MiB", "5.62 GiB".
std::string format_bytes(std::size_t bytes);

}  // namespace r50
