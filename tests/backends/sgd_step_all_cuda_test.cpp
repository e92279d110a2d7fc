// CudaBackend::sgd_step_all, the one-launch update of many parameters: bit for bit what
// CudaBackend::sgd_step gives tensor by tensor (both run kernels/sgd.cu's sgd_element), and within
// the SGD rows' tolerance of the CPU backend (backend_compare_test.cpp), over ResNet-50's 161
// parameters, over odd sizes, and over more tensors than one launch's kernel parameters hold.
// Bad entries are refused with sgd_step's message. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "backends/backend_compare.h"
#include "backends/cuda_backend_for_tests.h"
#include "gpu_skip.h"
#include "kernels.h"
#include "model/resnet50.h"
#include "ops/op_test_util.h"

namespace r50 {
namespace {

using backend_compare::Stage;
using reference::HostTensor;

// One parameter of a step: its tensors on the host and whether it is its first step.
struct HostEntry {
  HostTensor<float> param, grad, buffer;
  bool first_step;
};

// Random parameters and gradients of `shapes`, first steps and later steps alternating; a first
// step's buffer holds a stale value that must be ignored.
std::vector<HostEntry> random_entries(const std::vector<Shape>& shapes, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<HostEntry> entries;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const bool first_step = i % 2 == 0;
    auto param = backend_compare::uniform(shapes[i], rng);
    auto grad = backend_compare::uniform(shapes[i], rng);
    auto buffer = first_step ? HostTensor<float>(shapes[i], 123.0f)
                             : backend_compare::uniform(shapes[i], rng);
    entries.push_back({std::move(param), std::move(grad), std::move(buffer), first_step});
  }
  return entries;
}

std::vector<Shape> resnet50_parameter_shapes() {
  // Parameters are only allocated, never written, so building the model costs no time.
  const ResNet50 model(cpu(), 1000);
  std::vector<Shape> shapes;
  for (const Parameter* parameter : model.parameters()) shapes.push_back(parameter->value.shape());
  return shapes;
}

enum class Update { TensorByTensor, AllAtOnce };

// One SGD step of `entries` on `backend`; returns the entries after it.
std::vector<HostEntry> step(Backend& backend, const std::vector<HostEntry>& entries,
                            const SgdParams& params, Update update) {
  const bool momentum = params.momentum != 0.0f;
  Stage stage(backend);
  std::vector<SgdTensors> tensors;
  for (const HostEntry& e : entries) {
    tensors.push_back({stage.input(e.param), stage.input(e.grad),
                       momentum ? stage.input(e.buffer) : Tensor(), e.first_step, Tensor()});
  }
  if (update == Update::AllAtOnce) {
    backend.sgd_step_all(tensors, params);
  } else {
    for (const SgdTensors& t : tensors) {
      backend.sgd_step(t.param, t.grad, t.momentum_buffer, params, t.first_step);
    }
  }
  std::vector<HostEntry> after;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    after.push_back({stage.read(tensors[i].param), entries[i].grad,
                     momentum ? stage.read(tensors[i].momentum_buffer) : entries[i].buffer,
                     entries[i].first_step});
  }
  return after;
}

::testing::AssertionResult same_entries(const std::vector<HostEntry>& actual,
                                        const std::vector<HostEntry>& expected) {
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (auto equal = reference::bitwise_equal(actual[i].param, expected[i].param); !equal) {
      return ::testing::AssertionFailure() << "param of entry " << i << ": " << equal.message();
    }
    if (auto equal = reference::bitwise_equal(actual[i].buffer, expected[i].buffer); !equal) {
      return ::testing::AssertionFailure() << "buffer of entry " << i << ": " << equal.message();
    }
  }
  return ::testing::AssertionSuccess();
}

