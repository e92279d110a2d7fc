// resnet50_verify's answers to bad input: a clear error naming the file and the tensor; and its
// channels-last runs.
#include "train/verify.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "model/state_dict.h"

namespace r50 {
namespace {

constexpr int kClasses = 10;

template <typename T>
StoredTensor stored_values(DType dtype, const Shape& shape, const std::vector<T>& values) {
  StoredTensor tensor = make_stored(dtype, shape);
  std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}

// Each test process writes its own 10-class weights file once (ctest runs tests in parallel
// processes, so the folder is per process). It is made in SetUp, not SetUpTestSuite, so that a
// failure to make it fails the test instead of skipping it.
class VerifyInput : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_THROW(weights_path()); }

  static const std::filesystem::path& dir() {
    static const std::filesystem::path dir = [] {
      const auto path = std::filesystem::path(::testing::TempDir()) /
                        ("verify_input_" + std::to_string(::getpid()));
      std::filesystem::create_directories(path);
      return path;
    }();
    return dir;
  }
  static std::string path(const std::string& name) { return (dir() / name).string(); }
  static const std::string& weights_path() {
    static const std::string weights = [] {
      auto backend = make_cpu_backend(1);
      ResNet50 model(*backend, kClasses);
      model.initialize(0);
      write_safetensors(path("weights.safetensors"), state_dict(model));
      return path("weights.safetensors");
    }();
    return weights;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir()); }

  static NamedTensors good_input() {
    NamedTensors input;
    input.emplace_back("images", make_stored(DType::F32, {2, 3, 32, 32}));
    input.emplace_back("labels", stored_values<std::int64_t>(DType::I64, {2}, {1, 9}));
    return input;
  }

  // Writes `input` and runs verify_step on it; returns the error message, "" when none.
  static std::string error_for(const NamedTensors& input) {
    write_safetensors(path("input.safetensors"), input);
    auto backend = make_cpu_backend(1);
    try {
      verify_step(*backend, read_safetensors(weights_path()),
                  read_safetensors(path("input.safetensors")), BatchNormMode::BatchStatistics, std::nullopt);
    } catch (const Error& error) {
      return error.what();
    }
    return "";
  }
};

#define EXPECT_MENTIONS(message, text) EXPECT_NE((message).find(text), std::string::npos) << (message)

TEST_F(VerifyInput, GoodInputRunsAndNamesEveryResult) {
  write_safetensors(path("input.safetensors"), good_input());
  auto backend = make_cpu_backend(1);
  const NamedTensors results =
      verify_step(*backend, read_safetensors(weights_path()),
                  read_safetensors(path("input.safetensors")), BatchNormMode::BatchStatistics, std::nullopt);
  // logits, loss, 161 gradients, 53 × 3 batch-norm buffers.
  EXPECT_EQ(results.size(), 2u + 161u + 159u);
  EXPECT_EQ(results[0].first, "logits");
  EXPECT_EQ(results[0].second.shape, Shape({2, kClasses}));
  EXPECT_EQ(results[1].first, "loss");
  EXPECT_EQ(results[1].second.shape, Shape({1}));
}

TEST_F(VerifyInput, Int32LabelsAreAccepted) {
  NamedTensors input = good_input();
  input[1].second = stored_values<std::int32_t>(DType::I32, {2}, {0, 5});
  EXPECT_EQ(error_for(input), "");
}

TEST_F(VerifyInput, LabelOutOfRangeNamesTheTensorTheIndexAndTheValue) {
  NamedTensors input = good_input();
  input[1].second = stored_values<std::int64_t>(DType::I64, {2}, {3, kClasses});
  const std::string message = error_for(input);
  EXPECT_MENTIONS(message, "input.safetensors");
  EXPECT_MENTIONS(message, "'labels'");
  EXPECT_MENTIONS(message, "index 1");
  EXPECT_MENTIONS(message, "10");
}

TEST_F(VerifyInput, NegativeLabelIsRefused) {
  NamedTensors input = good_input();
  input[1].second = stored_values<std::int64_t>(DType::I64, {2}, {-1, 0});
  EXPECT_MENTIONS(error_for(input), "'labels'");
}

