// Loading and saving the model's state_dict through safetensors, under torchvision's names.
#include "model/state_dict.h"

#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace r50 {
namespace {

class StateDictTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("state_dict_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
    backend_ = make_cpu_backend(1);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Saves a freshly initialised 10-class model's state_dict after `edit`, then loads it into a
  // new model and returns the error message ("" when it loads).
  template <typename Edit>
  std::string load_error_after(Edit edit) {
    ResNet50 model(*backend_, 10);
    model.initialize(1);
    auto tensors = state_dict(model);
    edit(tensors);
    write_safetensors(path("weights.safetensors"), tensors);
    ResNet50 fresh(*backend_, 10);
    try {
      load_state_dict(fresh, read_safetensors(path("weights.safetensors")));
    } catch (const Error& error) {
      return error.what();
    }
    return "";
  }

  std::filesystem::path dir_;
  std::unique_ptr<Backend> backend_;
};

TEST_F(StateDictTest, RoundTripRestoresEveryTensorAndCounter) {
  ResNet50 model(*backend_, 10);
  model.initialize(5);
  *model.state()[5].counter = 42;  // bn1.num_batches_tracked
  write_safetensors(path("weights.safetensors"), state_dict(model));

  ResNet50 loaded(*backend_, 10);
  loaded.initialize(6);
  load_state_dict(loaded, read_safetensors(path("weights.safetensors")));
  const auto expected = state_dict(model);
  const auto actual = state_dict(loaded);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].first, expected[i].first);
    EXPECT_EQ(actual[i].second.bytes, expected[i].second.bytes) << actual[i].first;
  }
}

// A channels-last model keeps its convolution weights KRSC in memory, but its state_dict is
// torchvision's: the same bytes as a row-major model's, and loading it back restores them.
TEST_F(StateDictTest, AChannelsLastModelSavesAndLoadsTorchvisionsOrder) {
  ResNet50 row_major(*backend_, 10);
  row_major.initialize(5);
  ResNet50 channels_last(*backend_, 10, DType::F32, Layout::ChannelsLast);
  channels_last.initialize(5);
  const auto expected = state_dict(row_major);
  const auto saved = state_dict(channels_last);
  ASSERT_EQ(saved.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(saved[i].second.bytes, expected[i].second.bytes) << expected[i].first;
  }
  write_safetensors(path("weights.safetensors"), expected);
  ResNet50 loaded(*backend_, 10, DType::F32, Layout::ChannelsLast);
  loaded.initialize(6);
  load_state_dict(loaded, read_safetensors(path("weights.safetensors")));
  const auto actual = state_dict(loaded);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].second.bytes, expected[i].second.bytes) << expected[i].first;
  }
}

TEST_F(StateDictTest, BatchCountersAreI64Scalars) {
  ResNet50 model(*backend_, 10);
  for (const auto& [name, tensor] : state_dict(model)) {
    if (name.find("num_batches_tracked") == std::string::npos) continue;
    EXPECT_EQ(tensor.dtype, DType::I64) << name;
    EXPECT_EQ(tensor.shape, Shape{}) << name;
  }
}

TEST_F(StateDictTest, MissingTensorNamesTheFileAndTheTensor) {
  const std::string message = load_error_after([](auto& tensors) { tensors.erase(tensors.begin() + 3); });
  EXPECT_NE(message.find("weights.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("bn1.running_mean"), std::string::npos) << message;
}

TEST_F(StateDictTest, UnknownTensorNamesTheFileAndTheTensor) {
  const std::string message = load_error_after(
      [](auto& tensors) { tensors.emplace_back("layer5.0.conv1.weight", make_stored(DType::F32, {1})); });
  EXPECT_NE(message.find("weights.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("layer5.0.conv1.weight"), std::string::npos) << message;
}

TEST_F(StateDictTest, WrongShapeNamesTheTensorAndBothShapes) {
  const std::string message = load_error_after([](auto& tensors) {
    tensors[0].second = make_stored(DType::F32, {64, 3, 3, 3});  // conv1.weight is [64, 3, 7, 7]
  });
  EXPECT_NE(message.find("conv1.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("[64, 3, 3, 3]"), std::string::npos) << message;
  EXPECT_NE(message.find("[64, 3, 7, 7]"), std::string::npos) << message;
}

TEST_F(StateDictTest, WrongDtypeNamesTheTensor) {
  const std::string message = load_error_after([](auto& tensors) {
    tensors[1].second = make_stored(DType::F64, {64});  // bn1.weight is F32
  });
  EXPECT_NE(message.find("bn1.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("F64"), std::string::npos) << message;
}

TEST_F(StateDictTest, ClassifierOfAnotherClassCountIsRefused) {
  ResNet50 model(*backend_, 1000);
  write_safetensors(path("imagenet.safetensors"), state_dict(model));
  ResNet50 food(*backend_, 101);
  try {
    load_state_dict(food, read_safetensors(path("imagenet.safetensors")));
    FAIL() << "a 1000-class classifier loaded into a 101-class model";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("fc.weight"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace r50
