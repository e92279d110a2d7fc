// defines: the host launchers of the handwritten CUDA kernels (one .cu file per family)
//
// Launchers enqueue on `stream` and return the launch status (cudaGetLastError); callers check it.
// Pointers are device pointers; tensors are dense row-major unless a launcher says otherwise.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace r50::kernels {

// normalize.cu: images uint8 [n, h, w, 3] (RGB) -> out float [n, 3, h, w],
// out = (image / 255 - mean[c]) / std[c].
cudaError_t normalize_images(const std::uint8_t* images, float* out, int n, int h, int w,
                             const float mean[3], const float std[3], cudaStream_t stream);

}  // namespace r50::kernels