TEST_F(VerifyInput, FloatLabelsAreRefused) {
  NamedTensors input = good_input();
  input[1].second = make_stored(DType::F32, {2});
  const std::string message = error_for(input);
  EXPECT_MENTIONS(message, "'labels'");
  EXPECT_MENTIONS(message, "F32");
}

TEST_F(VerifyInput, LabelCountMustMatchTheImages) {
  NamedTensors input = good_input();
  input[1].second = stored_values<std::int64_t>(DType::I64, {3}, {0, 1, 2});
  EXPECT_MENTIONS(error_for(input), "'labels'");
}

TEST_F(VerifyInput, ImagesMustBeNx3xHxW) {
  NamedTensors input = good_input();
  input[0].second = make_stored(DType::F32, {2, 4, 32, 32});
  const std::string message = error_for(input);
  EXPECT_MENTIONS(message, "'images'");
  EXPECT_MENTIONS(message, "[2, 4, 32, 32]");
}

TEST_F(VerifyInput, MissingLabelsNamesTheFileAndTheTensor) {
  NamedTensors input = good_input();
  input.pop_back();
  const std::string message = error_for(input);
  EXPECT_MENTIONS(message, "input.safetensors");
  EXPECT_MENTIONS(message, "labels");
}

TEST_F(VerifyInput, UnknownTensorIsRefused) {
  NamedTensors input = good_input();
  input.emplace_back("weights", make_stored(DType::F32, {1}));
  EXPECT_MENTIONS(error_for(input), "'weights'");
}

TEST_F(VerifyInput, ClassCountThatContradictsTheWeightsNamesFcWeight) {
  write_safetensors(path("input.safetensors"), good_input());
  auto backend = make_cpu_backend(1);
  try {
    verify_step(*backend, read_safetensors(weights_path()), read_safetensors(path("input.safetensors")),
                BatchNormMode::BatchStatistics, 101);
    FAIL() << "101 classes accepted for a 10-class classifier";
  } catch (const Error& error) {
    EXPECT_MENTIONS(std::string(error.what()), "fc.weight");
  }
}

TEST_F(VerifyInput, TruncatedWeightsFileNamesTheFile) {
  const std::string truncated = path("truncated.safetensors");
  std::filesystem::copy_file(weights_path(), truncated,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) / 2);
  try {
    read_safetensors(truncated);
    FAIL() << "a truncated file was read";
  } catch (const Error& error) {
    EXPECT_MENTIONS(std::string(error.what()), "truncated.safetensors");
  }
}

// The CPU backend runs a channels-last model as it runs a row-major one, value for value, and
// verify_step reads and writes NCHW either way: every result equal, bit for bit, in fp32 and in
// bf16 mixed precision. (On a GPU the two layouts take different cuDNN engines and kernels; there
// each is checked against torchvision: tests/torchvision.)
TEST_F(VerifyInput, ChannelsLastGivesTheRowMajorResultsBitForBit) {
  Rng rng(7);
  std::vector<float> images(2 * 3 * 32 * 32);
  for (float& value : images) value = static_cast<float>(rng.uniform(-2.0, 2.0));
  NamedTensors input = good_input();
  input[0].second = stored_values<float>(DType::F32, {2, 3, 32, 32}, images);
  write_safetensors(path("input.safetensors"), input);
  auto backend = make_cpu_backend(1);
  for (const DType dtype : {DType::F32, DType::BF16}) {
    const auto run = [&](Layout layout) {
      return verify_step(*backend, read_safetensors(weights_path()), read_safetensors(path("input.safetensors")),
                         BatchNormMode::BatchStatistics, std::nullopt, dtype, layout);
    };
    const NamedTensors row_major = run(Layout::RowMajor), channels_last = run(Layout::ChannelsLast);
    ASSERT_EQ(channels_last.size(), row_major.size());
    for (std::size_t i = 0; i < row_major.size(); ++i) {
      ASSERT_EQ(channels_last[i].first, row_major[i].first);
      EXPECT_EQ(channels_last[i].second.shape, row_major[i].second.shape) << row_major[i].first;
      EXPECT_TRUE(channels_last[i].second.bytes == row_major[i].second.bytes)
          << dtype_name(dtype) << " " << row_major[i].first << " differs";
    }
  }
}

}  // namespace
}  // namespace r50
