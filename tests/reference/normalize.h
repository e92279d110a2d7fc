// defines: reference::normalize_images
#pragma once

#include <array>
#include <cstdint>

#include "reference/numerics.h"

namespace r50::reference {

// images [N, H, W, 3] of bytes -> y [N, 3, H, W] = (image / 255 - mean[c]) / std[c].
template <typename T>
HostTensor<T> normalize_images(const HostTensor<std::uint8_t>& images,
                               const std::array<float, 3>& mean, const std::array<float, 3>& std) {
  const std::int64_t N = images.shape()[0], H = images.shape()[1], W = images.shape()[2];
  HostTensor<T> y({N, 3, H, W});
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < 3; ++c)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t v = 0; v < W; ++v)
          y.at(n, c, h, v) = (static_cast<T>(images.at(n, h, v, c)) / 255 - T(mean[c])) / T(std[c]);
  return y;
}

}  // namespace r50::reference
