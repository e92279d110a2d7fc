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
  // fp16 and bf16 only change the dtype the model stores activations in, which the CPU backend
  // rounds to as a GPU does; tf32 is a property of tensor cores' products, which it does not have.
  R50_CHECK(options.precision != Precision::Tf32, "--precision tf32: the cpu backend has no tensor cores; "
            "fp32, fp16 and bf16 run there");
  // legacy, the default, changes nothing here; graph is asked for by name, and would not be honoured.
  R50_CHECK(options.cudnn_api == CudnnApi::Legacy, "--cudnn-api ", cudnn_api_name(options.cudnn_api),
            ": the cpu backend has no cuDNN; the choice of cuDNN API is for the cuda backend");
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
  return make_cuda_backend(
      {options.gpu, options.cudnn_benchmark, options.gpu_memory_limit, options.precision, options.cudnn_api});
}

}  // namespace r50