// The bound of backend_compare_test.cpp's SGD rows, element by element: buf = momentum·buf + grad
// + wd·param is a 3-term sum and param - lr·buf 2 more roundings, so each backend is within γ(3)
// and γ(5) of the terms' magnitudes of the exact result. For momentum 0.9 without Nesterov.
::testing::AssertionResult within_cpu_bounds(const std::vector<HostEntry>& cuda_after,
                                             const std::vector<HostEntry>& cpu_after,
                                             const std::vector<HostEntry>& before,
                                             const SgdParams& params) {
  const double buffer_rtol = 2 * backend_compare::sum_bound(3);
  const double param_rtol = 2 * backend_compare::sum_bound(5);
  for (std::size_t t = 0; t < before.size(); ++t) {
    const HostEntry& b = before[t];
    for (std::int64_t i = 0; i < b.param.numel(); ++i) {
      const double buffer_terms = (b.first_step ? 0.0 : params.momentum * std::abs(b.buffer[i])) +
                                  std::abs(b.grad[i]) + params.weight_decay * std::abs(b.param[i]);
      const double param_terms = std::abs(b.param[i]) + params.lr * buffer_terms;
      const double buffer_error =
          std::abs(double(cuda_after[t].buffer[i]) - cpu_after[t].buffer[i]);
      const double param_error = std::abs(double(cuda_after[t].param[i]) - cpu_after[t].param[i]);
      if (!(buffer_error <= buffer_rtol * buffer_terms &&
            param_error <= param_rtol * param_terms)) {
        return ::testing::AssertionFailure()
               << "entry " << t << " element " << i << ": param " << cuda_after[t].param[i]
               << " on cuda, " << cpu_after[t].param[i] << " on cpu; buffer "
               << cuda_after[t].buffer[i] << " on cuda, " << cpu_after[t].buffer[i] << " on cpu";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Per-tensor and all-at-once on the GPU, bit for bit; and the GPU against the CPU.
void expect_matches(const std::vector<Shape>& shapes, std::uint64_t seed) {
  const SgdParams params;  // torch's ResNet recipe: lr 0.1, momentum 0.9, weight decay 1e-4
  const std::vector<HostEntry> before = random_entries(shapes, seed);
  const std::vector<HostEntry> all_at_once = step(cuda(), before, params, Update::AllAtOnce);
  EXPECT_TRUE(same_entries(all_at_once, step(cuda(), before, params, Update::TensorByTensor)));
  EXPECT_TRUE(within_cpu_bounds(all_at_once, step(cpu(), before, params, Update::TensorByTensor),
                                before, params));
}

TEST(SgdStepAllOnCuda, MatchesSgdStepOverResNet50Parameters) {
  R50_REQUIRE_GPU_OR_SKIP();
  const std::vector<Shape> shapes = resnet50_parameter_shapes();
  ASSERT_EQ(shapes.size(), 161u);
  expect_matches(shapes, 101);
}

TEST(SgdStepAllOnCuda, MatchesSgdStepOverOddSizes) {
  R50_REQUIRE_GPU_OR_SKIP();
  expect_matches({{1}, {3}, {1000003}, {7, 13}}, 102);
}

// More tensors than one launch's table holds, so the update splits into three launches (the last
// one partial), with sizes that vary from tensor to tensor.
TEST(SgdStepAllOnCuda, MatchesSgdStepOverMoreTensorsThanOneLaunchHolds) {
  R50_REQUIRE_GPU_OR_SKIP();
  const int tensors = 2 * kernels::sgd_tensors_per_launch() + 3;
  std::cout << "  " << tensors << " tensors, " << kernels::sgd_tensors_per_launch()
            << " per launch\n";
  std::vector<Shape> shapes;
  for (int i = 0; i < tensors; ++i) shapes.push_back({1 + (i * 97) % 3001});
  expect_matches(shapes, 103);
}

struct SgdVariant {
  const char* name;
  SgdParams params;
};

void PrintTo(const SgdVariant& variant, std::ostream* os) { *os << variant.name; }

class SgdStepAllVariantsOnCuda : public ::testing::TestWithParam<SgdVariant> {};

TEST_P(SgdStepAllVariantsOnCuda, EqualsSgdStepBitForBit) {
  R50_REQUIRE_GPU_OR_SKIP();
  const SgdParams& params = GetParam().params;
  const std::vector<HostEntry> before =
      random_entries({{1}, {3}, {1000003}, {64}, {5, 3, 3, 3}}, 104);
  EXPECT_TRUE(same_entries(step(cuda(), before, params, Update::AllAtOnce),
                           step(cuda(), before, params, Update::TensorByTensor)));
}

INSTANTIATE_TEST_SUITE_P(
    Variants, SgdStepAllVariantsOnCuda,
    ::testing::Values(SgdVariant{"Dampening", {0.1f, 0.9f, 1e-4f, 0.25f, false}},
                      SgdVariant{"Nesterov", {0.1f, 0.9f, 1e-4f, 0.0f, true}},
                      SgdVariant{"WithoutMomentum", {0.1f, 0.0f, 5e-4f, 0.0f, false}}),
    [](const ::testing::TestParamInfo<SgdVariant>& info) { return info.param.name; });

// The update enqueues its launches and nothing else: no memory from the allocator, whose every
// byte a CUDA graph capture would have to plan.
TEST(SgdStepAllOnCuda, AllocatesNothing) {
  R50_REQUIRE_GPU_OR_SKIP();
  const std::vector<HostEntry> entries = random_entries(resnet50_parameter_shapes(), 105);
  Stage stage(cuda());
  std::vector<SgdTensors> tensors;
  for (const HostEntry& e : entries) {
    tensors.push_back(
        {stage.input(e.param), stage.input(e.grad), stage.input(e.buffer), e.first_step, Tensor()});
  }
  cuda().sgd_step_all(tensors, {});
  const std::uint64_t allocations = cuda().allocator().stats().allocation_count;
  for (int i = 0; i < 3; ++i) cuda().sgd_step_all(tensors, {});
  cuda().synchronize();
  EXPECT_EQ(cuda().allocator().stats().allocation_count, allocations);
}

// Mixed precision's update: gradients in F16 or BF16 read through a loss scale's grad_scale, and the
// parameters' compute copies rewritten, over ResNet-50's 161 parameters in one call: bit for bit
// sgd_step tensor by tensor followed by cast(param, compute_copy).
TEST(SgdStepAllOnCuda, HalfGradientsAndComputeCopiesEqualSgdStepThenCast) {
  R50_REQUIRE_GPU_OR_SKIP();
  SgdParams params;
  params.grad_scale = 1.0f / 1024.0f;
  for (DType dtype : {DType::F16, DType::BF16}) {
    const std::vector<HostEntry> entries = random_entries(resnet50_parameter_shapes(), 107);
    Backend& gpu = cuda();
    // Each way from the same start: param, grad (rounded to dtype), buffer and a compute copy.
    struct OnDevice {
      OwnedTensor param, grad, buffer, copy;
    };
    const auto upload = [&](const HostEntry& e) {
      OnDevice d{OwnedTensor(gpu.allocator(), e.param.shape(), DType::F32, gpu.device()),
                 OwnedTensor(gpu.allocator(), e.param.shape(), dtype, gpu.device()),
                 OwnedTensor(gpu.allocator(), e.param.shape(), DType::F32, gpu.device()),
                 OwnedTensor(gpu.allocator(), e.param.shape(), dtype, gpu.device())};
      gpu.copy_from_host(d.param, e.param.data());
      gpu.copy_from_host(d.buffer, e.buffer.data());
      const OwnedTensor grad_f32(gpu.allocator(), e.param.shape(), DType::F32, gpu.device());
      gpu.copy_from_host(grad_f32, e.grad.data());
      gpu.cast(grad_f32, d.grad);
      return d;
    };
    std::vector<OnDevice> all_at_once, tensor_by_tensor;
    std::vector<SgdTensors> tensors;
    for (const HostEntry& e : entries) {
      all_at_once.push_back(upload(e));
      tensor_by_tensor.push_back(upload(e));
      const OnDevice& d = all_at_once.back();
      tensors.push_back({d.param, d.grad, d.buffer, e.first_step, d.copy});
    }
    gpu.sgd_step_all(tensors, params);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const OnDevice& d = tensor_by_tensor[i];
      gpu.sgd_step(d.param, d.grad, d.buffer, params, entries[i].first_step);
      gpu.cast(d.param, d.copy);
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
      for (auto member : {&OnDevice::param, &OnDevice::buffer, &OnDevice::copy}) {
        const Tensor& a = all_at_once[i].*member;
        std::vector<std::uint8_t> x(a.nbytes()), y(a.nbytes());
        gpu.copy_to_host(x.data(), a);
        gpu.copy_to_host(y.data(), tensor_by_tensor[i].*member);
        ASSERT_EQ(x, y) << dtype_name(dtype) << " entry " << i << " " << a.str();
      }
    }
  }
}

// What `call` throws, or "" when it throws nothing.
template <typename Call>
std::string message_of(Call&& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

// A bad entry after good ones: sgd_step_all throws sgd_step's message and leaves the good ones as
// they were.
void expect_refused_as_sgd_step(const SgdTensors& bad, const std::vector<std::string>& parts) {
  const std::vector<HostEntry> good = random_entries({{3}, {1001}}, 106);
  Stage stage(cuda());
  std::vector<SgdTensors> tensors;
  for (const HostEntry& e : good) {
    tensors.push_back(
        {stage.input(e.param), stage.input(e.grad), stage.input(e.buffer), e.first_step, Tensor()});
  }
  tensors.push_back(bad);
  const std::string expected = message_of(
      [&] { cuda().sgd_step(bad.param, bad.grad, bad.momentum_buffer, {}, bad.first_step); });
  for (const std::string& part : parts) {
    EXPECT_NE(expected.find(part), std::string::npos) << expected;
  }
  EXPECT_EQ(message_of([&] { cuda().sgd_step_all(tensors, {}); }), expected);
  for (std::size_t i = 0; i < good.size(); ++i) {
    EXPECT_TRUE(reference::bitwise_equal(stage.read(tensors[i].param), good[i].param)) << "entry " << i;
  }
}

TEST(SgdStepAllOnCuda, RefusesMismatchedShapesAsSgdStep) {
  R50_REQUIRE_GPU_OR_SKIP();
  Stage stage(cuda());
  const SgdTensors bad{stage.output({2, 3}), stage.output({3, 2}), stage.output({2, 3}), true, Tensor()};
  expect_refused_as_sgd_step(bad, {"sgd_step", "grad", "[3, 2]", "[2, 3]"});
}

TEST(SgdStepAllOnCuda, RefusesATensorOnTheHostAsSgdStep) {
  R50_REQUIRE_GPU_OR_SKIP();
  HostTensor<float> host_grad({2, 3});
  Stage stage(cuda());
  const SgdTensors bad{stage.output({2, 3}), host_grad.view(), stage.output({2, 3}), true, Tensor()};
  expect_refused_as_sgd_step(bad, {"sgd_step", "grad", "on cpu", "tensor on cuda"});
}

}  // namespace
}  // namespace r50
