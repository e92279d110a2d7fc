// defines: BackendChoice, parse_backend_choice, select_backend
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "ops/backend.h"

namespace r50 {

// --device auto|cpu|cuda. auto takes the GPU when one answers and says loudly when it falls back.
enum class BackendChoice { Auto, Cpu, Cuda };

BackendChoice parse_backend_choice(const std::string& text);  // throws on anything else

// The backend for `choice`; notes on what was chosen and why go to `log`. `cuda` with no usable GPU
// is an error. `threads` is for the CPU backend (<= 0: every core).
std::unique_ptr<Backend> select_backend(BackendChoice choice, int gpu, int threads, std::ostream& log);

}  // namespace r50
