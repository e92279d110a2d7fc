// defines: host_cpu_model, seconds_since
#pragma once

#include <chrono>
#include <string>

namespace r50 {

// The processor's model name from /proc/cpuinfo; empty where there is none.
std::string host_cpu_model();

// Seconds on the steady clock since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace r50
