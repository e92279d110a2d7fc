// defines: RunSettings, BuildInfo, ContextEntry, run_context, format_cuda_version,
//          format_cudnn_version, format_cublas_version, format_gpu_clocks
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/device_info.h"

namespace r50 {

// What a run was asked to do, as its report names it.
struct RunSettings {
  std::string device;     // "cpu" or "cuda:N"
  std::string precision;  // "fp32"
  int batch_size = 0;
  int image_size = 0;
  std::string dataset;    // "synthetic" or "food101"
};

// Where the program came from: the commit it was built from ("unknown" outside a git checkout,
// "-dirty" appended when tracked files had changes) and CMake's build type.
struct BuildInfo {
  std::string git_commit;
  std::string build_type;
};

using ContextEntry = std::pair<std::string, std::string>;

// The results JSON's context keys (DESIGN.md, "Results JSON"), in that order, as strings (Google
// Benchmark's custom context holds strings). The GPU keys read "none" when `settings.device` is
// "cpu". gpu_clocks ("max SM 1980 MHz, max memory 2619 MHz") and, beyond DESIGN.md's list,
// gpu_power_limit_watts and nvidia_driver_version ("580.95.05") come from NVML and read "unknown"
// where it does not answer. The versions are the libraries loaded at run time;
// cudnn_compiled_version and cublas_compiled_version, also beyond the list, are the headers the
// program was built with. driver_version is the CUDA version the driver supports
// (cudaDriverGetVersion: "13.0"). "date" is not among them: Google Benchmark writes its own, which
// the caller makes UTC.
std::vector<ContextEntry> run_context(const DeviceInfo& device, const RunSettings& settings, const BuildInfo& build,
                                      const std::string& cpu_model, unsigned cpu_cores);  // "": unknown

// Versions as the libraries encode them, for a person. CUDA (driver and runtime): 12040 is "12.4".
// cuDNN: 8907 is "8.9.7" (major·1000 before cuDNN 9), 91300 is "9.13.0" (major·10000 since).
// cuBLAS: 120405 is "12.4.5". Zero is "unknown".
std::string format_cuda_version(std::int64_t version);
std::string format_cudnn_version(std::int64_t version);
std::string format_cublas_version(std::int64_t version);
// "max SM 1980 MHz, max memory 2619 MHz"; "unknown" without NVML's figures.
std::string format_gpu_clocks(const DeviceInfo& device);

}  // namespace r50
