// defines: LossScaleParams, LossScale
#pragma once

#include <cstdint>

namespace r50 {

// torch.cuda.amp.GradScaler's dynamic loss scaling, with its defaults. fp16 gradients below about
// 6e-8 flush to zero; scaling the loss scales every gradient up out of that range.
struct LossScaleParams {
  float initial = 65536.0f;
  float growth_factor = 2.0f;
  float backoff_factor = 0.5f;
  int growth_interval = 2000;
};

// The scale of one run. After each step's gradients were tested for infinities and NaNs: one
// that overflowed is skipped (no update) and counted, and halves the scale; growth_interval
// steps in a row without an overflow double it.
class LossScale {
 public:
  explicit LossScale(const LossScaleParams& params = {});

  float scale() const { return scale_; }
  void update(bool overflow);
  std::int64_t skipped_steps() const { return skipped_steps_; }

 private:
  LossScaleParams params_;
  float scale_;
  int good_steps_ = 0;
  std::int64_t skipped_steps_ = 0;
};

}  // namespace r50
