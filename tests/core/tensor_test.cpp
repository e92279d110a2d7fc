#include "core/tensor.h"

#include <gtest/gtest.h>

namespace r50 {
namespace {

TEST(Shape, CountsElementsAndPrints) {
  const Shape shape{8, 3, 224, 224};
  EXPECT_EQ(shape.rank(), 4);
  EXPECT_EQ(shape.numel(), 8 * 3 * 224 * 224);
  EXPECT_EQ(shape.str(), "[8, 3, 224, 224]");
  EXPECT_EQ(Shape{}.numel(), 1);  // a scalar
}

TEST(Shape, RefusesNegativeDimensions) { EXPECT_THROW(Shape({2, -1}), Error); }

TEST(Tensor, ReadsAsItsOwnDtypeOnly) {
  float data[6] = {};
  const Tensor tensor(data, {2, 3}, DType::F32);
  EXPECT_EQ(tensor.data_as<float>(), data);
  EXPECT_THROW(tensor.data_as<double>(), Error);
}

TEST(Tensor, ReshapeKeepsTheMemoryAndChecksTheCount) {
  float data[6] = {};
  const Tensor tensor(data, {2, 3}, DType::F32);
  EXPECT_EQ(tensor.reshape({3, 2}).data(), data);
  EXPECT_THROW(tensor.reshape({4, 2}), Error);
}

TEST(Tensor, SliceViewsRowsOfTheOutermostDimension) {
  float data[12] = {};
  const Tensor tensor(data, {4, 3}, DType::F32);
  const Tensor rows = tensor.slice(1, 3);
  EXPECT_EQ(rows.shape(), Shape({2, 3}));
  EXPECT_EQ(rows.data(), data + 3);
  EXPECT_THROW(tensor.slice(3, 5), Error);
}

// NHWC keeps images outermost too: a slice of a channels-last batch is whole images.
TEST(Tensor, SliceOfAChannelsLastBatchIsWholeImages) {
  float data[2 * 3 * 2 * 2] = {};
  const Tensor batch(data, {2, 3, 2, 2}, DType::F32, Device::cpu(), Layout::ChannelsLast);
  const Tensor second = batch.slice(1, 2);
  EXPECT_EQ(second.data(), data + 12);
  EXPECT_EQ(second.layout(), Layout::ChannelsLast);
  EXPECT_THROW(batch.reshape({24}), Error);
}

TEST(CheckTensor, NamesALayoutThatDiffers) {
  float data[16] = {};
  const Tensor tensor(data, {1, 4, 2, 2}, DType::F32, Device::cpu(), Layout::ChannelsLast);
  try {
    check_tensor(tensor, "add", "b", DType::F32, {1, 4, 2, 2});
    FAIL() << "a channels-last tensor passed as row-major";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("expected a row-major tensor"), std::string::npos) << error.what();
  }
  EXPECT_NO_THROW(check_tensor(tensor, "add", "b", DType::F32, {1, 4, 2, 2}, Device::cpu(), Layout::ChannelsLast));
}

TEST(CheckTensor, NamesTheOpTheArgumentAndBothShapes) {
  float data[6] = {};
  const Tensor tensor(data, {2, 3}, DType::F32);
  try {
    check_tensor(tensor, "conv2d_forward", "x", DType::F32, {2, 4});
    FAIL() << "no error for a wrong shape";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("conv2d_forward"), std::string::npos) << message;
    EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
    EXPECT_NE(message.find("[2, 4]"), std::string::npos) << message;
    EXPECT_NE(message.find("tensor.cpp:"), std::string::npos) << message;
  }
}

TEST(CheckTensor, RefusesTheWrongDtypeAndDevice) {
  float data[6] = {};
  EXPECT_THROW(check_tensor(Tensor(data, {6}, DType::F32), "op", "x", DType::I32, {6}), Error);
  EXPECT_THROW(check_tensor(Tensor(data, {6}, DType::F32, Device::cuda(0)), "op", "x", DType::F32, {6}),
               Error);
}

}  // namespace
}  // namespace r50
