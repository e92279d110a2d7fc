// Decoding a region of an image: byte for byte the whole decode cropped, for every chroma
// subsampling and every place of the region, and the training crop made from it byte for byte
// augment_train of the whole image.
#include <cstdio>  // before jpeglib.h, which uses FILE without including it

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/augment.h"
#include "data/decode.h"
#include "data/jpeg_fixtures.h"

#ifdef R50_WITH_JPEGLIB
#include <jpeglib.h>
#endif

namespace r50 {
namespace {

using testing::encode_jpeg;
using testing::encode_png;

// matplotlib's sample photograph, the one make_food101_fixture crops its images from; the tests
// that use it skip where python-matplotlib-data is not installed.
constexpr const char* kPhoto = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg";

// Smooth gradients under noise: the noise makes every chroma sample differ from its neighbours,
// so that a region upsampled with the wrong neighbour shows.
Image noisy_image(int width, int height, std::uint64_t seed) {
  Image image = testing::smooth_image(width, height);
  Rng rng(seed);
  for (std::uint8_t& value : image.pixels) {
    value = static_cast<std::uint8_t>(std::clamp<int>(value + static_cast<int>(rng.below(61)) - 30, 0, 255));
  }
  return image;
}

// How a test JPEG is written.
struct JpegFormat {
  const char* name;
  int luma_h, luma_v;  // the luma's sampling factors (chroma's are 1): 2, 2 is 4:2:0
  bool grayscale;      // one component
  bool progressive;
};

const JpegFormat kFormats[] = {
    {"4:2:0", 2, 2, false, false}, {"4:2:2", 2, 1, false, false}, {"4:4:0", 1, 2, false, false},
    {"4:4:4", 1, 1, false, false}, {"grayscale", 1, 1, true, false}, {"4:2:0 progressive", 2, 2, false, true},
};

#ifdef R50_WITH_JPEGLIB
// libjpeg's own compressor, which (unlike stb_image_write) writes any sampling factors, a single
// component and progressive scans.
std::vector<std::uint8_t> encode_with_libjpeg(const Image& image, const JpegFormat& format, int quality) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr error{};
  cinfo.err = jpeg_std_error(&error);  // errors exit: a test image that cannot be written is a bug
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  if (format.grayscale) jpeg_set_colorspace(&cinfo, JCS_GRAYSCALE);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.comp_info[0].h_samp_factor = format.luma_h;
  cinfo.comp_info[0].v_samp_factor = format.luma_v;
  if (format.progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    auto* row = const_cast<JSAMPLE*>(&image.pixels[std::size_t{3} * image.width * cinfo.next_scanline]);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<std::uint8_t> jpeg(buffer, buffer + size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return jpeg;
}
#endif

// The test images of every format: the formats libjpeg can write where it is built in, else the
// 4:2:0 and 4:4:4 that stb_image_write writes (below and above quality 90).
struct TestJpeg {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

std::vector<TestJpeg> jpegs_of(const Image& image, const std::string& what) {
  std::vector<TestJpeg> jpegs;
#ifdef R50_WITH_JPEGLIB
  for (const JpegFormat& format : kFormats) {
    jpegs.push_back({what + ", " + format.name, encode_with_libjpeg(image, format, 85)});
  }
#else
  jpegs.push_back({what + ", 4:2:0 (stb_image_write)", encode_jpeg(image, 85)});
  jpegs.push_back({what + ", 4:4:4 (stb_image_write)", encode_jpeg(image, 95)});
#endif
  return jpegs;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  if (FILE* file = std::fopen(path.c_str(), "rb")) {
    int c;
    while ((c = std::fgetc(file)) != EOF) bytes.push_back(static_cast<std::uint8_t>(c));
    std::fclose(file);
  }
  return bytes;
}

Image crop(const Image& image, const CropBox& box) {
  Image out;
  out.width = box.width;
  out.height = box.height;
  for (int y = box.y; y < box.y + box.height; ++y) {
    const auto row = image.pixels.begin() + (static_cast<std::ptrdiff_t>(y) * image.width + box.x) * 3;
    out.pixels.insert(out.pixels.end(), row, row + std::ptrdiff_t{3} * box.width);
  }
  return out;
}

// Regions touching each border and each corner, the whole image, single pixels and rows, then
// random ones of every size.
std::vector<CropBox> regions_of(int width, int height, int random_count, std::uint64_t seed) {
  std::vector<CropBox> regions = {
      {0, 0, width, height},          {0, 0, 1, 1},
      {width - 1, height - 1, 1, 1},  {0, height - 1, width, 1},
      {width - 1, 0, 1, height},      {0, 0, width / 2, height / 3},
      {width / 3, 0, width / 3, 17},  {width - 40, height - 30, 40, 30},
      {0, height / 2, 9, height / 2}, {width / 2, height / 2, width - width / 2, height - height / 2},
      {17, 19, 33, 35},               {16, 16, 32, 32},
      {15, 15, 2, 2},                 {7, 9, width - 14, height - 18},
  };
  Rng rng(seed);
  for (int i = 0; i < random_count; ++i) {
    CropBox box;
    box.width = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(width)));
    box.height = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(height)));
    box.x = static_cast<int>(rng.below(static_cast<std::uint64_t>(width - box.width) + 1));
    box.y = static_cast<int>(rng.below(static_cast<std::uint64_t>(height - box.height) + 1));
    regions.push_back(box);
  }
  return regions;
}

