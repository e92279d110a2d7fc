#include "train/verify.h"

#include <cstdint>
#include <cstring>

#include "model/state_dict.h"
#include "train/train_step.h"

namespace r50 {
namespace {

struct Batch {
  Shape image_shape;
  std::vector<std::int32_t> labels;
};

// Checks the input file's two tensors and returns the labels as I32, range-checked.
Batch read_batch(const SafetensorsFile& input, int classes) {
  for (const std::string& name : input.names()) {
    R50_CHECK(name == "images" || name == "labels", input.path(), ": unknown tensor '", name,
              "' (an input file holds exactly 'images' and 'labels')");
  }
  const StoredTensor& images = input.at("images");
  R50_CHECK(images.dtype == DType::F32 && images.shape.rank() == 4 && images.shape[1] == 3,
            input.path(), ": tensor 'images' is ", dtype_name(images.dtype), images.shape.str(),
            " but expected F32[N, 3, H, W] (normalised RGB)");
  const std::int64_t n = images.shape[0];
  R50_CHECK(n > 0 && images.shape[2] > 0 && images.shape[3] > 0, input.path(),
            ": tensor 'images' is empty: ", images.shape.str());

  const StoredTensor& labels = input.at("labels");
  R50_CHECK((labels.dtype == DType::I64 || labels.dtype == DType::I32) && labels.shape == Shape{n},
            input.path(), ": tensor 'labels' is ", dtype_name(labels.dtype), labels.shape.str(),
            " but expected I64 or I32 [", n, "], one per image");
  Batch batch{images.shape, std::vector<std::int32_t>(static_cast<std::size_t>(n))};
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t label = 0;
    if (labels.dtype == DType::I64) {
      std::memcpy(&label, labels.bytes.data() + i * 8, 8);
    } else {
      std::int32_t narrow = 0;
      std::memcpy(&narrow, labels.bytes.data() + i * 4, 4);
      label = narrow;
    }
    R50_CHECK(0 <= label && label < classes, input.path(), ": tensor 'labels' has ", label,
              " at index ", i, ", outside [0, ", classes, ")");
    batch.labels[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(label);
  }
  return batch;
}

}  // namespace

NamedTensors verify_step(Backend& backend, const SafetensorsFile& weights, const SafetensorsFile& input,
                         BatchNormMode bn_mode, std::optional<int> classes, DType compute_dtype,
                         Layout layout) {
  if (!classes) {
    const StoredTensor& fc = weights.at("fc.weight");
    R50_CHECK(fc.shape.rank() == 2 && fc.shape[0] > 0 && fc.shape[0] <= INT32_MAX, weights.path(),
              ": tensor 'fc.weight' is ", fc.shape.str(), " but expected [classes, 2048]");
    classes = static_cast<int>(fc.shape[0]);
  }
  R50_CHECK(*classes > 0, "the class count must be positive, got ", *classes);
  const Batch batch = read_batch(input, *classes);

  ResNet50 model(backend, *classes, compute_dtype, layout);
  load_state_dict(model, weights);

  const Device device = backend.device();
  const OwnedTensor images(backend.allocator(), batch.image_shape, DType::F32, device, layout);
  copy_from_host_nchw(backend, images, input.at("images").bytes.data());
  const OwnedTensor labels(backend.allocator(), {batch.image_shape[0]}, DType::I32, device);
  backend.copy_from_host(labels, batch.labels.data());

  // Under fp16's loss scaling, GradScaler's first scale, halved (from the weights again) while the
  // gradients overflow, as a training run's skipped steps would.
  LossScaleParams scaling;
  std::optional<TrainStep> trained;
  for (;;) {
    trained.emplace(model, SgdParams{}, scaling);
    trained->forward_backward(images, labels, bn_mode);
    if (!trained->scales_loss() || !trained->gradients_overflowed()) break;
    R50_CHECK(scaling.initial > 1.0f, "verify: the gradients overflow fp16 even without loss scaling");
    scaling.initial /= 2;
    load_state_dict(model, weights);
  }
  TrainStep& step = *trained;

  NamedTensors results;
  // F32 results whatever the compute dtype, unscaled.
  const auto as_f32 = [&backend](const Tensor& tensor, float scale) {
    std::vector<float> values = copy_to_host_as_floats(backend, tensor);
    for (float& value : values) value /= scale;
    StoredTensor stored = make_stored(DType::F32, tensor.shape());
    std::memcpy(stored.bytes.data(), values.data(), stored.bytes.size());
    return stored;
  };
  results.emplace_back("logits", as_f32(step.logits(), 1.0f));
  StoredTensor loss = make_stored(DType::F32, {1});
  const float loss_value = step.loss();
  std::memcpy(loss.bytes.data(), &loss_value, sizeof(float));
  results.emplace_back("loss", std::move(loss));
  for (const Parameter* parameter : model.parameters()) {
    results.emplace_back("grad/" + parameter->name, as_f32(parameter->grad, step.loss_scale()));
  }
  if (bn_mode == BatchNormMode::BatchStatistics) {
    for (const StateEntry& entry : model.state()) {
      if (entry.kind == StateEntry::Kind::Parameter) continue;
      results.emplace_back("state/" + entry.name, to_stored(backend, entry));
    }
  }
  return results;
}

NamedTensors run_verification(Backend& backend, const VerifyOptions& options) {
  const SafetensorsFile weights = read_safetensors(options.weights_path);
  const SafetensorsFile input = read_safetensors(options.input_path);
  NamedTensors results =
      verify_step(backend, weights, input, options.bn_mode, options.classes, options.compute_dtype, options.layout);
  write_safetensors(options.output_path, results);
  return results;
}

}  // namespace r50
