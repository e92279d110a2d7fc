// defines: random_resized_crop_box, resize_crop, flip_horizontal, TrainDraws, train_draws,
//          augment_train, augment_train_region, augment_eval
#pragma once

#include <cstdint>

#include "core/rng.h"
#include "data/decode.h"

namespace r50 {

// torchvision's RandomResizedCrop.get_params(scale = (0.08, 1), ratio = (3/4, 4/3)): up to ten
// draws of an area share and a log-uniform aspect ratio; failing those, the centre crop at the
// nearest allowed ratio. The box always lies inside the image.
CropBox random_resized_crop_box(int width, int height, Rng& rng);

// The box of `source` resized to out_width × out_height into `out` (RGB, [out_height, out_width,
// 3]), bilinear, antialiased when shrinking as PIL's resize does (the filter widened by the scale
// factor), so that the pixels match torchvision's pipeline on PIL images within rounding. As
// torchvision's resized_crop (crop, then resize), it reads no pixel outside the box: the filter's
// taps are clamped to the box's edges, not the image's. So the box alone can be decoded.
void resize_crop(const Image& source, const CropBox& box, int out_width, int out_height,
                 std::uint8_t* out);

void flip_horizontal(std::uint8_t* pixels, int width, int height);  // RGB, in place

// Training: RandomResizedCrop(size) then a horizontal flip with probability 1/2, every draw from
// Rng::keyed(seed, epoch, index), so an image's augmentation does not depend on which worker or in
// which order it was made. The draws depend on the image's size alone, so they can be made before
// its pixels are decoded (train_draws), and only the box decoded (augment_train_region).
struct TrainDraws {
  CropBox box;  // in the whole image
  bool flip = false;
};
TrainDraws train_draws(int width, int height, std::uint64_t seed, std::uint64_t epoch, std::uint64_t index);

// `out` holds size·size·3 bytes.
void augment_train(const Image& source, int size, std::uint64_t seed, std::uint64_t epoch,
                   std::uint64_t index, std::uint8_t* out);

// augment_train from `pixels`, the rectangle `region` of the image, which holds draws.box
// (decode_image_region_* with draws.box as the region): the same bytes as augment_train of the
// whole image.
void augment_train_region(const Image& pixels, const CropBox& region, const TrainDraws& draws, int size,
                          std::uint8_t* out);

// Evaluation: the shorter side resized to size·256/224 (rounded down, as torchvision's Resize),
// then the centre size × size crop.
void augment_eval(const Image& source, int size, std::uint8_t* out);

}  // namespace r50
