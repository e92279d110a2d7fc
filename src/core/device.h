// defines: DeviceType, Device, Stream
#pragma once

#include <string>

namespace r50 {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index) { return {DeviceType::CUDA, index}; }

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool operator==(const Device& other) const { return type == other.type && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// An opaque handle to an ordered queue of device work (a cudaStream_t on the GPU).
// The default-constructed stream is the device's default stream; the CPU has only that one.
struct Stream {
  void* handle = nullptr;
  bool operator==(const Stream& other) const { return handle == other.handle; }
};

}  // namespace r50
