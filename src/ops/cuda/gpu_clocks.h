// defines: GpuClocks, read_gpu_clocks
#pragma once

#include <string>

namespace r50 {

// What the driver's management library (NVML) says of a GPU's clocks and power, and the driver's
// version; `known` is false,
// with the reason in `unknown_why`, where it does not answer (no driver library, a container
// without it, a GPU it does not manage).
struct GpuClocks {
  bool known = false;
  std::string unknown_why;
  int sm_mhz = 0;            // now
  int memory_mhz = 0;        // now
  int max_sm_mhz = 0;        // the highest the GPU runs at
  int max_memory_mhz = 0;
  double power_watts = 0;        // drawn now
  double power_limit_watts = 0;  // the management limit, which caps the clocks under load
  std::string driver_version;    // the driver's own number, "580.95.05"
};

// Asks NVML about the GPU at `pci_bus_id` (as cudaDeviceGetPCIBusId writes it), which is how a
// CUDA device index and an NVML index are matched: the two orders may differ. NVML is opened at
// run time (libnvidia-ml.so.1, installed with the driver), so nothing links against it.
GpuClocks read_gpu_clocks(const std::string& pci_bus_id);

}  // namespace r50
