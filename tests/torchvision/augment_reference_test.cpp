// resize_crop and augment_eval against torchvision on PIL images, on the files
// scripts/make_augment_reference.py writes into the build tree (R50_AUGMENT_REFERENCE_DIR).
// augment.cpp follows PIL's fixed-point arithmetic, so the images should agree exactly; a
// difference of one level per channel is allowed for a platform's floating point landing a
// weight's rounding on the other side. A missing reference is a failure, never a skip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "data/augment.h"

namespace r50 {
namespace {

std::string reference_dir() {
  const char* dir = std::getenv("R50_AUGMENT_REFERENCE_DIR");
  return dir ? dir : "";
}

// Binary PPM (P6, maxval 255), as PIL writes it.
Image read_ppm(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int maxval = 0;
  Image image;
  in >> magic >> image.width >> image.height >> maxval;
  in.get();  // the single whitespace byte before the pixels
  if (!in || magic != "P6" || maxval != 255) {
    ADD_FAILURE() << path << ": not a binary 8-bit PPM";
    return {};
  }
  image.pixels.resize(static_cast<std::size_t>(image.width) * image.height * 3);
  in.read(reinterpret_cast<char*>(image.pixels.data()), static_cast<std::streamsize>(image.pixels.size()));
  if (!in) ADD_FAILURE() << path << ": short read";
  return image;
}

void expect_close(const Image& expected, const std::vector<std::uint8_t>& actual, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.pixels.size()) << what;
  int worst = 0, differing = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const int difference = std::abs(int(actual[i]) - int(expected.pixels[i]));
    worst = std::max(worst, difference);
    differing += difference != 0;
  }
  EXPECT_LE(worst, 1) << what << ": " << differing << " of " << actual.size() << " values differ";
  std::cout << what << ": max difference " << worst << ", " << differing << " values differ\n";
}

TEST(AugmentReference, MatchesTorchvisionOnPilImages) {
  const std::string dir = reference_dir();
  std::ifstream cases(dir + "/cases.txt");
  ASSERT_TRUE(!dir.empty() && cases) << "no torchvision reference: set R50_AUGMENT_REFERENCE_DIR to what "
                                        "scripts/make_augment_reference.py writes (ctest does)";
  int count = 0;
  for (std::string line; std::getline(cases, line); ++count) {
    std::istringstream fields(line);
    std::string kind, source_name, expected_name;
    fields >> kind >> source_name;
    const Image source = read_ppm(dir + "/" + source_name);
    std::vector<std::uint8_t> out;
    int width = 0, height = 0;
    if (kind == "crop") {
      CropBox box;
      fields >> box.x >> box.y >> box.width >> box.height >> width >> height >> expected_name;
      out.resize(std::size_t{3} * width * height);
      resize_crop(source, box, width, height, out.data());
    } else {
      fields >> width >> expected_name;
      height = width;
      out.resize(std::size_t{3} * width * height);
      augment_eval(source, width, out.data());
    }
    const Image expected = read_ppm(dir + "/" + expected_name);
    ASSERT_EQ(expected.width, width) << line;
    ASSERT_EQ(expected.height, height) << line;
    expect_close(expected, out, line);
  }
  EXPECT_GT(count, 0) << "cases.txt lists no case";
}

}  // namespace
}  // namespace r50
