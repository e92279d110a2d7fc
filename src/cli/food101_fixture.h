// defines: FixtureOptions, HostileSummary, FixtureSummary, default_fixture_photo, make_food101_fixture
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace r50 {

struct FixtureOptions {
  int classes = 10;
  int train_images = 20;  // per class
  int test_images = 0;    // per class
  std::uint64_t seed = 0;
  std::vector<std::string> sources;  // photographs to draw from; empty: default_fixture_photo()
  int threads = 0;                   // 0: every core
  bool hostile = false;              // add the hostile set (HostileSummary)
};

// The hostile set, a data set's worst: after the training split's good lines, images that are
// unusual but valid (CMYK, one-component grayscale and progressive JPEGs, a PNG under a .jpg name:
// torchvision's Image.open(f).convert('RGB') trains on each), images that cannot be used
// (truncated, empty, text, a 65,500 x 65,500 header, missing, a folder, a name holding a terminal
// escape) and index lines to pass over (blank, "..", absolute, an unknown class, a link leading
// out of images/); after the test split's, four bad images and an unknown class. Names say what
// each is ("apple_pie/bad_truncated"); meta/hostile.txt lists every entry and what a loader should
// make of it.
struct HostileSummary {
  int odd_images = 0;       // valid, in the training split
  int bad_images = 0;       // in the training split
  int bad_test_images = 0;  // in the test split
  int bad_lines = 0;        // in both splits' files
  std::string note;         // kinds this build cannot write, and what stands in; empty if none
};

struct FixtureSummary {
  std::vector<std::string> sources;
  int images = 0;
  int grayscale = 0;
  std::int64_t bytes = 0;   // of JPEG written
  std::int64_t pixels = 0;  // of all images together
  HostileSummary hostile;   // with FixtureOptions::hostile
};

// matplotlib's sample photograph (Debian's python-matplotlib-data), so that every machine makes the
// same tree from the same seed. Throws, naming the package to install, when it is not there.
std::string default_fixture_photo();

// Writes a small Food-101-layout tree under `root`: meta/classes.txt, meta/train.txt,
// meta/test.txt and images/<class>/<id>.jpg. Each image is a random crop of one of the source
// photographs, mildly rotated and sheared, colour-shifted, rescaled to a 512-pixel longer side at
// a varied aspect ratio and written as a baseline JPEG of quality 70 to 95; about one in twenty is
// grayscale (grey content in a three-component JPEG: stb_image_write writes no one-component
// JPEGs). Flat synthetic pictures would decode far faster than photographs and flatter every
// loader figure. Every draw is keyed by (seed, class, image), so the tree depends on the seed and
// the sources alone, not on the thread count.
FixtureSummary make_food101_fixture(const std::string& root, const FixtureOptions& options);

}  // namespace r50
