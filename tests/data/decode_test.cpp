#include "data/decode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/rng.h"
#include "data/jpeg_fixtures.h"

namespace r50 {
namespace {

using testing::encode_jpeg;
using testing::encode_png;
using testing::smooth_image;

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

double mean_abs_error(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  double total = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) total += std::abs(int(a[i]) - int(b[i]));
  return total / static_cast<double>(a.size());
}

// The offset of a marker segment's first byte (0xFF), walking the segments from SOI.
std::size_t find_segment(const std::vector<std::uint8_t>& jpeg, std::uint8_t marker) {
  std::size_t p = 2;
  while (p + 4 <= jpeg.size() && jpeg[p] == 0xFF) {
    if (jpeg[p + 1] == marker) return p;
    p += 2 + (std::size_t{jpeg[p + 2]} << 8 | jpeg[p + 3]);
  }
  ADD_FAILURE() << "no marker FF " << std::hex << int(marker);
  return 0;
}

// A small real JPEG, the starting point of the hostile ones.
std::vector<std::uint8_t> small_jpeg() { return encode_jpeg(smooth_image(33, 17), 90); }

bool built_with_libjpeg_turbo() { return std::string(jpeg_decoder_name()) == "libjpeg-turbo"; }

// encode_jpeg(smooth_image(16, 8), 95) transcoded losslessly to arithmetic coding (SOF9 and DAC
// in place of SOF0 and DHT), as `jpegtran -arithmetic -copy none` does: stb_image_write cannot
// write one.
std::vector<std::uint8_t> arithmetic_coded_jpeg() {
  return {
      0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01,
      0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04, 0x04, 0x03,
      0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06, 0x07, 0x09, 0x08, 0x06, 0x07, 0x09,
      0x07, 0x06, 0x06, 0x08, 0x0B, 0x08, 0x09, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x06, 0x08, 0x0B, 0x0C,
      0x0B, 0x0A, 0x0C, 0x09, 0x0A, 0x0A, 0x0A, 0xFF, 0xDB, 0x00, 0x43, 0x01, 0x02, 0x02, 0x02, 0x02,
      0x02, 0x02, 0x05, 0x03, 0x03, 0x05, 0x0A, 0x07, 0x06, 0x07, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A,
      0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A,
      0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A,
      0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0x0A, 0xFF, 0xC9, 0x00, 0x11,
      0x08, 0x00, 0x08, 0x00, 0x10, 0x03, 0x01, 0x11, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF,
      0xCC, 0x00, 0x0A, 0x00, 0x10, 0x10, 0x05, 0x01, 0x10, 0x11, 0x05, 0xFF, 0xDA, 0x00, 0x0C, 0x03,
      0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00, 0xFF, 0x00, 0xB7, 0x88, 0x57, 0xD8, 0xA2,
      0x47, 0xAB, 0x63, 0xEF, 0xBE, 0x02, 0xF9, 0xB7, 0x54, 0x66, 0xB0, 0x14, 0x53, 0x27, 0x5B, 0xEF,
      0x2E, 0xDE, 0x6D, 0x6B, 0x75, 0xF1, 0x15, 0x4E, 0x16, 0x14, 0x74, 0xE2, 0x76, 0xCB, 0x45, 0xA3,
      0x11, 0xC0, 0xC1, 0x48, 0x55, 0x94, 0x9C, 0x60, 0xFF, 0xD9,
  };
}

// An 8x8 CMYK JPEG with Adobe's APP14 marker, each pixel stored as (255, 64, 32, 200), written by
// libjpeg (cinfo.in_color_space = JCS_CMYK, quality 90): stb_image_write cannot write one.
std::vector<std::uint8_t> cmyk_jpeg() {
  return {
      0xFF, 0xD8, 0xFF, 0xEE, 0x00, 0x0E, 0x41, 0x64, 0x6F, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x03, 0x02, 0x02, 0x03, 0x02, 0x02, 0x03, 0x03, 0x03,
      0x03, 0x04, 0x03, 0x03, 0x04, 0x05, 0x08, 0x05, 0x05, 0x04, 0x04, 0x05, 0x0A, 0x07, 0x07, 0x06,
      0x08, 0x0C, 0x0A, 0x0C, 0x0C, 0x0B, 0x0A, 0x0B, 0x0B, 0x0D, 0x0E, 0x12, 0x10, 0x0D, 0x0E, 0x11,
      0x0E, 0x0B, 0x0B, 0x10, 0x16, 0x10, 0x11, 0x13, 0x14, 0x15, 0x15, 0x15, 0x0C, 0x0F, 0x17, 0x18,
      0x16, 0x14, 0x18, 0x12, 0x14, 0x15, 0x14, 0xFF, 0xC0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x08,
      0x04, 0x43, 0x11, 0x00, 0x4D, 0x11, 0x00, 0x59, 0x11, 0x00, 0x4B, 0x11, 0x00, 0xFF, 0xC4, 0x00,
      0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x08, 0x09, 0xFF, 0xC4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xDA, 0x00, 0x0E, 0x04, 0x43,
      0x00, 0x4D, 0x00, 0x59, 0x00, 0x4B, 0x00, 0x00, 0x3F, 0x00, 0xAA, 0x62, 0xA2, 0x7F, 0x98, 0x0F,
      0xFF, 0xD9,
  };
}

// At quality 95 stb_image_write scales the standard quantisation tables by 0.1, so the low
// frequencies that carry a smooth image are quantised in steps of 1 to 2 levels: half a step of
// error, plus colour conversion and 4:2:0 chroma rounding, keeps the mean well under 2 levels.
TEST(DecodeImage, JpegDecodesToItsSizeAndPixels) {
  const Image original = smooth_image(61, 47);
  const std::vector<std::uint8_t> jpeg = encode_jpeg(original, 95);
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size());
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.image.width, 61);
  EXPECT_EQ(result.image.height, 47);
  ASSERT_EQ(result.image.pixels.size(), original.pixels.size());
  EXPECT_LT(mean_abs_error(result.image.pixels, original.pixels), 2.0);
}

