#include "train/evaluate.h"

#include <chrono>
#include <cstddef>
#include <vector>

#include "core/host.h"

namespace r50 {

EvalResult evaluate_top1(ResNet50& model, InputPipeline& input,
                         const std::function<void(const EvalResult&)>& on_batch) {
  Backend& backend = model.backend();
  const int classes = model.num_classes();
  EvalResult result;
  std::vector<std::int32_t> labels;
  const auto start = std::chrono::steady_clock::now();
  while (const std::optional<InputBatch> batch = input.next()) {
    const Tensor& output = model.forward(batch->images, BatchNormMode::RunningStatistics);
    const std::int64_t n = batch->labels.numel();
    labels.resize(static_cast<std::size_t>(n));
    backend.copy_to_host(labels.data(), batch->labels);
    const std::vector<float> logits = copy_to_host_as_floats(backend, output);  // waits for the forward
    for (std::int64_t i = 0; i < n; ++i) {
      const float* row = logits.data() + i * classes;
      int predicted = 0;
      for (int c = 1; c < classes; ++c) {
        if (row[c] > row[predicted]) predicted = c;
      }
      if (predicted == labels[static_cast<std::size_t>(i)]) ++result.correct;
    }
    result.images += n;
    ++result.batches;
    result.seconds = seconds_since(start);
    if (on_batch) on_batch(result);
  }
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace r50
