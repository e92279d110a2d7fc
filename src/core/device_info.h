// defines: DeviceInfo
#pragma once

#include <cstdint>
#include <string>

namespace r50 {

// What a report says about the device a run used. The CUDA backend fills every field; the CPU
// backend only `name` (the processor) and `multiprocessors` (its cores). Versions are as the
// libraries encode them (CUDA 13.0 is 13000, cuDNN 9.13.0 is 91300); "compiled" is the header the
// program was built with, "loaded" the library found at run time. Zero where unknown.
struct DeviceInfo {
  std::string name;
  int multiprocessors = 0;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
  std::uint64_t memory_bytes = 0;
  int driver_version = 0;
  int runtime_version = 0;
  std::int64_t cudnn_compiled_version = 0;
  std::int64_t cudnn_loaded_version = 0;
  int cublas_compiled_version = 0;
  int cublas_loaded_version = 0;
  // From the driver's management library (NVML) where it answers; 0 where it does not.
  int max_sm_clock_mhz = 0;
  int max_memory_clock_mhz = 0;
  double power_limit_watts = 0;
  std::string driver_release;  // the driver's own version, "580.95.05"; empty where unknown

  std::string compute_capability() const {
    return std::to_string(compute_capability_major) + "." + std::to_string(compute_capability_minor);
  }
};

}  // namespace r50
