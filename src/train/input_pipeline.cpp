#include "train/input_pipeline.h"

namespace r50 {

InputPipeline::InputPipeline(Backend& backend, Loader& loader, DType dtype, Layout layout)
    : backend_(backend), loader_(loader) {
  const std::int64_t batch = loader.options().batch_size, size = loader.options().image_size;
  for (int slot = 0; slot < 2; ++slot) {
    raw_[slot] = OwnedTensor(backend.allocator(), {batch, size, size, 3}, DType::U8, backend.device());
    labels_[slot] = OwnedTensor(backend.allocator(), {batch}, DType::I32, backend.device());
  }
  normalized_ = OwnedTensor(backend.allocator(), {batch, 3, size, size}, dtype, backend.device(), layout);
}

InputPipeline::~InputPipeline() {
  try {
    finish(current_);
    finish(ahead_);
  } catch (const std::exception&) {
    // A failed device is reported by whoever synchronises next; a destructor must not throw.
  }
}

void InputPipeline::finish(std::optional<InFlight>& batch) {
  if (!batch) return;
  backend_.finish_upload(batch->images);
  backend_.finish_upload(batch->labels);
  upload_seconds_ += (batch->images.milliseconds + batch->labels.milliseconds) / 1e3;
  batch.reset();  // the host memory goes back to the loader
}

std::optional<InputPipeline::InFlight> InputPipeline::fetch() {
  for (std::optional<LoadedBatch> loaded = loader_.next(); loaded; loaded = loader_.next()) {
    const std::int64_t n = loaded->labels().numel();
    if (n == 0) continue;
    const int slot = next_slot_;
    next_slot_ ^= 1;
    const Backend::UploadTicket images =
        backend_.upload(raw_[slot].tensor().slice(0, n), loaded->images().data());
    const Backend::UploadTicket labels =
        backend_.upload(labels_[slot].tensor().slice(0, n), loaded->labels().data());
    return InFlight{std::move(*loaded), images, labels, slot};
  }
  return std::nullopt;
}

void InputPipeline::start_epoch(std::int64_t epoch) {
  finish(current_);
  finish(ahead_);
  loader_.start_epoch(epoch);
}

std::optional<InputBatch> InputPipeline::next() {
  // The step that read the current batch has been enqueued, and its upload is long done.
  finish(current_);
  current_ = ahead_ ? std::move(ahead_) : fetch();
  ahead_.reset();
  if (!current_) return std::nullopt;
  ahead_ = fetch();  // overlaps the step the caller is about to enqueue

  const std::int64_t n = current_->host.labels().numel();
  backend_.wait_for_upload(current_->images);
  backend_.wait_for_upload(current_->labels);
  const Tensor images = normalized_.tensor().slice(0, n);
  backend_.normalize_images(raw_[current_->slot].tensor().slice(0, n), images, kImageNetMean,
                            kImageNetStd);
  return InputBatch{images, labels_[current_->slot].tensor().slice(0, n), current_->host.index()};
}

}  // namespace r50
