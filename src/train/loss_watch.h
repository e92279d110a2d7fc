// defines: TrainingDiverged, LossWatch
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "memory/buffer.h"
#include "ops/backend.h"

namespace r50 {

// Thrown when a training step's loss is NaN or infinite: the run cannot mean anything after it.
class TrainingDiverged : public Error {
 public:
  TrainingDiverged(const std::string& message, const char* file, int line, std::int64_t step)
      : Error(message, file, line), step_(step) {}
  std::int64_t step() const { return step_; }  // the first step whose loss was not finite, from 1

 private:
  std::int64_t step_;
};

// Watches the loss of every training step without making the host wait for each one: record()
// copies the step's loss (a device scalar) into a device ring, and every `check_every` steps, and
// at check(), the ring is read at once. The first loss that is not finite throws TrainingDiverged,
// naming its step (counted from 1, over every step recorded) and the last finite loss before it.
class LossWatch {
 public:
  explicit LossWatch(Backend& backend, int check_every = 20);

  void record(const Tensor& loss);  // F32 [1] on the backend's device, as TrainStep leaves it
  void check();                     // reads what was recorded since the last check

  std::int64_t steps() const { return recorded_; }

 private:
  Backend& backend_;
  OwnedTensor ring_;
  int pending_ = 0;              // recorded since the last check, at ring_[0 .. pending_)
  std::int64_t recorded_ = 0;
  std::int64_t last_finite_step_ = 0;
  float last_finite_loss_ = 0.0f;
};

}  // namespace r50
