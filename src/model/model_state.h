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
// Under mixed precision the convolutions' and the classifier's parameters also have a compute
// copy, the F32 value (the master weight) rounded to F16 or BF16, which the layers compute with;
// their gradient is then in that dtype too (times the loss scale where one is used).
struct Parameter {
  std::string name;  // "layer1.0.conv1.weight"
  OwnedTensor value;
  OwnedTensor grad;
  OwnedTensor momentum;
  // torch.optim.SGD starts the buffer at the first gradient; under fp16's loss scale the device
  // counts the updates, and this says only that TrainStep has handed the count to it.
  bool momentum_initialized = false;
  OwnedTensor compute_copy;           // mixed precision only
  bool has_compute_copy = false;

  // What the layers compute with: the compute copy where there is one, else the value.
  const Tensor& compute_value() const { return has_compute_copy ? compute_copy.tensor() : value.tensor(); }
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
  // `compute_dtype`: the activations' dtype, F32, or F16 or BF16 for mixed precision.
  // `layout`: the 4-D tensors' (activations and convolution weights), row-major (NCHW) or
  // channels-last (NHWC, what tensor cores read without a transposition).
  explicit ModelState(Backend& backend, DType compute_dtype = DType::F32, Layout layout = Layout::RowMajor);
  ModelState(const ModelState&) = delete;
  ModelState& operator=(const ModelState&) = delete;

  // `computed_in_half`: a parameter that a convolution or the classifier reads, which gets a
  // compute copy under mixed precision; batch norm's stay F32. A 4-D parameter takes the model's
  // layout.
  Parameter& add_parameter(const std::string& name, const Shape& shape, bool computed_in_half = false);
  const Tensor& add_running_statistic(const std::string& name, const Shape& shape);
  std::int64_t& add_batch_counter(const std::string& name);

  Backend& backend() const { return backend_; }
  DType compute_dtype() const { return compute_dtype_; }
  Layout layout() const { return layout_; }
  // An activation of `shape` in the compute dtype (and, 4-D, the model's layout) from the
  // backend's allocator.
  OwnedTensor make_activation(const Shape& shape) const;
  // Rounds every parameter's value into its compute copy: after the values were written other
  // than by an SGD step that did it (initialisation, loading).
  void refresh_compute_copies();
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
  DType compute_dtype_;
  Layout layout_;
  LayerObserver* observer_ = nullptr;
  bool fused_batch_norm_relu_ = true;
  std::deque<Parameter> parameters_;  // deques keep addresses stable as they grow
  std::deque<OwnedTensor> statistics_;
  std::deque<std::int64_t> counters_;
  std::vector<StateEntry> entries_;
};

}  // namespace r50