TEST(DecodeImage, GrayscaleJpegComesBackRgbWithEqualChannels) {
  std::vector<std::uint8_t> gray(40 * 30);
  for (std::size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<std::uint8_t>(60 + i % 40 * 3);
  const std::vector<std::uint8_t> jpeg = encode_jpeg(gray.data(), 40, 30, 1, 95);
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size());
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.image.pixels.size(), gray.size() * 3);
  for (std::size_t i = 0; i < gray.size(); ++i) {
    const std::uint8_t* p = &result.image.pixels[3 * i];
    ASSERT_TRUE(p[0] == p[1] && p[1] == p[2]) << "pixel " << i;
  }
}

TEST(DecodeImage, PngDecodesExactly) {
  const Image original = smooth_image(21, 13);
  const std::vector<std::uint8_t> png = encode_png(original.pixels.data(), 21, 13, 3);
  const DecodeResult result = decode_image_memory(png.data(), png.size());
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.image.pixels, original.pixels);
}

TEST(DecodeImage, EmptyFileIsAnError) {
  const std::uint8_t nothing = 0;
  EXPECT_EQ(decode_image_memory(&nothing, 0).error, "empty file");
}

TEST(DecodeImage, RandomBytesAreNotAnImage) {
  Rng rng(7);
  std::vector<std::uint8_t> bytes(4096);
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(rng.next_u64());
  const DecodeResult result = decode_image_memory(bytes.data(), bytes.size());
  EXPECT_EQ(result.error, "not an image (neither JPEG nor PNG)");
}

// stb_image alone would fill the missing half with grey and call it a success.
TEST(DecodeImage, JpegCutInHalfIsTruncated) {
  const std::vector<std::uint8_t> jpeg = encode_jpeg(smooth_image(64, 64), 95);
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size() / 2);
  EXPECT_TRUE(starts_with(result.error, "truncated")) << result.error;
}

