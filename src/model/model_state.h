// defines: Parameter, StateEntry, ModelState
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "memory/buffer.h"
#include "model/layer_observer.h"
#include "ops/backend.h"

namespace r50 {

// A trainable tensor with its gradient and SGD momentum buffer, named as torchvision names it.
struct Parameter {
  std::string name;  // "layer1.0.conv1.weight"
  OwnedTensor value;
  OwnedTensor grad;
  OwnedTensor momentum;
  bool momentum_initialized = false;  // torch.optim.SGD starts the buffer at the first gradient
};

// One entry of the model's state_dict, in torchvision's order: parameters, batch-norm running
// statistics (device tensors) and batch counters (num_batches_tracked, kept on the host).
struct StateEntry {
  enum class Kind { Parameter, RunningStatistic, BatchCounter };
  std::string name;
  Kind kind;
  Tensor tensor;                    // Parameter and RunningStatistic
  Parameter* parameter = nullptr;   // Parameter
  std::int64_t* counter = nullptr;  // BatchCounter
};

// Owns every tensor of a model's state and lists it in registration order, so that modules
// register in the order torchvision declares them and the state_dict order follows.
class ModelState {
 public:
  explicit ModelState(Backend& backend) : backend_(backend) {}
  ModelState(const ModelState&) = delete;
  ModelState& operator=(const ModelState&) = delete;

  Parameter& add_parameter(const std::string& name, const Shape& shape);
  const Tensor& add_running_statistic(const std::string& name, const Shape& shape);
  std::int64_t& add_batch_counter(const std::string& name);

  Backend& backend() const { return backend_; }
  // Who hears of each layer's work (none by default); modules ask here at every call.
  LayerObserver* observer() const { return observer_; }
  void set_observer(LayerObserver* observer) { observer_ = observer; }
  // Whether batch norm under batch statistics runs with its ReLU (and residual sum) as one op
  // (Backend::batch_norm_relu_forward_training), as by default, or as separate ops.
  bool fused_batch_norm_relu() const { return fused_batch_norm_relu_; }
  void set_fused_batch_norm_relu(bool fused) { fused_batch_norm_relu_ = fused; }
  const std::vector<StateEntry>& entries() const { return entries_; }
  std::vector<Parameter*> parameters();
  std::int64_t parameter_count() const;

 private:
  Backend& backend_;
  LayerObserver* observer_ = nullptr;
  bool fused_batch_norm_relu_ = true;
  std::deque<Parameter> parameters_;  // deques keep addresses stable as they grow
  std::deque<OwnedTensor> statistics_;
  std::deque<std::int64_t> counters_;
  std::vector<StateEntry> entries_;
};

}  // namespace r50
