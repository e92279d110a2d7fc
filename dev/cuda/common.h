// defines: R50_DEV_CHECK, DeviceArray, time_kernel, count_mismatches
//
// What the kernel harnesses of dev/cuda share, as llm.c's dev/cuda/common.h: checked CUDA calls,
// device arrays filled from the host, and timing with CUDA events after flushing the L2 cache, so
// that every variant reads its operands from device memory as it would inside a training step.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

// Runs a CUDA call; a failure ends the program, naming the call, the error, file and line.
#define R50_DEV_CHECK(call)                                                                          \
  do {                                                                                               \
    const cudaError_t r50_status_ = (call);                                                          \
    if (r50_status_ != cudaSuccess) {                                                                \
      std::fprintf(stderr, "%s failed: %s (%s:%d)\n", #call, cudaGetErrorString(r50_status_), __FILE__, \
                   __LINE__);                                                                        \
      std::exit(1);                                                                                  \
    }                                                                                                \
  } while (0)

// `count` elements of T in device memory, freed with the object.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t count) : count_(count) { R50_DEV_CHECK(cudaMalloc(&data_, bytes())); }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) {
    R50_DEV_CHECK(cudaMemcpy(data_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  ~DeviceArray() { cudaFree(data_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* data() const { return data_; }
  std::size_t bytes() const { return count_ * sizeof(T); }
  // Every byte 0xff, a NaN in each float format: what a variant leaves unwritten shows in its check.
  void poison() const { R50_DEV_CHECK(cudaMemset(data_, 0xff, bytes())); }
  std::vector<T> to_host() const {
    std::vector<T> host(count_);
    R50_DEV_CHECK(cudaMemcpy(host.data(), data_, bytes(), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* data_ = nullptr;
  std::size_t count_;
};

// The median of `repetitions` timings of `launch`, in milliseconds, each after writing a buffer of
// twice the L2 cache's size, which evicts what the previous run left there.
inline float time_kernel(const std::function<void()>& launch, int repetitions = 21) {
  int device = 0, l2_bytes = 0;
  R50_DEV_CHECK(cudaGetDevice(&device));
  R50_DEV_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
  DeviceArray<char> flush(2 * static_cast<std::size_t>(std::max(l2_bytes, 1 << 20)));
  cudaEvent_t start, stop;
  R50_DEV_CHECK(cudaEventCreate(&start));
  R50_DEV_CHECK(cudaEventCreate(&stop));
  std::vector<float> times;
  for (int i = 0; i < repetitions; ++i) {
    R50_DEV_CHECK(cudaMemset(flush.data(), i, flush.bytes()));
    R50_DEV_CHECK(cudaEventRecord(start));
    launch();
    R50_DEV_CHECK(cudaEventRecord(stop));
    R50_DEV_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    R50_DEV_CHECK(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  R50_DEV_CHECK(cudaEventDestroy(start));
  R50_DEV_CHECK(cudaEventDestroy(stop));
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// How many elements of `got` differ in their bits from `want`'s, printing the first few.
template <typename T>
std::size_t count_mismatches(const char* variant, const std::vector<T>& got, const std::vector<T>& want) {
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(T)) == 0) continue;
    if (++mismatches <= 5) {
      std::printf("  %s: element %zu is %.9g, expected %.9g\n", variant, i, static_cast<double>(got[i]),
                  static_cast<double>(want[i]));
    }
  }
  return mismatches;
}
