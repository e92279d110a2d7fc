#include "ops/cuda/gpu_clocks.h"

#include <dlfcn.h>

namespace r50 {
namespace {

// The few entry points used, declared as NVML's C interface defines them (nvml.h is not part of
// the CUDA toolkit everywhere); handles are opaque pointers, clock types plain enums.
using NvmlDevice = struct NvmlDeviceOpaque*;
using NvmlReturn = int;
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr int kNvmlClockSm = 1, kNvmlClockMemory = 2;  // nvmlClockType_t

struct Nvml {
  NvmlReturn (*init)();
  NvmlReturn (*shutdown)();
  NvmlReturn (*handle_by_pci_bus_id)(const char*, NvmlDevice*);
  NvmlReturn (*clock)(NvmlDevice, int, unsigned*);
  NvmlReturn (*max_clock)(NvmlDevice, int, unsigned*);
  NvmlReturn (*power_usage)(NvmlDevice, unsigned*);       // milliwatts
  NvmlReturn (*power_limit)(NvmlDevice, unsigned*);       // milliwatts
  NvmlReturn (*driver_version)(char*, unsigned);
};

template <typename Function>
bool find(void* library, const char* name, Function& function) {
  function = reinterpret_cast<Function>(dlsym(library, name));
  return function != nullptr;
}

GpuClocks unknown(std::string why) {
  GpuClocks clocks;
  clocks.unknown_why = std::move(why);
  return clocks;
}

}  // namespace

GpuClocks read_gpu_clocks(const std::string& pci_bus_id) {
  // Opened and closed per reading: a reading is rare (the start and the end of a measurement),
  // and holding NVML open would keep its threads alive for the whole run.
  void* library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) return unknown("NVML (libnvidia-ml.so.1) is not installed or not visible");
  Nvml nvml{};
  const bool complete = find(library, "nvmlInit_v2", nvml.init) && find(library, "nvmlShutdown", nvml.shutdown) &&
                        find(library, "nvmlDeviceGetHandleByPciBusId_v2", nvml.handle_by_pci_bus_id) &&
                        find(library, "nvmlDeviceGetClockInfo", nvml.clock) &&
                        find(library, "nvmlDeviceGetMaxClockInfo", nvml.max_clock) &&
                        find(library, "nvmlDeviceGetPowerUsage", nvml.power_usage) &&
                        find(library, "nvmlDeviceGetPowerManagementLimit", nvml.power_limit) &&
                        find(library, "nvmlSystemGetDriverVersion", nvml.driver_version);
  GpuClocks clocks;
  if (!complete) {
    clocks = unknown("NVML lacks an entry point this program uses");
  } else if (nvml.init() != kNvmlSuccess) {
    clocks = unknown("NVML did not start");
  } else {
    NvmlDevice device = nullptr;
    unsigned sm = 0, memory = 0, max_sm = 0, max_memory = 0;
    if (nvml.handle_by_pci_bus_id(pci_bus_id.c_str(), &device) != kNvmlSuccess) {
      clocks = unknown("NVML does not know the GPU at " + pci_bus_id);
    } else if (nvml.clock(device, kNvmlClockSm, &sm) != kNvmlSuccess ||
               nvml.clock(device, kNvmlClockMemory, &memory) != kNvmlSuccess ||
               nvml.max_clock(device, kNvmlClockSm, &max_sm) != kNvmlSuccess ||
               nvml.max_clock(device, kNvmlClockMemory, &max_memory) != kNvmlSuccess) {
      clocks = unknown("NVML does not report this GPU's clocks");
    } else {
      clocks.known = true;
      clocks.sm_mhz = static_cast<int>(sm);
      clocks.memory_mhz = static_cast<int>(memory);
      clocks.max_sm_mhz = static_cast<int>(max_sm);
      clocks.max_memory_mhz = static_cast<int>(max_memory);
      // Power is optional: some boards report clocks but not power.
      unsigned milliwatts = 0;
      if (nvml.power_usage(device, &milliwatts) == kNvmlSuccess) clocks.power_watts = milliwatts / 1e3;
      if (nvml.power_limit(device, &milliwatts) == kNvmlSuccess) clocks.power_limit_watts = milliwatts / 1e3;
      char version[96] = {};
      if (nvml.driver_version(version, sizeof version) == kNvmlSuccess) clocks.driver_version = version;
    }
    nvml.shutdown();
  }
  dlclose(library);
  return clocks;
}

}  // namespace r50
