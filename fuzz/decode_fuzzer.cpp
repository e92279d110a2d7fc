// The path an image takes from its file's bytes to a training or test crop: the header check, the
// pixel budget, the decode (TurboJPEG, libjpeg's region decoder or stb_image, as the build found
// them), then the train and eval augmentations of what decoded. Beyond "no crash, no leak", it
// checks what the loader relies on: nothing throws (a bad file is a result saying why), a decoded
// image is within the budget and holds the bytes its size says, and decoding only the training
// crop's region (as the loader does) gives the same verdict and the same crop as the whole decode.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "data/augment.h"
#include "data/decode.h"
#include "fuzz_check.h"

namespace {

// Food-101's photos are at most 512 pixels a side: a budget of 512 x 512 pixels admits any of them
// yet keeps each run fast; inputs whose headers claim more take the refusal path.
constexpr std::int64_t kMaxPixels = 512 * 512;

void check_image(const r50::Image& image) {
  FUZZ_CHECK(image.width > 0 && image.height > 0, "a decoded image is empty");
  FUZZ_CHECK(std::int64_t{image.width} * image.height <= kMaxPixels, "a decoded image is over the budget");
  FUZZ_CHECK(image.pixels.size() == std::size_t{3} * image.width * image.height,
             "a decoded image's pixels disagree with its size");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  r50::DecodeLimits limits;
  limits.max_pixels = kMaxPixels;
  // Output sizes from the input's length, so that mutations reach odd and tiny crops (1 pixel)
  // while each input stays reproducible.
  const int train_size = 1 + static_cast<int>(size % 61);
  const int eval_size = 1 + static_cast<int>(size % 37);
  const std::uint64_t seed = 7, epoch = 0, index = size;

  const r50::DecodeResult whole = r50::decode_image_memory(data, size, limits);
  FUZZ_CHECK(whole.ok() || !whole.error.empty(), "a failed decode says nothing");
  std::vector<std::uint8_t> train_whole(std::size_t{3} * train_size * train_size);
  if (whole.ok()) {
    check_image(whole.image);
    r50::augment_train(whole.image, train_size, seed, epoch, index, train_whole.data());
    std::vector<std::uint8_t> eval(std::size_t{3} * eval_size * eval_size);
    r50::augment_eval(whole.image, eval_size, eval.data());
  }

  // As the loader's training path: the crop drawn from the size alone, then only its region.
  r50::TrainDraws draws;
  int chosen = 0;
  r50::CropBox region;
  const r50::DecodeResult part = r50::decode_image_region_memory(
      data, size, limits,
      [&](int width, int height) {
        ++chosen;
        draws = r50::train_draws(width, height, seed, epoch, index);
        return draws.box;
      },
      &region);
  FUZZ_CHECK(part.ok() == whole.ok(), "the region decode and the whole decode disagree on the verdict");
  if (!part.ok()) return 0;
  FUZZ_CHECK(chosen == 1, "the region was not chosen exactly once");
  check_image(part.image);
  FUZZ_CHECK(part.image.width == region.width && part.image.height == region.height,
             "the region's pixels disagree with the region");
  std::vector<std::uint8_t> train_part(train_whole.size());
  r50::augment_train_region(part.image, region, draws, train_size, train_part.data());
  FUZZ_CHECK(std::memcmp(train_part.data(), train_whole.data(), train_whole.size()) == 0,
             "the crop from the region decode differs from the crop of the whole decode");
  return 0;
}
