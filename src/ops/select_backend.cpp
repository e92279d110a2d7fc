#include "ops/select_backend.h"

#include "ops/cuda/cuda_probe.h"

namespace r50 {

BackendChoice parse_backend_choice(const std::string& text) {
  if (text == "auto") return BackendChoice::Auto;
  if (text == "cpu") return BackendChoice::Cpu;
  if (text == "cuda") return BackendChoice::Cuda;
  R50_THROW("unknown device '", text, "': expected auto, cpu or cuda");
}

std::unique_ptr<Backend> select_backend(const BackendOptions& options, std::ostream& log) {
  if (options.choice == BackendChoice::Cpu) return make_cpu_backend(options.threads, options.gpu_memory_limit);
  const CudaProbe probe = probe_cuda();
  if (probe.device_count == 0) {
    if (options.choice == BackendChoice::Cuda) {
      R50_THROW("--device cuda, but no GPU answers: ", probe.why_not);
    }
    log << "note: no GPU answers (" << probe.why_not << "): running on the CPU backend, which is "
        << "far slower; --device cpu silences this note\n";
    return make_cpu_backend(options.threads, options.gpu_memory_limit);
  }
  return make_cuda_backend({options.gpu, options.cudnn_benchmark, options.gpu_memory_limit});
}

}  // namespace r50
