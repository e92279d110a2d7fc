#include "ops/select_backend.h"

#include "ops/cuda/cuda_probe.h"

namespace r50 {

BackendChoice parse_backend_choice(const std::string& text) {
  if (text == "auto") return BackendChoice::Auto;
  if (text == "cpu") return BackendChoice::Cpu;
  if (text == "cuda") return BackendChoice::Cuda;
  R50_THROW("unknown device '", text, "': expected auto, cpu or cuda");
}

namespace {

std::unique_ptr<Backend> cpu_backend(const BackendOptions& options) {
  R50_CHECK(options.precision == Precision::Fp32, "--precision ", precision_name(options.precision),
            ": the cpu backend computes in fp32 only");
  return make_cpu_backend(options.threads, options.gpu_memory_limit);
}

}  // namespace

std::unique_ptr<Backend> select_backend(const BackendOptions& options, std::ostream& log) {
  if (options.choice == BackendChoice::Cpu) return cpu_backend(options);
  const CudaProbe probe = probe_cuda();
  if (probe.device_count == 0) {
    if (options.choice == BackendChoice::Cuda) {
      R50_THROW("--device cuda, but no GPU answers: ", probe.why_not);
    }
    log << "note: no GPU answers (" << probe.why_not << "): running on the CPU backend, which is "
        << "far slower; --device cpu silences this note\n";
    return cpu_backend(options);
  }
  return make_cuda_backend({options.gpu, options.cudnn_benchmark, options.gpu_memory_limit, options.precision});
}

}  // namespace r50
