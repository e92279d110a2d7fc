#include "model/model_state.h"

namespace r50 {

Parameter& ModelState::add_parameter(const std::string& name, const Shape& shape) {
  Allocator& allocator = backend_.allocator();
  const Device device = backend_.device();
  parameters_.push_back(Parameter{name, OwnedTensor(allocator, shape, DType::F32, device),
                                  OwnedTensor(allocator, shape, DType::F32, device),
                                  OwnedTensor(allocator, shape, DType::F32, device)});
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
