#include "train/loss_watch.h"

#include <cmath>
#include <sstream>
#include <vector>

namespace r50 {

LossWatch::LossWatch(Backend& backend, int check_every)
    : backend_(backend), ring_(backend.allocator(), {check_every}, DType::F32, backend.device()) {
  R50_CHECK(check_every > 0, "LossWatch: check every ", check_every, " steps");
}

void LossWatch::record(const Tensor& loss) {
  R50_CHECK(loss.numel() == 1 && loss.dtype() == DType::F32, "LossWatch: the loss is ", loss.str(),
            " but expected F32 [1]");
  backend_.copy(ring_.tensor().slice(pending_, pending_ + 1), loss);
  ++pending_;
  ++recorded_;
  if (pending_ == ring_.shape()[0]) check();
}

void LossWatch::check() {
  if (pending_ == 0) return;
  std::vector<float> losses(static_cast<std::size_t>(pending_));
  backend_.copy_to_host(losses.data(), ring_.tensor().slice(0, pending_));
  const std::int64_t first = recorded_ - pending_ + 1;  // the step of losses[0]
  pending_ = 0;
  for (std::size_t i = 0; i < losses.size(); ++i) {
    const std::int64_t step = first + static_cast<std::int64_t>(i);
    if (std::isfinite(losses[i])) {
      last_finite_step_ = step;
      last_finite_loss_ = losses[i];
      continue;
    }
    std::ostringstream message;
    message << "training diverged: the loss is " << losses[i] << " at step " << step << "; ";
    if (last_finite_step_ > 0) {
      message << "the last finite loss was " << last_finite_loss_ << ", at step " << last_finite_step_;
    } else {
      message << "no step had a finite loss";
    }
    message << ". A smaller --lr may train.";
    throw TrainingDiverged(message.str(), __FILE__, __LINE__, step);
  }
}

}  // namespace r50
