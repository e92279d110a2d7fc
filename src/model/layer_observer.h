// defines: Pass, LayerObserver, observed
#pragma once

#include <string>

namespace r50 {

enum class Pass { Forward, Backward };

// Told where each layer's work begins and ends, in the order that work is enqueued, with
// torchvision's module names ("layer1.0.conv1"; "layer1.0.relu" for the block's three ReLUs, which
// torchvision also shares; "layer1.0.add" for the residual sum). Where batch norm runs fused with
// the ReLU (and the sum) after it, the fused op is the batch norm's ("layer1.0.bn3"), and the
// backward's sum is the convolutions' that add into their input's gradient: no ReLU or add is
// then observed. The per-layer profile (train/layer_profile.h) records device-timer marks there.
class LayerObserver {
 public:
  virtual ~LayerObserver() = default;
  virtual void begin(const std::string& layer, Pass pass) = 0;
  virtual void end() = 0;
};

// Runs `work` between the observer's begin and end; just runs it when there is no observer.
template <typename Work>
void observed(LayerObserver* observer, const std::string& layer, Pass pass, Work&& work) {
  if (observer) observer->begin(layer, pass);
  work();
  if (observer) observer->end();
}

}  // namespace r50
