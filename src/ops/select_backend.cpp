#include "ops/select_backend.h"

#include "ops/cuda/cuda_probe.h"

namespace r50 {

BackendChoice parse_backend_choice(const std::string& text) {
  if (text == "auto") return BackendChoice::Auto;
  if (text == "cpu") return BackendChoice::Cpu;
  if (text == "cuda") return BackendChoice::Cuda;
  R50_THROW("unknown device '", text, "': expected auto, cpu or cuda");
}

std::unique_ptr<Backend> select_backend(BackendChoice choice, int gpu, int threads, std::ostream& log) {
  if (choice == BackendChoice::Cpu) return make_cpu_backend(threads);
  const CudaProbe probe = probe_cuda();
  // The CUDA backend is the next piece of work; until it lands every run is on the CPU.
  if (choice == BackendChoice::Cuda) {
    if (probe.device_count == 0) R50_THROW("--device cuda, but no GPU answers: ", probe.why_not);
    R50_THROW("--device cuda: GPU ", gpu, " (", probe.first_device_name,
              ") answers, but this version has no CUDA backend yet; use --device cpu");
  }
  if (probe.device_count == 0) {
    log << "note: no GPU (" << probe.why_not << "): running on the CPU backend\n";
  } else {
    log << "note: a GPU answers (" << probe.first_device_name
        << ") but this version has no CUDA backend yet: running on the CPU backend\n";
  }
  return make_cpu_backend(threads);
}

}  // namespace r50
