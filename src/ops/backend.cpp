#include "ops/backend.h"

#include <chrono>
#include <vector>

#include "ops/op_checks.h"

namespace r50 {
namespace {

// Where ops run as they are called, the work enqueued so far is the work done so far.
class HostClockTimer final : public Backend::Timer {
 public:
  explicit HostClockTimer(int marks) : marks_(static_cast<std::size_t>(marks)) {}
  void record(int mark) override { marks_.at(static_cast<std::size_t>(mark)) = Clock::now(); }
  double milliseconds(int from, int to) override {
    return std::chrono::duration<double, std::milli>(marks_.at(static_cast<std::size_t>(to)) -
                                                     marks_.at(static_cast<std::size_t>(from)))
        .count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> marks_;
};

}  // namespace

std::unique_ptr<Backend::Timer> Backend::make_timer(int marks) {
  R50_CHECK(marks > 0, "make_timer: ", marks, " marks");
  return std::make_unique<HostClockTimer>(marks);
}

void Backend::sgd_step_all(const std::vector<SgdTensors>& tensors, const SgdParams& params) {
  for (const SgdTensors& entry : tensors) {
    check_sgd_step(entry.param, entry.grad, entry.momentum_buffer, params, device());
  }
  for (const SgdTensors& entry : tensors) {
    sgd_step(entry.param, entry.grad, entry.momentum_buffer, params, entry.first_step);
  }
}

std::int64_t conv_output_size(std::int64_t input, std::int64_t kernel, int stride, int padding) {
  R50_CHECK(stride > 0 && padding >= 0, "stride must be positive and padding not negative, got stride ",
            stride, " padding ", padding);
  const std::int64_t span = input + 2 * padding - kernel;
  R50_CHECK(span >= 0, "a window of ", kernel, " does not fit an input of ", input, " with padding ",
            padding);
  return span / stride + 1;
}

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& params) {
  R50_CHECK(x.rank() == 4 && w.rank() == 4, "conv2d: x ", x.str(), " and w ", w.str(),
            " must both be 4-D");
  R50_CHECK(x[1] == w[1], "conv2d: x ", x.str(), " has ", x[1], " channels but w ", w.str(),
            " expects ", w[1]);
  return {x[0], w[0], conv_output_size(x[2], w[2], params.stride, params.padding),
          conv_output_size(x[3], w[3], params.stride, params.padding)};
}

Shape max_pool2d_output_shape(const Shape& x, const Pool2dParams& params) {
  R50_CHECK(x.rank() == 4, "max_pool2d: x ", x.str(), " must be 4-D");
  R50_CHECK(params.padding * 2 <= params.kernel, "max_pool2d: padding ", params.padding,
            " is more than half the window ", params.kernel);
  return {x[0], x[1], conv_output_size(x[2], params.kernel, params.stride, params.padding),
          conv_output_size(x[3], params.kernel, params.stride, params.padding)};
}

}  // namespace r50
