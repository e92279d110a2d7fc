#include "report/run_context.h"

#include <map>

#include <gtest/gtest.h>

namespace r50 {
namespace {

std::map<std::string, std::string> as_map(const std::vector<ContextEntry>& entries) {
  return {entries.begin(), entries.end()};
}

DeviceInfo a_gpu() {
  DeviceInfo info;
  info.name = "NVIDIA GeForce GTX 1660";
  info.multiprocessors = 22;
  info.compute_capability_major = 7;
  info.compute_capability_minor = 5;
  info.memory_bytes = 6'442'450'944;
  info.driver_version = 12040;
  info.runtime_version = 12020;
  info.cudnn_compiled_version = 90100;
  info.cudnn_loaded_version = 91300;
  info.cublas_compiled_version = 120201;
  info.cublas_loaded_version = 120405;
  return info;
}

const RunSettings kSettings{"cuda:0", "fp32", 64, 224, "food101"};
const BuildInfo kBuild{"1a2b3c4", "Release"};

// Every key DESIGN.md's "Results JSON" names, except "date", which Google Benchmark writes.
TEST(RunContext, HoldsEveryKeyTheResultsJsonNames) {
  const auto context = as_map(run_context(a_gpu(), kSettings, kBuild, "AMD EPYC", 16));
  for (const char* key : {"gpu_name", "gpu_sm_count", "gpu_compute_capability", "gpu_memory_bytes", "gpu_clocks",
                          "driver_version", "cuda_runtime_version", "cudnn_version", "cublas_version", "cpu_model",
                          "cpu_cores", "device", "precision", "batch_size", "image_size", "dataset", "git_commit",
                          "build_type"}) {
    EXPECT_EQ(context.count(key), 1u) << key;
  }
  EXPECT_EQ(context.count("date"), 0u);
}

TEST(RunContext, DescribesTheGpuFromItsDeviceInfo) {
  const auto context = as_map(run_context(a_gpu(), kSettings, kBuild, "AMD EPYC", 16));
  EXPECT_EQ(context.at("gpu_name"), "NVIDIA GeForce GTX 1660");
  EXPECT_EQ(context.at("gpu_sm_count"), "22");
  EXPECT_EQ(context.at("gpu_compute_capability"), "7.5");
  EXPECT_EQ(context.at("gpu_memory_bytes"), "6442450944");
  EXPECT_EQ(context.at("gpu_clocks"), "unknown");  // no NVML figures in a_gpu()
  EXPECT_EQ(context.at("gpu_power_limit_watts"), "unknown");
  EXPECT_EQ(context.at("nvidia_driver_version"), "unknown");
  EXPECT_EQ(context.at("driver_version"), "12.4");
  EXPECT_EQ(context.at("cuda_runtime_version"), "12.2");
  EXPECT_EQ(context.at("cudnn_version"), "9.13.0");
  EXPECT_EQ(context.at("cudnn_compiled_version"), "9.1.0");
  EXPECT_EQ(context.at("cublas_version"), "12.4.5");
  EXPECT_EQ(context.at("cublas_compiled_version"), "12.2.1");
}

TEST(RunContext, GivesNvmlsClocksPowerLimitAndDriverWhereItAnswered) {
  DeviceInfo gpu = a_gpu();
  gpu.max_sm_clock_mhz = 1785;
  gpu.max_memory_clock_mhz = 4001;
  gpu.power_limit_watts = 119.6;
  gpu.driver_release = "580.95.05";
  const auto context = as_map(run_context(gpu, kSettings, kBuild, "AMD EPYC", 16));
  EXPECT_EQ(context.at("gpu_clocks"), "max SM 1785 MHz, max memory 4001 MHz");
  EXPECT_EQ(context.at("gpu_power_limit_watts"), "120");
  EXPECT_EQ(context.at("nvidia_driver_version"), "580.95.05");
}

TEST(RunContext, NamesTheRunAndTheBuild) {
  const auto context = as_map(run_context(a_gpu(), kSettings, kBuild, "AMD EPYC 7R13", 16));
  EXPECT_EQ(context.at("cpu_model"), "AMD EPYC 7R13");
  EXPECT_EQ(context.at("cpu_cores"), "16");
  EXPECT_EQ(context.at("device"), "cuda:0");
  EXPECT_EQ(context.at("precision"), "fp32");
  EXPECT_EQ(context.at("batch_size"), "64");
  EXPECT_EQ(context.at("image_size"), "224");
  EXPECT_EQ(context.at("dataset"), "food101");
  EXPECT_EQ(context.at("git_commit"), "1a2b3c4");
  EXPECT_EQ(context.at("build_type"), "Release");
}

// The CPU backend's DeviceInfo names the processor; the GPU keys say there is none.
TEST(RunContext, SaysNoneForTheGpuKeysOnTheCpu) {
  DeviceInfo cpu;
  cpu.name = "AMD EPYC";
  cpu.multiprocessors = 2;
  const auto context =
      as_map(run_context(cpu, RunSettings{"cpu", "fp32", 8, 224, "synthetic"}, kBuild, "AMD EPYC", 2));
  for (const char* key : {"gpu_name", "gpu_sm_count", "gpu_compute_capability", "gpu_memory_bytes", "gpu_clocks",
                          "driver_version", "cuda_runtime_version", "cudnn_version", "cublas_version"}) {
    EXPECT_EQ(context.at(key), "none") << key;
  }
  EXPECT_EQ(context.at("device"), "cpu");
  EXPECT_EQ(context.at("cpu_model"), "AMD EPYC");
}

// The encodings: CUDA major·1000 + minor·10; cuDNN 8 major·1000 + minor·100 + patch, cuDNN 9
// major·10000 + minor·100 + patch; cuBLAS major·10000 + minor·100 + patch.
TEST(FormatVersions, DecodeEachLibrarysEncoding) {
  EXPECT_EQ(format_cuda_version(13000), "13.0");
  EXPECT_EQ(format_cuda_version(11080), "11.8");
  EXPECT_EQ(format_cudnn_version(8907), "8.9.7");
  EXPECT_EQ(format_cudnn_version(91400), "9.14.0");
  EXPECT_EQ(format_cublas_version(130100), "13.1.0");
  EXPECT_EQ(format_cuda_version(0), "unknown");
  EXPECT_EQ(format_cudnn_version(0), "unknown");
  EXPECT_EQ(format_cublas_version(0), "unknown");
}

// /proc/cpuinfo without a model name (some ARM kernels) gives "", which the context spells out.
TEST(RunContext, CallsAnUnnamedProcessorUnknown) {
  DeviceInfo cpu;
  const auto context = as_map(run_context(cpu, RunSettings{"cpu", "fp32", 8, 224, "synthetic"}, kBuild, "", 2));
  EXPECT_EQ(context.at("cpu_model"), "unknown");
}

}  // namespace
}  // namespace r50
