// defines: BackendChoice, parse_backend_choice, BackendOptions, select_backend
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "ops/backend.h"

namespace r50 {

// --device auto|cpu|cuda. auto takes the GPU when one answers and says loudly when it falls back.
enum class BackendChoice { Auto, Cpu, Cuda };

BackendChoice parse_backend_choice(const std::string& text);  // throws on anything else

struct BackendOptions {
  BackendChoice choice = BackendChoice::Auto;
  int gpu = 0;                   // --gpu N
  int threads = 0;               // CPU backend threads; <= 0: every core
  bool cudnn_benchmark = false;  // --cudnn-benchmark
  MemoryLimit gpu_memory_limit;  // --gpu-memory-limit: the device allocator's cap; on the CPU, host memory's
  Precision precision = Precision::Fp32;  // --precision; the CPU backend runs fp32 only
  CudnnApi cudnn_api = CudnnApi::Legacy;  // --cudnn-api; the CPU backend has no cuDNN: legacy only
};

// The backend the options ask for; what was chosen and why goes to `log`. `cuda` with no usable GPU
// is an error that says why none answers.
std::unique_ptr<Backend> select_backend(const BackendOptions& options, std::ostream& log);

}  // namespace r50
