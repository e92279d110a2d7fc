#include "model/model_state.h"

namespace r50 {

ModelState::ModelState(Backend& backend, DType compute_dtype, Layout layout)
    : backend_(backend), compute_dtype_(compute_dtype), layout_(layout) {
  R50_CHECK(compute_dtype == DType::F32 || compute_dtype == DType::F16 || compute_dtype == DType::BF16,
            "a model computes in F32, F16 or BF16, not ", dtype_name(compute_dtype));
}

Parameter& ModelState::add_parameter(const std::string& name, const Shape& shape, bool computed_in_half) {
  Allocator& allocator = backend_.allocator();
  const Device device = backend_.device();
  const bool copy = computed_in_half && compute_dtype_ != DType::F32;
  const DType grad_dtype = copy ? compute_dtype_ : DType::F32;
  const Layout layout = shape.rank() == 4 ? layout_ : Layout::RowMajor;
  parameters_.push_back(Parameter{name, OwnedTensor(allocator, shape, DType::F32, device, layout),
                                  OwnedTensor(allocator, shape, grad_dtype, device, layout),
                                  OwnedTensor(allocator, shape, DType::F32, device, layout), false,
                                  copy ? OwnedTensor(allocator, shape, compute_dtype_, device, layout) : OwnedTensor(),
                                  copy});
  Parameter& parameter = parameters_.back();
  entries_.push_back({name, StateEntry::Kind::Parameter, parameter.value, &parameter, nullptr});
  return parameter;
}

const Tensor& ModelState::add_running_statistic(const std::string& name, const Shape& shape) {
  statistics_.emplace_back(backend_.allocator(), shape, DType::F32, backend_.device());
  entries_.push_back({name, StateEntry::Kind::RunningStatistic, statistics_.back(), nullptr, nullptr});
  return statistics_.back().tensor();
}

std::int64_t& ModelState::add_batch_counter(const std::string& name) {
  counters_.push_back(0);
  entries_.push_back({name, StateEntry::Kind::BatchCounter, Tensor(), nullptr, &counters_.back()});
  return counters_.back();
}

OwnedTensor ModelState::make_activation(const Shape& shape) const {
  return OwnedTensor(backend_.allocator(), shape, compute_dtype_, backend_.device(),
                     shape.rank() == 4 ? layout_ : Layout::RowMajor);
}

void ModelState::refresh_compute_copies() {
  for (Parameter& parameter : parameters_) {
    if (parameter.has_compute_copy) backend_.cast(parameter.value, parameter.compute_copy);
  }
}

std::vector<Parameter*> ModelState::parameters() {
  std::vector<Parameter*> result;
  for (Parameter& parameter : parameters_) result.push_back(&parameter);
  return result;
}

std::int64_t ModelState::parameter_count() const {
  std::int64_t count = 0;
  for (const Parameter& parameter : parameters_) count += parameter.value.numel();
  return count;
}

}  // namespace r50