TEST(DecodeImage, JpegWithoutItsLastByteIsTruncated) {
  const std::vector<std::uint8_t> jpeg = small_jpeg();
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size() - 1);
  EXPECT_TRUE(starts_with(result.error, "truncated")) << result.error;
}

// Some encoders append data after the end-of-image marker; decoders ignore it, and so do we.
TEST(DecodeImage, BytesAfterTheEndOfImageAreIgnored) {
  std::vector<std::uint8_t> jpeg = small_jpeg();
  jpeg.insert(jpeg.end(), {0x00, 0x12, 0xFF, 0xFF, 0x34});
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size());
  EXPECT_TRUE(result.ok()) << result.error;
}

TEST(DecodeImage, HugeHeaderIsRefusedByTheBudgetBeforeDecoding) {
  std::vector<std::uint8_t> jpeg = small_jpeg();
  const std::size_t sof = find_segment(jpeg, 0xC0);  // FF C0, length, precision, height, width
  jpeg[sof + 5] = 0xFF, jpeg[sof + 6] = 0xDC;        // 65500 rows
  jpeg[sof + 7] = 0xFF, jpeg[sof + 8] = 0xDC;        // 65500 columns
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size());
  EXPECT_EQ(result.error, "65500x65500 pixels is over the 50 MP budget");
}

TEST(DecodeImage, BudgetAdmitsAnImageOfExactlyItsSize) {
  const std::vector<std::uint8_t> jpeg = small_jpeg();  // 33 x 17
  EXPECT_TRUE(decode_image_memory(jpeg.data(), jpeg.size(), DecodeLimits{33 * 17}).ok());
  EXPECT_EQ(decode_image_memory(jpeg.data(), jpeg.size(), DecodeLimits{33 * 17 - 1}).error,
            "33x17 pixels is over the 0.00056 MP budget");
}

TEST(DecodeImage, TwelveBitJpegIsRefused) {
  std::vector<std::uint8_t> jpeg = small_jpeg();
  jpeg[find_segment(jpeg, 0xC0) + 4] = 12;  // sample precision
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size());
  EXPECT_EQ(result.error, "corrupt or unsupported JPEG (only 8-bit)");
}

// libjpeg-turbo reads arithmetic coding, as PIL (built on it) does; stb_image does not.
TEST(DecodeImage, ArithmeticCodedJpegDecodesWithLibjpegTurbo) {
  if (!built_with_libjpeg_turbo()) GTEST_SKIP() << "built with stb_image alone";
  const std::vector<std::uint8_t> jpeg = arithmetic_coded_jpeg();
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size());
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.image.width, 16);
  EXPECT_EQ(result.image.height, 8);
  EXPECT_LT(mean_abs_error(result.image.pixels, smooth_image(16, 8).pixels), 2.0);
}

TEST(DecodeImage, ArithmeticCodedJpegIsRefusedByStbImage) {
  if (built_with_libjpeg_turbo()) GTEST_SKIP() << "built with libjpeg-turbo, which reads it";
  const std::vector<std::uint8_t> jpeg = arithmetic_coded_jpeg();
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size());
  EXPECT_TRUE(starts_with(result.error, "corrupt or unsupported JPEG (")) << result.error;
}

// TurboJPEG leaves its handle unusable after a header it cannot read; the next file must not pay
// for it. Only libjpeg-turbo reads arithmetic coding, so its success shows which decoder ran.
TEST(DecodeImage, JpegAfterAnUnreadableOneStillDecodesWithLibjpegTurbo) {
  if (!built_with_libjpeg_turbo()) GTEST_SKIP() << "built with stb_image alone";
  std::vector<std::uint8_t> twelve_bit = small_jpeg();
  twelve_bit[find_segment(twelve_bit, 0xC0) + 4] = 12;
  const std::vector<std::uint8_t> arithmetic = arithmetic_coded_jpeg();
  EXPECT_FALSE(decode_image_memory(twelve_bit.data(), twelve_bit.size()).ok());
  const DecodeResult result = decode_image_memory(arithmetic.data(), arithmetic.size());
  EXPECT_TRUE(result.ok()) << result.error;
}

