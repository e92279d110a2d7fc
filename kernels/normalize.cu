// defines: normalize_images (uint8 NHWC to NCHW or NHWC with per-channel mean and std, stored as
//          float, __half or __nv_bfloat16)
#include "common.cuh"
#include "kernels.h"

namespace r50::kernels {
namespace {

struct ChannelAffine {
  float scale[3];  // 1 / (255 std)
  float shift[3];  // -mean / std
};

// One thread per output element; the grid strides over n·3·h·w. Writes are coalesced (the output
// order); into NCHW, reads stride by 3 bytes, which the L1 cache absorbs, and into NHWC, the
// image's order, output element i is image byte i. The value is computed in float and rounded
// once to T.
template <Order O, typename T>
__global__ void normalize_images_kernel(const std::uint8_t* __restrict__ images,
                                        T* __restrict__ out, long long total, int hw,
                                        ChannelAffine affine) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    int c;
    long long from;
    if (O == Order::Nhwc) {
      c = static_cast<int>(i % 3);  // i = pixel·3 + c
      from = i;
    } else {
      const long long image = i / (3LL * hw);  // i = (image·3 + c)·hw + pixel
      c = static_cast<int>((i / hw) % 3);
      from = (image * hw + i % hw) * 3 + c;
    }
    const float value = images[from];
    out[i] = from_float<T>(value * affine.scale[c] + affine.shift[c]);
  }
}

}  // namespace

cudaError_t normalize_images(const std::uint8_t* images, void* out, Storage out_storage,
                             Order out_order, int n, int h, int w, const float mean[3],
                             const float std[3], cudaStream_t stream) {
  ChannelAffine affine;
  for (int c = 0; c < 3; ++c) {
    affine.scale[c] = 1.0f / (255.0f * std[c]);
    affine.shift[c] = -mean[c] / std[c];
  }
  const long long total = 3LL * n * h * w;
  if (total == 0) return cudaSuccess;
  return with_element_type(out_storage, [&](auto zero) {
    using T = decltype(zero);
    if (out_order == Order::Nhwc) {
      normalize_images_kernel<Order::Nhwc><<<grid_blocks(total), kThreads, 0, stream>>>(
          images, static_cast<T*>(out), total, h * w, affine);
    } else {
      normalize_images_kernel<Order::Nchw><<<grid_blocks(total), kThreads, 0, stream>>>(
          images, static_cast<T*>(out), total, h * w, affine);
    }
    return cudaGetLastError();
  });
}

}  // namespace r50::kernels
