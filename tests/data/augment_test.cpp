#include "data/augment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "data/jpeg_fixtures.h"

namespace r50 {
namespace {

using testing::smooth_image;

Image constant_image(int width, int height, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  Image image{width, height, {}};
  for (int i = 0; i < width * height; ++i) image.pixels.insert(image.pixels.end(), {r, g, b});
  return image;
}

const std::uint8_t* pixel(const std::vector<std::uint8_t>& rgb, int width, int x, int y) {
  return &rgb[(static_cast<std::size_t>(y) * width + x) * 3];
}

// A box of get_params comes from a target area t·A, t in [0.08, 1], and an aspect a in [3/4, 4/3],
// with w = round(√(t·A·a)) and h = round(√(t·A/a)): so some u = √(t·A·a) within half a pixel of w
// and v = √(t·A/a) within half a pixel of h have u·v in [0.08·A, A] and u/v in [3/4, 4/3].
void expect_drawn_box(const CropBox& box, int width, int height) {
  ASSERT_GT(box.width, 0);
  ASSERT_GT(box.height, 0);
  ASSERT_GE(box.x, 0);
  ASSERT_GE(box.y, 0);
  ASSERT_LE(box.x + box.width, width);
  ASSERT_LE(box.y + box.height, height);
  const double area = static_cast<double>(width) * height;
  const double w = box.width, h = box.height;
  EXPECT_GE((w + 0.5) * (h + 0.5), 0.08 * area);
  EXPECT_LE((w - 0.5) * (h - 0.5), area);
  EXPECT_GE((w + 0.5) / (h - 0.5), 3.0 / 4.0);
  EXPECT_LE((w - 0.5) / (h + 0.5), 4.0 / 3.0);
}

TEST(RandomResizedCrop, DrawnBoxesLieInsideWithAreaAndRatioInRange) {
  double smallest = 1.0, largest = 0.0;
  for (std::uint64_t index = 0; index < 2000; ++index) {
    Rng rng = Rng::keyed(3, 0, index);
    const CropBox box = random_resized_crop_box(512, 384, rng);
    expect_drawn_box(box, 512, 384);
    const double share = double(box.width) * box.height / (512.0 * 384.0);
    smallest = std::min(smallest, share);
    largest = std::max(largest, share);
  }
  // The draws cover the range, not one corner of it.
  EXPECT_LT(smallest, 0.1);
  EXPECT_GT(largest, 0.8);
}

// Tiny images round many draws to boxes that do not fit; what is returned still lies inside, and
// is either a drawn box or the whole image (ratio within range here, so no cut).
TEST(RandomResizedCrop, TinyImagesGiveBoxesInside) {
  for (const auto& [width, height] : {std::pair{1, 1}, {2, 3}, {3, 2}, {5, 5}}) {
    for (std::uint64_t index = 0; index < 500; ++index) {
      Rng rng = Rng::keyed(1, 2, index);
      const CropBox box = random_resized_crop_box(width, height, rng);
      const bool whole = box.x == 0 && box.y == 0 && box.width == width && box.height == height;
      if (!whole) expect_drawn_box(box, width, height);
    }
  }
}

// 1000 x 10: even the smallest draw, 0.08 · 10,000 pixels at ratio 4/3, is √(800 · 3/4) ≈ 24.5
// rows tall, so all ten attempts fail and the fallback keeps the full height at ratio 4/3:
// width round(10 · 4/3) = 13, centred at (1000 − 13) / 2 = 493. Transposed for the tall image.
TEST(RandomResizedCrop, VeryElongatedImagesTakeTheCentredFallback) {
  for (std::uint64_t index = 0; index < 100; ++index) {
    Rng wide_rng = Rng::keyed(5, 0, index);
    const CropBox wide = random_resized_crop_box(1000, 10, wide_rng);
    EXPECT_EQ(wide.x, 493);
    EXPECT_EQ(wide.y, 0);
    EXPECT_EQ(wide.width, 13);
    EXPECT_EQ(wide.height, 10);
    Rng tall_rng = Rng::keyed(5, 0, index);
    const CropBox tall = random_resized_crop_box(10, 1000, tall_rng);
    EXPECT_EQ(tall.x, 0);
    EXPECT_EQ(tall.y, 493);
    EXPECT_EQ(tall.width, 10);
    EXPECT_EQ(tall.height, 13);
  }
}

TEST(ResizeCrop, WritesExactlyTheOutputSize) {
  const Image source = smooth_image(50, 40);
  const std::size_t bytes = 17 * 23 * 3;
  std::vector<std::uint8_t> out(bytes + 64, 0xAB);
  std::fill(out.begin(), out.begin() + bytes, 0xCD);
  resize_crop(source, CropBox{5, 3, 31, 29}, 17, 23, out.data());
  EXPECT_TRUE(std::all_of(out.begin() + bytes, out.end(), [](std::uint8_t v) { return v == 0xAB; }));
  EXPECT_FALSE(std::all_of(out.begin(), out.begin() + bytes, [](std::uint8_t v) { return v == 0xCD; }));
}

TEST(ResizeCrop, ConstantImageStaysThatConstant) {
  const Image source = constant_image(37, 29, 200, 17, 90);
  for (const auto& [w, h] : {std::pair{11, 7}, {64, 80}, {37, 5}}) {
    std::vector<std::uint8_t> out(std::size_t{3} * w * h);
    resize_crop(source, CropBox{2, 1, 33, 27}, w, h, out.data());
    for (int i = 0; i < w * h; ++i) {
      ASSERT_EQ(out[3 * i], 200);
      ASSERT_EQ(out[3 * i + 1], 17);
      ASSERT_EQ(out[3 * i + 2], 90);
    }
  }
}

TEST(ResizeCrop, BoxOfTheOutputSizeIsCopied) {
  const Image source = smooth_image(40, 30);
  const CropBox box{7, 4, 19, 13};
  std::vector<std::uint8_t> out(std::size_t{3} * box.width * box.height);
  resize_crop(source, box, box.width, box.height, out.data());
  for (int y = 0; y < box.height; ++y) {
    for (int x = 0; x < box.width; ++x) {
      ASSERT_TRUE(std::equal(pixel(out, box.width, x, y), pixel(out, box.width, x, y) + 3,
                             pixel(source.pixels, source.width, box.x + x, box.y + y)));
    }
  }
}

// A checkerboard of 2 x 2 blocks shrunk by 2. Plain bilinear sampling would read the two pixels
// of one block and return pure black and white (aliasing). PIL's filter, widened to the scale,
// weighs the four source pixels around each output 1/8, 3/8, 3/8, 1/8: three quarters from the
// output's own block, one quarter from its neighbours, which have the other colour. Each pass
// rounds to 8 bits.
TEST(ResizeCrop, HalvingACheckerboardAveragesInsteadOfAliasing) {
  const int n = 32;
  Image board{n, n, {}};
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      const std::uint8_t v = (x / 2 + y / 2) % 2 ? 255 : 0;
      board.pixels.insert(board.pixels.end(), {v, v, v});
    }
  }
  std::vector<std::uint8_t> out(std::size_t{3} * (n / 2) * (n / 2));
  resize_crop(board, CropBox{0, 0, n, n}, n / 2, n / 2, out.data());
  auto blend = [](double own) { return std::lround(0.75 * own + 0.25 * (255 - own)); };
  for (int y = 1; y < n / 2 - 1; ++y) {  // the border rows and columns see a clipped filter
    for (int x = 1; x < n / 2 - 1; ++x) {
      const double own = (x + y) % 2 ? 255 : 0;
      ASSERT_EQ(pixel(out, n / 2, x, y)[0], blend(double(blend(own)))) << x << ", " << y;
    }
  }
}

