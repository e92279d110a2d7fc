// defines: InputBatch, InputPipeline
#pragma once

#include <cstdint>
#include <optional>

#include "data/loader.h"
#include "memory/buffer.h"
#include "ops/backend.h"

namespace r50 {

// A batch on the device, ready for a training step: images [n, 3, S, S] (F32, or the model's
// half-precision compute dtype) normalised with ImageNet's statistics, labels I32 [n].
struct InputBatch {
  Tensor images;
  Tensor labels;
  std::int64_t index = 0;  // the batch's position in its epoch
};

// The device side of the input path (DESIGN.md, Contracts). Each batch the loader hands out is
// uploaded on the backend's copy stream while the step before it computes: when batch k is handed
// to the caller, batch k + 1 is already on its way, into the other of two device buffers. The
// caller's step k is enqueued after that upload, so the upload waits only for step k − 1, the last
// reader of its buffer. Normalisation (uint8 NHWC to float NCHW) runs on the device, as the
// backend's normalize_images, into images of `dtype` and `layout`: the model's, so that it reads
// them as they are. A batch whose every image was skipped is passed over.
class InputPipeline {
 public:
  InputPipeline(Backend& backend, Loader& loader, DType dtype = DType::F32, Layout layout = Layout::RowMajor);
  ~InputPipeline();  // waits for the uploads in flight
  InputPipeline(const InputPipeline&) = delete;
  InputPipeline& operator=(const InputPipeline&) = delete;

  // The next batch of the loader's current epoch; nothing at its end. Its tensors are valid until
  // the next call; the host memory of the batch before it goes back to the loader then.
  std::optional<InputBatch> next();
  // Drops the batches in flight, then starts the loader's epoch `epoch`.
  void start_epoch(std::int64_t epoch);

  // The time the uploads finished so far took on the device's copy stream, which runs beside the
  // compute: the host-to-device share of the input path, overlapped.
  double upload_seconds() const { return upload_seconds_; }

 private:
  struct InFlight {
    LoadedBatch host;
    Backend::UploadTicket images, labels;
    int slot;
  };
  std::optional<InFlight> fetch();
  void finish(std::optional<InFlight>& batch);

  Backend& backend_;
  Loader& loader_;
  OwnedTensor raw_[2], labels_[2];  // U8 [B, S, S, 3] and I32 [B], one pair per batch in flight
  OwnedTensor normalized_;          // [B, 3, S, S]
  std::optional<InFlight> current_, ahead_;
  int next_slot_ = 0;
  double upload_seconds_ = 0.0;
};

}  // namespace r50
