// defines: expect_within_spread
// The check the reduced-precision comparisons with torchvision share (tf32_test.cpp,
// mixed_precision_test.cpp): our logits, loss and gradients under both batch-norm modes against
// float64, each within `factor` times the worst relative error that torchvision's own run in that
// precision shows on the same weights and input (a spread file of scripts/make_reference.py).
#pragma once

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "torchvision/stored_tensors.h"
#include "train/verify.h"

namespace r50 {

// `label` names torchvision's run in the printed summary ("tf32", "bf16 autocast"). `layout` is
// the model's (ChannelsLast: NHWC activations and convolution weights, as PyTorch's channels_last);
// the references are the same either way.
inline void expect_within_spread(Backend& backend, DType compute_dtype, const std::string& spread_file, double factor,
                                 const std::string& label, Layout layout = Layout::RowMajor) {
  const std::string dir = reference_dir();
  ASSERT_FALSE(dir.empty()) << "R50_REFERENCE_DIR is not set: ctest sets it after scripts/make_reference.py";
  const std::string spread_path = dir + "/" + spread_file;
  ASSERT_TRUE(std::ifstream(spread_path).good()) << spread_path << " is missing: make_reference.py writes it "
                                                 << "where PyTorch can run that precision";
  const std::map<std::string, StoredTensor> spread = read_all(spread_path);
  const auto limit = [&](const std::string& key) { return std::max(factor * as_doubles(spread.at(key)).at(0), 1e-6); };

  for (const char* mode : {"train", "eval"}) {
    const BatchNormMode bn = std::string(mode) == "train" ? BatchNormMode::BatchStatistics : BatchNormMode::RunningStatistics;
    std::map<std::string, StoredTensor> ours;
    for (auto& [name, tensor] : verify_step(backend, read_safetensors(dir + "/weights.safetensors"),
                                            read_safetensors(dir + "/input.safetensors"), bn, std::nullopt,
                                            compute_dtype, layout)) {
      ours[name] = std::move(tensor);
    }
    const std::map<std::string, StoredTensor> f64 = read_all(dir + "/reference_" + std::string(mode) + "_f64.safetensors");
    ErrorSums gradients;
    double closest = 0;
    std::string closest_name;
    for (const auto& [name, truth] : f64) {
      if (name.rfind("state/", 0) == 0) continue;  // the running statistics: batch norm's own, in fp32
      const double error = relative_error(ours.at(name), truth), bound = limit(std::string(mode) + "/" + name);
      EXPECT_LE(error, bound) << dtype_name(compute_dtype) << " " << layout_name(layout) << " " << mode << " " << name;
      if (error / bound > closest) {
        closest = error / bound;
        closest_name = name;
      }
      if (name.rfind("grad/", 0) == 0) gradients.add(as_doubles(ours.at(name)), as_doubles(truth));
    }
    const double together = limit(std::string(mode) + "/gradients_together");
    std::cout << dtype_name(compute_dtype) << " " << layout_name(layout) << " " << mode << ": logits "
              << relative_error(ours.at("logits"), f64.at("logits")) << " (torchvision " << label << " worst "
              << as_doubles(spread.at(std::string(mode) + "/logits")).at(0) << "), gradients together "
              << gradients.relative() << " (limit " << together << "); closest to its limit: " << closest_name
              << " at " << closest << " of it\n";
    EXPECT_LE(gradients.relative(), together) << dtype_name(compute_dtype) << " " << layout_name(layout) << " " << mode;
  }
}

}  // namespace r50
