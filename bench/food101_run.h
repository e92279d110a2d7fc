// defines: Food101RunOptions, Food101Result, run_food101
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "data/loader.h"
#include "memory/allocator.h"
#include "ops/backend.h"
#include "train/evaluate.h"
#include "train/step_timer.h"

namespace r50 {

struct Food101RunOptions {
  std::string data_dir;
  int batch_size = 64;
  int image_size = 224;
  int workers = 0;  // 0: every core
  int steps = 0;    // measured steps; 0: whole epochs
  int epochs = 1;   // measured epochs, when steps is 0
  int warmup = 2;   // steps before the measurement, on the first batches of epoch 0
  std::uint64_t seed = 0;
  float lr = 0.1f;  // SGD with momentum 0.9 and weight decay 1e-4
  bool strict = false;
  bool progress_bar = false;  // redraw the progress in place: `progress` is a terminal
  bool eval = false;          // top-1 over the test split after the measured training
  bool cuda_graph = false;    // train through a GraphTrainStep: captured once, then replayed
  bool unfused = false;       // batch norm, the residual sum and ReLU as separate ops (ResNet50)
  DType compute_dtype = DType::F32;  // F16 or BF16: mixed precision (ResNet50)
  Layout layout = Layout::RowMajor;  // ChannelsLast: NHWC activations (ResNet50)
};

struct Food101Result {
  int classes = 0;
  std::int64_t train_images = 0;   // in the index
  std::int64_t skipped_lines = 0;  // index lines passed over
  std::int64_t steps = 0;          // measured
  std::int64_t images = 0;         // trained on in the measured steps
  double seconds = 0.0;
  double data_wait_seconds = 0.0;  // the measured steps' wait for the loader
  double upload_seconds = 0.0;     // the measured steps' host-to-device copies, on the copy stream
  StepPhases phases;               // the measured steps' device time: forward, backward, optimiser
  float final_loss = 0.0f;
  bool scales_loss = false;        // fp16's dynamic loss scaling (TrainStep): the two figures below
  std::int64_t overflow_skipped_steps = 0;
  float loss_scale = 1.0f;         // at the end
  LoaderStats loader;              // the whole run, warm-up included
  std::int64_t batches_passed_over = 0;  // too few images left (after skips) for batch statistics
  int interrupted_by = 0;          // the signal that stopped the measured steps early; 0: none

  bool evaluated = false;          // with `eval`: the figures below
  std::int64_t test_images = 0;    // in the test index
  EvalResult eval;                 // images: those evaluated, the test split less its skipped images
  LoaderStats eval_loader;         // the test split's; images_skipped are those left out of `eval`
};

// Trains ResNet-50 over the Food-101 training split under `data_dir`, end to end: the loader's
// workers decode and augment, the input pipeline uploads and normalises on the device, SGD with
// lr 0.1·batch/256, momentum 0.9, weight decay 1e-4. Drop-last, so every step has a full batch.
// Progress goes to `progress` once the run passes a few seconds: a bar redrawn in place with
// `progress_bar`, a line every 5 seconds otherwise (report/progress.h).
// With `eval`, the trained model then runs in evaluation mode (running statistics, no gradient,
// no update) over the whole test split, meta/test.txt: a loader with train = false (augment_eval:
// shorter side to S·256/224, centre crop), in index order, the last short batch included. That
// time is not part of `seconds`. The test index is read before training, so a missing or empty
// meta/test.txt is an error that names it before any step runs.
// Every step's loss is watched (LossWatch: a loss that is not finite throws TrainingDiverged). A
// signal caught by an InterruptWatch stops the measured steps between two of them: the figures
// cover the steps done, `interrupted_by` names the signal, and there is no evaluation. A training
// batch left with too few images for batch statistics (one image, at sizes where the last stage
// is 1x1) is passed over and counted, as torch would refuse it.
Food101Result run_food101(Backend& backend, const Food101RunOptions& options, std::ostream& progress);

}  // namespace r50