TEST(FlipHorizontal, PixelXGoesToWidthMinusOneMinusX) {
  for (int width : {4, 5}) {
    const Image source = smooth_image(width, 3);
    std::vector<std::uint8_t> flipped = source.pixels;
    flip_horizontal(flipped.data(), width, 3);
    for (int y = 0; y < 3; ++y) {
      for (int x = 0; x < width; ++x) {
        ASSERT_TRUE(std::equal(pixel(source.pixels, width, x, y), pixel(source.pixels, width, x, y) + 3,
                               pixel(flipped, width, width - 1 - x, y)));
      }
    }
  }
}

TEST(AugmentTrain, IsTheKeyedCropResizedThenFlippedOnAHalfDraw) {
  const Image source = smooth_image(120, 90);
  int flips = 0;
  for (std::uint64_t index = 0; index < 40; ++index) {
    std::vector<std::uint8_t> expected(32 * 32 * 3), out(32 * 32 * 3);
    Rng rng = Rng::keyed(9, 4, index);
    resize_crop(source, random_resized_crop_box(120, 90, rng), 32, 32, expected.data());
    if (rng.uniform() < 0.5) {
      flip_horizontal(expected.data(), 32, 32);
      ++flips;
    }
    augment_train(source, 32, 9, 4, index, out.data());
    ASSERT_EQ(out, expected) << "index " << index;
  }
  EXPECT_GT(flips, 0);
  EXPECT_LT(flips, 40);
}

TEST(AugmentTrain, SameKeyGivesTheSameImageAndOtherKeysOthers) {
  const Image source = smooth_image(120, 90);
  auto augmented = [&](std::uint64_t seed, std::uint64_t epoch, std::uint64_t index) {
    std::vector<std::uint8_t> out(48 * 48 * 3);
    augment_train(source, 48, seed, epoch, index, out.data());
    return out;
  };
  const std::vector<std::uint8_t> first = augmented(1, 2, 3);
  EXPECT_EQ(augmented(1, 2, 3), first);
  EXPECT_NE(augmented(1, 2, 4), first);
  EXPECT_NE(augmented(1, 3, 3), first);
  EXPECT_NE(augmented(2, 2, 3), first);
}

// 320 x 240 to 224: the shorter side becomes 256, the longer int(256 · 320 / 240) = 341; the crop
// starts at round((341 − 224) / 2) = round(58.5) = 58 (Python rounds halves to even) and
// round((256 − 224) / 2) = 16. Transposed for the portrait image.
TEST(AugmentEval, IsTheCentreCropOfTheShorterSideResizedTo256) {
  for (const bool portrait : {false, true}) {
    const Image source = portrait ? smooth_image(240, 320) : smooth_image(320, 240);
    const int resized_width = portrait ? 256 : 341, resized_height = portrait ? 341 : 256;
    const int left = portrait ? 16 : 58, top = portrait ? 58 : 16;
    std::vector<std::uint8_t> resized(std::size_t{3} * resized_width * resized_height);
    resize_crop(source, CropBox{0, 0, source.width, source.height}, resized_width, resized_height,
                resized.data());
    std::vector<std::uint8_t> out(224 * 224 * 3);
    augment_eval(source, 224, out.data());
    for (int y = 0; y < 224; ++y) {
      ASSERT_TRUE(std::equal(pixel(out, 224, 0, y), pixel(out, 224, 0, y) + 224 * 3,
                             pixel(resized, resized_width, left, top + y)))
          << (portrait ? "portrait" : "landscape") << ", row " << y;
    }
  }
}

}  // namespace
}  // namespace r50
