// bench_layers as a user runs it, on the CPU backend at a tiny size: it measures every distinct
// convolution of the model (counted here from the model's state, resnet50_convolutions.h) in all
// three directions, writes Google Benchmark's JSON with the peaks and every counter, and ends with
// the roofline table.
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "layer_shapes.h"
#include "resnet50_convolutions.h"

namespace r50 {
namespace {

#ifdef R50_BENCH_LAYERS_PROGRAM

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

TEST(BenchLayersProgram, MeasuresEveryDistinctConvolutionOnTheCpuAndWritesTheCounters) {
  const int batch = 2, image_size = 32;
  const std::string json_path = testing::TempDir() + "bench_layers.json";
  const std::string log_path = testing::TempDir() + "bench_layers.log";
  const std::string command = std::string(R50_BENCH_LAYERS_PROGRAM) + " --device cpu --batch-size " +
                              std::to_string(batch) + " --image-size " + std::to_string(image_size) +
                              " --peak-copy-mib 64 --benchmark_min_time=0.01 --benchmark_out=" + json_path +
                              " --benchmark_out_format=json > " + log_path + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command << "\n" << read_text(log_path);
  const std::string log = read_text(log_path);
  EXPECT_NE(log.find("layers furthest below their roofline"), std::string::npos) << log;

  const nlohmann::json results = nlohmann::json::parse(read_text(json_path));
  const nlohmann::json& context = results.at("context");
  EXPECT_GT(std::stod(context.at("peak_tflops").get<std::string>()), 0);
  EXPECT_GT(std::stod(context.at("peak_gb_per_s").get<std::string>()), 0);

  const std::vector<ModelConvolution> model = model_convolutions(batch, image_size);
  std::size_t forward = 0, filter = 0, memory_bound = 0, peaks = 0;
  std::set<std::string> data_shapes;
  for (const nlohmann::json& row : results.at("benchmarks")) {
    const std::string name = row.at("name");
    ASSERT_TRUE(row.contains("fraction_of_peak")) << name;
    EXPECT_GT(row.at("fraction_of_peak").get<double>(), 0) << name;
    const bool convolution = starts_with(name, "conv_");
    forward += starts_with(name, "conv_forward/");
    filter += starts_with(name, "conv_backward_filter/");
    // A backward-data shape may come writing dx, adding into it (_accumulate) or both: count shapes.
    if (starts_with(name, "conv_backward_data/")) {
      const std::string accumulate = "_accumulate";
      const std::size_t at = name.find(accumulate);
      data_shapes.insert(at == std::string::npos ? name : name.substr(0, at) + name.substr(at + accumulate.size()));
    }
    peaks += starts_with(name, "peak/");
    if (starts_with(name, "peak/")) continue;
    EXPECT_NE(name.find("/bs:2/fp32"), std::string::npos) << name;
    EXPECT_GE(row.at("calls_per_step").get<double>(), 1) << name;
    if (convolution) {
      EXPECT_GT(row.at("tflops").get<double>(), 0) << name;
    } else {
      EXPECT_GT(row.at("gb_per_s").get<double>(), 0) << name;
      ++memory_bound;
    }
  }
  EXPECT_EQ(forward, distinct_convolutions(model).size());
  EXPECT_EQ(filter, distinct_convolutions(model).size());
  EXPECT_EQ(data_shapes.size(), distinct_convolutions(model, "conv1.weight").size());
  EXPECT_EQ(context.at("distinct_convolutions").get<std::string>(), std::to_string(forward));
  EXPECT_EQ(peaks, 2u);
  EXPECT_GT(memory_bound, 0u);
}

// Under mixed precision every layer op runs on half-precision tensors, and the matrix peak is a
// half-precision GEMM (the byte counts behind gb_per_s are checked in layer_shapes_test.cpp).
TEST(BenchLayersProgram, MeasuresEveryLayerInHalfPrecision) {
  for (const std::string precision : {"fp16", "bf16"}) {
    const std::string json_path = testing::TempDir() + "bench_layers_" + precision + ".json";
    const std::string log_path = testing::TempDir() + "bench_layers_" + precision + ".log";
    const std::string command = std::string(R50_BENCH_LAYERS_PROGRAM) + " --device cpu --precision " + precision +
                                " --batch-size 2 --image-size 32 --peak-matrix-size 256 --peak-copy-mib 16"
                                " --benchmark_min_time=0.001 --benchmark_out=" + json_path +
                                " --benchmark_out_format=json > " + log_path + " 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command << "\n" << read_text(log_path);
    const nlohmann::json results = nlohmann::json::parse(read_text(json_path));
    std::size_t layers = 0, gemm_peaks = 0;
    for (const nlohmann::json& row : results.at("benchmarks")) {
      const std::string name = row.at("name");
      EXPECT_FALSE(row.value("error_occurred", false)) << name << ": " << row.value("error_message", "");
      gemm_peaks += starts_with(name, "peak/hgemm_256/" + precision);
      if (starts_with(name, "peak/")) continue;
      EXPECT_NE(name.find("/bs:2/" + precision), std::string::npos) << name;
      EXPECT_GT(row.at("fraction_of_peak").get<double>(), 0) << name;
      ++layers;
    }
    EXPECT_EQ(gemm_peaks, 1u) << precision;
    EXPECT_EQ(layers, training_step_layers(2, 32).size()) << precision;
  }
}

// --channels-last: every layer op on NHWC tensors, named so, and recorded in the context.
TEST(BenchLayersProgram, MeasuresEveryLayerChannelsLast) {
  const std::string json_path = testing::TempDir() + "bench_layers_channels_last.json";
  const std::string log_path = testing::TempDir() + "bench_layers_channels_last.log";
  const std::string command = std::string(R50_BENCH_LAYERS_PROGRAM) +
                              " --device cpu --channels-last --batch-size 2 --image-size 32 --peak-matrix-size 256"
                              " --peak-copy-mib 16 --benchmark_min_time=0.001 --benchmark_out=" + json_path +
                              " --benchmark_out_format=json > " + log_path + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command << "\n" << read_text(log_path);
  const nlohmann::json results = nlohmann::json::parse(read_text(json_path));
  EXPECT_EQ(results.at("context").at("channels_last").get<std::string>(), "true");
  std::size_t layers = 0;
  for (const nlohmann::json& row : results.at("benchmarks")) {
    const std::string name = row.at("name");
    EXPECT_FALSE(row.value("error_occurred", false)) << name << ": " << row.value("error_message", "");
    if (starts_with(name, "peak/")) continue;
    EXPECT_NE(name.find("/bs:2/fp32/channels_last"), std::string::npos) << name;
    ++layers;
  }
  EXPECT_EQ(layers, training_step_layers(2, 32).size());
}

#else

TEST(BenchLayersProgram, MeasuresEveryDistinctConvolutionOnTheCpuAndWritesTheCounters) {
  GTEST_SKIP() << "bench_layers is not built";
}

TEST(BenchLayersProgram, MeasuresEveryLayerInHalfPrecision) { GTEST_SKIP() << "bench_layers is not built"; }

TEST(BenchLayersProgram, MeasuresEveryLayerChannelsLast) { GTEST_SKIP() << "bench_layers is not built"; }

#endif

}  // namespace
}  // namespace r50
