#include "report/run_context.h"

namespace r50 {
namespace {

std::string dotted(std::int64_t major, std::int64_t minor, std::int64_t patch) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace

std::string format_cuda_version(std::int64_t version) {
  if (version <= 0) return "unknown";
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string format_cudnn_version(std::int64_t version) {
  if (version <= 0) return "unknown";
  if (version >= 90000) return dotted(version / 10000, version % 10000 / 100, version % 100);
  return dotted(version / 1000, version % 1000 / 100, version % 100);
}

std::string format_cublas_version(std::int64_t version) {
  if (version <= 0) return "unknown";
  return dotted(version / 10000, version % 10000 / 100, version % 100);
}

std::string format_gpu_clocks(const DeviceInfo& device) {
  if (device.max_sm_clock_mhz <= 0) return "unknown";
  return "max SM " + std::to_string(device.max_sm_clock_mhz) + " MHz, max memory " +
         std::to_string(device.max_memory_clock_mhz) + " MHz";
}

std::vector<ContextEntry> run_context(const DeviceInfo& device, const RunSettings& settings, const BuildInfo& build,
                                      const std::string& cpu_model, unsigned cpu_cores) {
  const bool gpu = settings.device != "cpu";
  const auto gpu_value = [gpu](const std::string& value) { return gpu ? value : std::string("none"); };
  return {
      {"gpu_name", gpu_value(device.name)},
      {"gpu_sm_count", gpu_value(std::to_string(device.multiprocessors))},
      {"gpu_compute_capability", gpu_value(device.compute_capability())},
      {"gpu_memory_bytes", gpu_value(std::to_string(device.memory_bytes))},
      {"gpu_clocks", gpu_value(format_gpu_clocks(device))},
      {"gpu_power_limit_watts", gpu_value(device.power_limit_watts > 0 ? std::to_string(static_cast<int>(device.power_limit_watts + 0.5)) : "unknown")},
      {"driver_version", gpu_value(format_cuda_version(device.driver_version))},
      {"nvidia_driver_version", gpu_value(device.driver_release.empty() ? "unknown" : device.driver_release)},
      {"cuda_runtime_version", gpu_value(format_cuda_version(device.runtime_version))},
      {"cudnn_version", gpu_value(format_cudnn_version(device.cudnn_loaded_version))},
      {"cublas_version", gpu_value(format_cublas_version(device.cublas_loaded_version))},
      {"cudnn_compiled_version", gpu_value(format_cudnn_version(device.cudnn_compiled_version))},
      {"cublas_compiled_version", gpu_value(format_cublas_version(device.cublas_compiled_version))},
      {"cpu_model", cpu_model.empty() ? "unknown" : cpu_model},
      {"cpu_cores", std::to_string(cpu_cores)},
      {"device", settings.device},
      {"precision", settings.precision},
      {"batch_size", std::to_string(settings.batch_size)},
      {"image_size", std::to_string(settings.image_size)},
      {"dataset", settings.dataset},
      {"git_commit", build.git_commit},
      {"build_type", build.build_type},
  };
}

}  // namespace r50