// Every region of `jpeg` decodes to the whole decode cropped, where the region decoder holds
// exactly that region.
void expect_regions_match_whole(const TestJpeg& jpeg, int random_count) {
  const DecodeResult whole = decode_image_memory(jpeg.bytes.data(), jpeg.bytes.size());
  ASSERT_TRUE(whole.ok()) << jpeg.name << ": " << whole.error;
  const Image& image = whole.image;
  for (const CropBox& box : regions_of(image.width, image.height, random_count, jpeg.bytes.size())) {
    CropBox region;
    int calls = 0;
    const DecodeResult part = decode_image_region_memory(
        jpeg.bytes.data(), jpeg.bytes.size(), {},
        [&](int width, int height) {
          ++calls;
          EXPECT_EQ(width, image.width);
          EXPECT_EQ(height, image.height);
          return box;
        },
        &region);
    const std::string where = jpeg.name + ", region " + std::to_string(box.width) + "x" +
                              std::to_string(box.height) + " at (" + std::to_string(box.x) + ", " +
                              std::to_string(box.y) + ")";
    ASSERT_TRUE(part.ok()) << where << ": " << part.error;
    EXPECT_EQ(calls, 1) << where;
    if (jpeg_region_decoding()) {
      ASSERT_EQ(region.x, box.x) << where;
      ASSERT_EQ(region.y, box.y) << where;
    }
    ASSERT_EQ(part.image.width, region.width) << where;
    ASSERT_EQ(part.image.height, region.height) << where;
    ASSERT_TRUE(part.image.pixels == crop(image, region).pixels) << where;
  }
}

TEST(RegionDecode, EveryRegionOfASyntheticImageIsTheWholeDecodeCropped) {
  // Odd sizes, so the last iMCU row and column are partial.
  for (const TestJpeg& jpeg : jpegs_of(noisy_image(203, 157, 1), "noise 203x157")) {
    expect_regions_match_whole(jpeg, 300);
  }
}

TEST(RegionDecode, EveryRegionOfAPhotographIsTheWholeDecodeCropped) {
  const std::vector<std::uint8_t> original = read_bytes(kPhoto);
  if (original.empty()) GTEST_SKIP() << kPhoto << " is missing: install python-matplotlib-data";
  expect_regions_match_whole({"the photograph as its file is", original}, 300);
  const DecodeResult photo = decode_image_memory(original.data(), original.size());
  ASSERT_TRUE(photo.ok()) << photo.error;
  // A 357x301 part at an odd offset, as make_food101_fixture's crops: every format again.
  const Image part = crop(photo.image, {37, 91, 357, 301});
  for (const TestJpeg& jpeg : jpegs_of(part, "photograph 357x301")) expect_regions_match_whole(jpeg, 150);
}

// The loader's path: the crop drawn from the header's size, only that decoded, then resized and
// flipped, is augment_train of the whole decode.
TEST(RegionDecode, TrainingCropFromTheRegionIsAugmentTrainOfTheWholeImage) {
  std::vector<TestJpeg> jpegs = jpegs_of(noisy_image(211, 149, 2), "noise 211x149");
  const std::vector<std::uint8_t> photo = read_bytes(kPhoto);
  if (!photo.empty()) jpegs.push_back({"the photograph", photo});
  constexpr int kSize = 64;
  std::vector<std::uint8_t> expected(kSize * kSize * 3), actual(kSize * kSize * 3);
  for (const TestJpeg& jpeg : jpegs) {
    const DecodeResult whole = decode_image_memory(jpeg.bytes.data(), jpeg.bytes.size());
    ASSERT_TRUE(whole.ok()) << jpeg.name << ": " << whole.error;
    for (std::uint64_t index = 0; index < 100; ++index) {
      augment_train(whole.image, kSize, 7, 3, index, expected.data());
      TrainDraws draws;
      CropBox region;
      const DecodeResult part = decode_image_region_memory(
          jpeg.bytes.data(), jpeg.bytes.size(), {},
          [&](int width, int height) {
            draws = train_draws(width, height, 7, 3, index);
            return draws.box;
          },
          &region);
      ASSERT_TRUE(part.ok()) << jpeg.name << ": " << part.error;
      augment_train_region(part.image, region, draws, kSize, actual.data());
      ASSERT_TRUE(actual == expected) << jpeg.name << ", image index " << index;
    }
  }
}

