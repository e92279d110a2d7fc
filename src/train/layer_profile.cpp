#include "train/layer_profile.h"

#include <algorithm>
#include <map>
#include <memory>

namespace r50 {
namespace {

// Two marks of the backend's timer around each layer's work; read once the step has finished.
class LayerTimer final : public LayerObserver {
 public:
  explicit LayerTimer(Backend& backend) : timer_(backend.make_timer(kMarks)) {}

  void begin(const std::string& layer, Pass pass) override {
    R50_CHECK(spans_.size() * 2 + 2 <= kMarks, "--profile-layers: more than ", kMarks / 2,
              " layer calls in one step");
    timer_->record(static_cast<int>(spans_.size() * 2));
    spans_.push_back({&layer, pass});
  }
  void end() override { timer_->record(static_cast<int>(spans_.size() * 2 - 1)); }

  // Adds this step's spans into `layers` (new names at the end, `index` finds them), then forgets them.
  void read_into(std::vector<LayerTime>& layers, std::map<std::string, std::size_t>& index) {
    for (std::size_t i = 0; i < spans_.size(); ++i) {
      const double ms = timer_->milliseconds(static_cast<int>(2 * i), static_cast<int>(2 * i + 1));
      const auto [where, added] = index.emplace(*spans_[i].layer, layers.size());
      if (added) layers.push_back({*spans_[i].layer, 0, 0});
      LayerTime& time = layers[where->second];
      (spans_[i].pass == Pass::Forward ? time.forward_ms : time.backward_ms) += ms;
    }
    spans_.clear();
  }

 private:
  static constexpr std::size_t kMarks = 4096;  // ResNet-50 makes about 350 layer calls per step
  struct Span {
    const std::string* layer;  // the module's own name, which outlives the step
    Pass pass;
  };
  std::unique_ptr<Backend::Timer> timer_;
  std::vector<Span> spans_;
};

}  // namespace

double LayerProfile::forward_ms() const {
  double sum = 0;
  for (const LayerTime& layer : layers) sum += layer.forward_ms;
  return sum;
}

double LayerProfile::backward_ms() const {
  double sum = 0;
  for (const LayerTime& layer : layers) sum += layer.backward_ms;
  return sum;
}

std::vector<LayerTime> LayerProfile::slowest(std::size_t count) const {
  std::vector<LayerTime> sorted = layers;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const LayerTime& a, const LayerTime& b) { return a.total_ms() > b.total_ms(); });
  if (sorted.size() > count) sorted.resize(count);
  return sorted;
}

LayerProfile profile_layers(TrainStep& step, const Tensor& images, const Tensor& labels, int steps) {
  R50_CHECK(steps > 0, "profile_layers: ", steps, " steps");
  ResNet50& model = step.model();
  Backend& backend = model.backend();
  step.run(images, labels);  // plans and memory in place, so that no first-time cost is profiled

  LayerTimer layer_timer(backend);
  StepTimer step_timer(backend, 1);
  std::map<std::string, std::size_t> index;
  LayerProfile profile;
  LayerObserver* before = model.observer();
  model.set_observer(&layer_timer);
  try {
    for (int i = 0; i < steps; ++i) {
      step.run(images, labels, &step_timer);
      backend.synchronize();
      layer_timer.read_into(profile.layers, index);
    }
  } catch (...) {
    model.set_observer(before);
    throw;
  }
  model.set_observer(before);
  step_timer.flush();

  profile.steps = steps;
  profile.step_ms = step_timer.totals().step_ms() / steps;
  for (LayerTime& layer : profile.layers) {
    layer.forward_ms /= steps;
    layer.backward_ms /= steps;
  }
  return profile;
}

}  // namespace r50
