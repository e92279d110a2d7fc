// defines: EvalResult, evaluate_top1
#pragma once

#include <cstdint>
#include <functional>

#include "model/resnet50.h"
#include "train/input_pipeline.h"

namespace r50 {

struct EvalResult {
  std::int64_t images = 0;   // evaluated: the images of every batch the pipeline handed out
  std::int64_t correct = 0;  // whose prediction is their label
  std::int64_t batches = 0;
  double seconds = 0.0;      // the whole loop: waits for data, forward, copies to the host

  double top1() const { return images > 0 ? static_cast<double>(correct) / static_cast<double>(images) : 0.0; }
  double images_per_second() const { return seconds > 0 ? static_cast<double>(images) / seconds : 0.0; }
};

// Top-1 accuracy of `model` over the batches left in `input`'s current epoch (the caller starts
// it, on a loader with train = false for the test split): forward under the running statistics,
// with no loss, gradient or update. Each batch's logits come to the host once; the prediction is
// the class with the largest logit, the first of equals (torch.argmax). Images the loader skipped
// never reach a batch, so they count in neither figure: its statistics say how many. `on_batch`,
// when given, sees the totals after each batch (a progress display).
EvalResult evaluate_top1(ResNet50& model, InputPipeline& input,
                         const std::function<void(const EvalResult&)>& on_batch = {});

}  // namespace r50