// Both decoders take the four values as Adobe's inverted inks, as PIL does: red is C·K/255, and so
// on. libjpeg-turbo cannot convert CMYK to RGB, so that build leaves these files to stb_image.
TEST(DecodeImage, CmykJpegComesBackRgb) {
  const std::vector<std::uint8_t> jpeg = cmyk_jpeg();
  const DecodeResult result = decode_image_memory(jpeg.data(), jpeg.size());
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.image.pixels.size(), std::size_t{8 * 8 * 3});
  const int expected[3] = {255 * 200 / 255, 64 * 200 / 255, 32 * 200 / 255};
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(result.image.pixels[c], expected[c], 2) << "channel " << c;
}

// Junk between the last scan and the end-of-image marker makes libjpeg warn ("Corrupt JPEG data:
// 11 extraneous bytes before marker 0xd9") and decode on; PIL keeps such a picture, and so do we.
TEST(DecodeImage, JunkBeforeTheEndOfImageMarkerIsIgnored) {
  const std::vector<std::uint8_t> jpeg = small_jpeg();
  std::vector<std::uint8_t> junk = jpeg;
  junk.insert(junk.end() - 2, 16, 0x5A);
  const DecodeResult result = decode_image_memory(junk.data(), junk.size());
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.image.pixels, decode_image_memory(jpeg.data(), jpeg.size()).image.pixels);
}

TEST(DecodeImage, MissingFileCannotBeRead) {
  const DecodeResult result = decode_image_file("/nonexistent/r50/image.jpg");
  EXPECT_EQ(result.error, "cannot read: No such file or directory");
}

TEST(DecodeImage, DirectoryCannotBeRead) {
  testing::TempDir dir;
  EXPECT_EQ(decode_image_file(dir.path().string()).error, "cannot read: not a regular file");
}

TEST(DecodeImage, FileDecodesLikeTheSameBytesInMemory) {
  testing::TempDir dir;
  const std::vector<std::uint8_t> jpeg = small_jpeg();
  testing::write_file(dir.path() / "a.jpg", jpeg);
  const DecodeResult from_file = decode_image_file((dir.path() / "a.jpg").string());
  ASSERT_TRUE(from_file.ok()) << from_file.error;
  EXPECT_EQ(from_file.image.pixels, decode_image_memory(jpeg.data(), jpeg.size()).image.pixels);
}

// stb_image keeps its failure reason per thread, TurboJPEG its handle: each decode reports its own
// outcome.
TEST(DecodeImage, ConcurrentDecodesReportTheirOwnOutcome) {
  const std::vector<std::uint8_t> good = small_jpeg();
  std::vector<std::uint8_t> twelve_bit = small_jpeg();
  twelve_bit[find_segment(twelve_bit, 0xC0) + 4] = 12;
  std::vector<std::uint8_t> bad_png = encode_png(smooth_image(8, 8).pixels.data(), 8, 8, 3);
  bad_png[12] = 'X';  // the first chunk is no longer IHDR
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const int kind = (t + i) % 3;
        const std::vector<std::uint8_t>& bytes = kind == 0 ? good : kind == 1 ? twelve_bit : bad_png;
        const std::string error = decode_image_memory(bytes.data(), bytes.size()).error;
        const bool right = kind == 0   ? error.empty()
                           : kind == 1 ? error == "corrupt or unsupported JPEG (only 8-bit)"
                                       : error == "corrupt or unsupported PNG (first not IHDR)";
        if (!right) ADD_FAILURE() << error;
        wrong[t] += right ? 0 : 1;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace r50
