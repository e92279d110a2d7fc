#include "train/loss_scale.h"

#include "core/error.h"

namespace r50 {

LossScale::LossScale(const LossScaleParams& params) : params_(params), scale_(params.initial) {
  R50_CHECK(params.initial > 0.0f && params.growth_factor > 1.0f && params.backoff_factor > 0.0f &&
                params.backoff_factor < 1.0f && params.growth_interval > 0,
            "loss scaling needs a positive initial scale, growth above 1, backoff in (0, 1) and a positive "
            "interval, got ",
            params.initial, ", ", params.growth_factor, ", ", params.backoff_factor, ", ", params.growth_interval);
}

void LossScale::update(bool overflow) {
  if (overflow) {
    scale_ *= params_.backoff_factor;
    good_steps_ = 0;
    ++skipped_steps_;
    return;
  }
  if (++good_steps_ == params_.growth_interval) {
    scale_ *= params_.growth_factor;
    good_steps_ = 0;
  }
}

}  // namespace r50
