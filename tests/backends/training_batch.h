// defines: HostBatch, make_batch, DeviceBatch, to_device
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "memory/buffer.h"
#include "ops/backend.h"

namespace r50 {

// Random normal images with the given labels, on the host.
struct HostBatch {
  int n, size;
  std::vector<float> images;
  std::vector<std::int32_t> labels;
};

inline HostBatch make_batch(int size, const std::vector<std::int32_t>& labels) {
  const int n = static_cast<int>(labels.size());
  HostBatch batch{n, size, std::vector<float>(static_cast<std::size_t>(n) * 3 * size * size),
                  labels};
  Rng rng(2024);
  for (float& value : batch.images) value = static_cast<float>(rng.normal());
  return batch;
}

// The batch copied into `backend`'s memory, as the training loop has it, images in `layout`.
struct DeviceBatch {
  OwnedTensor images, labels;
};

inline DeviceBatch to_device(Backend& backend, const HostBatch& batch, Layout layout = Layout::RowMajor) {
  DeviceBatch device{OwnedTensor(backend.allocator(), {batch.n, 3, batch.size, batch.size},
                                 DType::F32, backend.device(), layout),
                     OwnedTensor(backend.allocator(), {batch.n}, DType::I32, backend.device())};
  copy_from_host_nchw(backend, device.images, batch.images.data());
  backend.copy_from_host(device.labels, batch.labels.data());
  return device;
}

}  // namespace r50
