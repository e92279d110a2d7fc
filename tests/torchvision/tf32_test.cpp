// --precision tf32 against torchvision's own TF32: the CUDA backend's logits, loss and gradients
// under both batch-norm modes, each within twice the worst relative error from float64 that
// PyTorch's TF32 shows on the same weights and input (scripts/make_reference.py, tf32_spread).
// On a GPU older than compute capability 8.0 the tf32 backend must be refused, clearly.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "gpu_skip.h"
#include "torchvision/stored_tensors.h"
#include "train/verify.h"

namespace r50 {
namespace {

CudaBackendOptions tf32() {
  CudaBackendOptions options;
  options.precision = Precision::Tf32;
  return options;
}

TEST(Tf32, RefusedBelowAmpereAndWithinTwiceTorchvisionsTf32Above) {
  R50_REQUIRE_GPU_OR_SKIP();
  const DeviceInfo info = make_cuda_backend({})->device_info();
  if (info.compute_capability_major < 8) {
    try {
      make_cuda_backend(tf32());
      FAIL() << "tf32 was accepted on compute capability " << info.compute_capability();
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("--precision tf32 needs compute capability 8.0"), std::string::npos)
          << error.what();
    }
    return;
  }
  const std::string dir = reference_dir();
  ASSERT_FALSE(dir.empty()) << "R50_REFERENCE_DIR is not set: ctest sets it after scripts/make_reference.py";
  const std::string spread_path = dir + "/reference_tf32_cuda_spread.safetensors";
  ASSERT_TRUE(std::ifstream(spread_path).good()) << spread_path << " is missing: make_reference.py writes it where "
                                                 << "PyTorch finds a GPU of compute capability 8.0 or newer";
  const std::map<std::string, StoredTensor> spread = read_all(spread_path);
  const auto limit = [&spread](const std::string& key) { return std::max(2 * as_doubles(spread.at(key)).at(0), 1e-6); };

  const std::unique_ptr<Backend> backend = make_cuda_backend(tf32());
  for (const char* mode : {"train", "eval"}) {
    const BatchNormMode bn = std::string(mode) == "train" ? BatchNormMode::BatchStatistics : BatchNormMode::RunningStatistics;
    std::map<std::string, StoredTensor> ours;
    for (auto& [name, tensor] : verify_step(*backend, read_safetensors(dir + "/weights.safetensors"),
                                            read_safetensors(dir + "/input.safetensors"), bn, std::nullopt)) {
      ours[name] = std::move(tensor);
    }
    const std::map<std::string, StoredTensor> f64 = read_all(dir + "/reference_" + std::string(mode) + "_f64.safetensors");
    ErrorSums gradients;
    double closest = 0;
    std::string closest_name;
    for (const auto& [name, truth] : f64) {
      if (name.rfind("state/", 0) == 0) continue;  // the running statistics: batch norm's own, in fp32
      const double error = relative_error(ours.at(name), truth), bound = limit(std::string(mode) + "/" + name);
      EXPECT_LE(error, bound) << mode << " " << name;
      if (error / bound > closest) {
        closest = error / bound;
        closest_name = name;
      }
      if (name.rfind("grad/", 0) == 0) gradients.add(as_doubles(ours.at(name)), as_doubles(truth));
    }
    const double together = limit(std::string(mode) + "/gradients_together");
    std::cout << mode << ": logits " << relative_error(ours.at("logits"), f64.at("logits")) << " (torchvision tf32 worst "
              << as_doubles(spread.at(std::string(mode) + "/logits")).at(0) << "), gradients together "
              << gradients.relative() << " (limit " << together << "); closest to its limit: " << closest_name << " at "
              << closest << " of it\n";
    EXPECT_LE(gradients.relative(), together) << mode;
  }
}

}  // namespace
}  // namespace r50
