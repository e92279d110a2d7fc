// Top-1 evaluation on the CPU backend over a tree of solid-colour images: every test image counted
// once, predictions the class of the largest logit, skipped images left out, the model unchanged.
#include "train/evaluate.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "memory/host_allocator.h"
#include "train/food101_tree.h"

namespace r50 {
namespace {

constexpr int kClasses = 3, kPerClass = 2, kTestPerClass = 3, kBatch = 4, kSize = 32;

LoaderOptions test_loader_options() {
  LoaderOptions options;
  options.batch_size = kBatch;  // 9 test images: batches of 4, 4 and a short 1
  options.image_size = kSize;
  options.workers = 2;
  options.train = false;
  return options;
}

Food101Index test_split(const std::string& folder) {
  const SolidTree tree = write_solid_food101_tree(std::filesystem::temp_directory_path() / folder, kClasses,
                                                  kPerClass, kTestPerClass);
  return read_food101_index(tree.root.string(), Split::Test);
}

// evaluate_top1 over the whole test split, as bench_resnet50 --eval runs it.
EvalResult evaluate(ResNet50& model, const Food101Index& index, LoaderStats* stats = nullptr) {
  HostAllocator host_memory;
  Loader loader(index, test_loader_options(), host_memory);
  InputPipeline input(model.backend(), loader);
  input.start_epoch(0);
  const EvalResult result = evaluate_top1(model, input);
  if (stats != nullptr) *stats = loader.stats();
  return result;
}

Parameter& parameter(ResNet50& model, const std::string& name) {
  for (Parameter* p : model.parameters()) {
    if (p->name == name) return *p;
  }
  throw std::runtime_error("no parameter " + name);
}

// A classifier whose logits are its bias alone: fc.weight 0, fc.bias `bias`.
void set_classifier_bias(ResNet50& model, const std::vector<float>& bias) {
  model.backend().fill(parameter(model, "fc.weight").value, 0.0f);
  model.backend().copy_from_host(parameter(model, "fc.bias").value, bias.data());
}

std::vector<float> to_host(Backend& backend, const Tensor& tensor) {
  std::vector<float> values(static_cast<std::size_t>(tensor.numel()));
  backend.copy_to_host(values.data(), tensor);
  return values;
}

int argmax(const float* row, int n) {
  int best = 0;
  for (int c = 1; c < n; ++c) {
    if (row[c] > row[best]) best = c;
  }
  return best;
}

TEST(EvaluateTop1, CountsTheTestImagesOfTheClassEveryImageIsPredictedAs) {
  const auto backend = make_cpu_backend(2);
  const Food101Index index = test_split("r50_evaluate_favoured_class");
  ResNet50 model(*backend, kClasses);
  model.initialize(1);
  for (int favoured = 0; favoured < kClasses; ++favoured) {
    std::vector<float> bias(kClasses, 0.0f);
    bias[static_cast<std::size_t>(favoured)] = 1.0f;
    set_classifier_bias(model, bias);
    const EvalResult result = evaluate(model, index);
    EXPECT_EQ(result.images, kClasses * kTestPerClass) << "class " << favoured;
    EXPECT_EQ(result.batches, 3) << "class " << favoured;
    EXPECT_EQ(result.correct, kTestPerClass) << "class " << favoured;
    EXPECT_DOUBLE_EQ(result.top1(), 1.0 / kClasses);
    EXPECT_GT(result.images_per_second(), 0.0);
  }
}

TEST(EvaluateTop1, BreaksATieForTheFirstClassAsTorchArgmaxDoes) {
  const auto backend = make_cpu_backend(2);
  const Food101Index index = test_split("r50_evaluate_tie");
  ResNet50 model(*backend, kClasses);
  model.initialize(1);
  set_classifier_bias(model, std::vector<float>(kClasses, 0.5f));
  EXPECT_EQ(evaluate(model, index).correct, kTestPerClass);  // every image predicted as class 0
}

TEST(EvaluateTop1, LeavesOutAnImageTheLoaderSkips) {
  const auto backend = make_cpu_backend(2);
  const Food101Index index = test_split("r50_evaluate_skipped");
  const Food101Entry& broken = index.entries.front();  // class 0's first test image
  std::ofstream(index.image_path(broken), std::ios::trunc) << "not a JPEG";
  ResNet50 model(*backend, kClasses);
  model.initialize(1);
  std::vector<float> bias(kClasses, 0.0f);
  bias[static_cast<std::size_t>(broken.label)] = 1.0f;
  set_classifier_bias(model, bias);
  LoaderStats stats;
  const EvalResult result = evaluate(model, index, &stats);
  EXPECT_EQ(stats.images_skipped, 1u);
  EXPECT_EQ(result.images, kClasses * kTestPerClass - 1);
  EXPECT_EQ(result.correct, kTestPerClass - 1);
}

// The bookkeeping against a direct recomputation: the loader's batches, normalised by the backend,
// through forward under the running statistics, argmax of the logits on the host.
TEST(EvaluateTop1, AgreesWithAnArgmaxOverTheSameBatches) {
  const auto backend = make_cpu_backend(2);
  const Food101Index index = test_split("r50_evaluate_recomputed");
  ResNet50 model(*backend, kClasses);
  model.initialize(7);
  const EvalResult result = evaluate(model, index);

  HostAllocator host_memory;
  Loader loader(index, test_loader_options(), host_memory);
  loader.start_epoch(0);
  std::int64_t images = 0, correct = 0;
  while (const std::optional<LoadedBatch> batch = loader.next()) {
    const OwnedTensor raw(backend->allocator(), batch->images().shape(), DType::U8, backend->device());
    const std::int64_t n = batch->labels().numel();
    const OwnedTensor normalised(backend->allocator(), {n, 3, kSize, kSize}, DType::F32, backend->device());
    backend->copy_from_host(raw, batch->images().data());
    backend->normalize_images(raw, normalised, kImageNetMean, kImageNetStd);
    const std::vector<float> logits = to_host(*backend, model.forward(normalised, BatchNormMode::RunningStatistics));
    const std::int32_t* labels = batch->labels().data_as<std::int32_t>();
    for (std::int64_t i = 0; i < n; ++i) correct += argmax(logits.data() + i * kClasses, kClasses) == labels[i];
    images += n;
  }
  EXPECT_EQ(result.images, images);
  EXPECT_EQ(result.images, kClasses * kTestPerClass);
  EXPECT_EQ(result.correct, correct);
}

TEST(EvaluateTop1, ChangesNoParameterAndNoRunningStatistic) {
  const auto backend = make_cpu_backend(2);
  const Food101Index index = test_split("r50_evaluate_unchanged");
  ResNet50 model(*backend, kClasses);
  model.initialize(3);
  const auto snapshot = [&] {
    std::vector<std::vector<float>> values;
    for (const StateEntry& entry : model.state()) {
      if (entry.kind == StateEntry::Kind::BatchCounter) {
        values.push_back({static_cast<float>(*entry.counter)});
      } else {
        values.push_back(to_host(*backend, entry.tensor));
      }
    }
    return values;
  };
  const std::vector<std::vector<float>> before = snapshot();
  evaluate(model, index);
  const std::vector<std::vector<float>> after = snapshot();
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i], after[i]) << model.state()[i].name;
}

}  // namespace
}  // namespace r50