// What the region path relies on: resize_crop reads nothing outside its box.
TEST(RegionDecode, ResizeCropOfABoxIsResizeCropOfTheBoxAlone) {
  const Image image = noisy_image(97, 83, 3);
  const CropBox box{11, 23, 61, 41};
  std::vector<std::uint8_t> from_whole(40 * 30 * 3), from_box(40 * 30 * 3);
  resize_crop(image, box, 40, 30, from_whole.data());
  resize_crop(crop(image, box), {0, 0, box.width, box.height}, 40, 30, from_box.data());
  EXPECT_TRUE(from_whole == from_box);
}

TEST(RegionDecode, APngIsDecodedWholeWithTheRegionTheWholeImage) {
  const Image image = noisy_image(21, 13, 4);
  const std::vector<std::uint8_t> png = encode_png(image.pixels.data(), 21, 13, 3);
  CropBox region;
  const DecodeResult result = decode_image_region_memory(
      png.data(), png.size(), {}, [](int, int) { return CropBox{2, 3, 4, 5}; }, &region);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(region.x, 0);
  EXPECT_EQ(region.y, 0);
  EXPECT_EQ(region.width, 21);
  EXPECT_EQ(region.height, 13);
  EXPECT_EQ(result.image.pixels, image.pixels);
}

TEST(RegionDecode, TheBudgetRefusesTheWholeSizeBeforeTheRegionIsChosen) {
  const std::vector<std::uint8_t> jpeg = encode_jpeg(noisy_image(40, 30, 5), 90);
  DecodeLimits limits;
  limits.max_pixels = 40 * 30 - 1;
  bool chosen = false;
  CropBox region;
  const DecodeResult result = decode_image_region_memory(
      jpeg.data(), jpeg.size(), limits,
      [&](int, int) {
        chosen = true;
        return CropBox{0, 0, 1, 1};
      },
      &region);
  EXPECT_EQ(result.error.rfind("40x30 pixels is over the", 0), 0u) << result.error;
  EXPECT_FALSE(chosen);
}

// The missing end-of-image marker is found before any pixel is decoded, even where the region
// lies wholly in the part that is there.
TEST(RegionDecode, ATruncatedJpegIsRefusedWhateverTheRegion) {
  std::vector<std::uint8_t> jpeg = encode_jpeg(noisy_image(64, 64, 6), 90);
  jpeg.resize(jpeg.size() - 2);
  CropBox region;
  const DecodeResult result = decode_image_region_memory(
      jpeg.data(), jpeg.size(), {}, [](int, int) { return CropBox{0, 0, 8, 8}; }, &region);
  EXPECT_EQ(result.error, "truncated (no end-of-image marker)");
}

// The sample-precision byte of a JPEG's baseline frame header (SOF0), walking the segments from
// SOI.
std::size_t precision_offset(const std::vector<std::uint8_t>& jpeg) {
  std::size_t p = 2;
  while (p + 4 <= jpeg.size() && jpeg[p] == 0xFF && jpeg[p + 1] != 0xC0) {
    p += 2 + (std::size_t{jpeg[p + 2]} << 8 | jpeg[p + 3]);
  }
  EXPECT_LT(p + 4, jpeg.size()) << "no SOF0";
  return p + 4;
}

// libjpeg refuses a 12-bit JPEG in this build (stb_image words the refusal); the next file's
// region must still be decoded alone by the same thread's decompressor.
TEST(RegionDecode, AJpegAfterAnUnreadableOneIsStillDecodedAlone) {
  const std::vector<std::uint8_t> good = encode_jpeg(noisy_image(48, 40, 8), 90);
  std::vector<std::uint8_t> twelve_bit = good;
  twelve_bit[precision_offset(twelve_bit)] = 12;
  CropBox region;
  const auto choose = [](int, int) { return CropBox{16, 8, 20, 24}; };
  EXPECT_EQ(decode_image_region_memory(twelve_bit.data(), twelve_bit.size(), {}, choose, &region).error,
            "corrupt or unsupported JPEG (only 8-bit)");
  const DecodeResult next = decode_image_region_memory(good.data(), good.size(), {}, choose, &region);
  ASSERT_TRUE(next.ok()) << next.error;
  if (jpeg_region_decoding()) {
    EXPECT_EQ(next.image.width, 20);
  }
  const DecodeResult whole = decode_image_memory(good.data(), good.size());
  EXPECT_TRUE(next.image.pixels == crop(whole.image, region).pixels);
}

TEST(RegionDecode, ARegionOutsideTheImageIsABug) {
  const std::vector<std::uint8_t> jpeg = encode_jpeg(noisy_image(40, 30, 7), 90);
  CropBox region;
  EXPECT_THROW(decode_image_region_memory(
                   jpeg.data(), jpeg.size(), {}, [](int, int) { return CropBox{30, 0, 11, 30}; }, &region),
               std::exception);
  // The decoder is still good for the next file.
  const DecodeResult next = decode_image_region_memory(
      jpeg.data(), jpeg.size(), {}, [](int, int) { return CropBox{30, 0, 10, 30}; }, &region);
  EXPECT_TRUE(next.ok()) << next.error;
}

}  // namespace
}  // namespace r50
