// The fused batch norm + (residual +) ReLU ops of Backend, whose defaults compose the separate
// ops: bit for bit the same results as calling those ops, with the aliasing the ops allow, and the
// same argument checks under the fused op's name. The CUDA kernels that override them are compared
// against these in tests/backends (backend_compare_batchnorm.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;

const Shape kShape{3, 5, 7, 9};
constexpr std::int64_t kC = 5;

std::vector<float> values(const HostTensor<float>& tensor) {
  return {tensor.data(), tensor.data() + tensor.numel()};
}

struct Inputs {
  Rng rng{41};
  HostTensor<float> x = reference::uniform<float>(kShape, rng, -2.0, 2.0);
  HostTensor<float> residual = reference::uniform<float>(kShape, rng, -2.0, 2.0);
  HostTensor<float> dy = reference::uniform<float>(kShape, rng);
  HostTensor<float> gamma = reference::uniform<float>({kC}, rng, 0.5, 1.5);
  HostTensor<float> beta = reference::uniform<float>({kC}, rng);
  HostTensor<float> running_mean = reference::uniform<float>({kC}, rng);
  HostTensor<float> running_var = reference::uniform<float>({kC}, rng, 0.5, 2.0);
};

// Everything the training forward writes.
struct Forward {
  HostTensor<float> y{kShape}, saved_mean{{kC}}, saved_invstd{{kC}}, running_mean, running_var;
};

Forward separate_forward(const Inputs& in, bool with_residual) {
  Forward out{.running_mean = in.running_mean, .running_var = in.running_var};
  cpu().batch_norm_forward_training(in.x.view(), in.gamma.view(), in.beta.view(), out.running_mean.view(),
                                    out.running_var.view(), out.y.view(), out.saved_mean.view(),
                                    out.saved_invstd.view(), BatchNormParams{});
  if (with_residual) cpu().add(out.y.view(), in.residual.view(), out.y.view());
  cpu().relu_forward(out.y.view(), out.y.view());
  return out;
}

Forward fused_forward(const Inputs& in, bool with_residual) {
  Forward out{.running_mean = in.running_mean, .running_var = in.running_var};
  cpu().batch_norm_relu_forward_training(in.x.view(), in.gamma.view(), in.beta.view(), out.running_mean.view(),
                                         out.running_var.view(), with_residual ? in.residual.view() : Tensor(),
                                         out.y.view(), out.saved_mean.view(), out.saved_invstd.view(),
                                         BatchNormParams{});
  return out;
}

void expect_same_forward(const Forward& fused, const Forward& separate) {
  EXPECT_EQ(values(fused.y), values(separate.y));
  EXPECT_EQ(values(fused.saved_mean), values(separate.saved_mean));
  EXPECT_EQ(values(fused.saved_invstd), values(separate.saved_invstd));
  EXPECT_EQ(values(fused.running_mean), values(separate.running_mean));
  EXPECT_EQ(values(fused.running_var), values(separate.running_var));
}

TEST(BatchNormReluForwardTraining, IsBatchNormThenRelu) {
  const Inputs in;
  const Forward fused = fused_forward(in, false);
  expect_same_forward(fused, separate_forward(in, false));
  // The ReLU really ran: some outputs are clamped, none is negative.
  const std::vector<float> y = values(fused.y);
  EXPECT_GT(std::count(y.begin(), y.end(), 0.0f), 0);
  EXPECT_GE(*std::min_element(y.begin(), y.end()), 0.0f);
}

TEST(BatchNormReluForwardTraining, AddsTheResidualBeforeTheRelu) {
  const Inputs in;
  const Forward fused = fused_forward(in, true);
  expect_same_forward(fused, separate_forward(in, true));
  EXPECT_NE(values(fused.y), values(fused_forward(in, false).y));
}

// The gradients of the separate ops: g = relu_backward(y, dy), then batch norm's backward of g.
struct Backward {
  HostTensor<float> dx{kShape}, dresidual{kShape}, dgamma{{kC}}, dbeta{{kC}};
};

Backward separate_backward(const Inputs& in, const Forward& forward) {
  Backward out;
  cpu().relu_backward(forward.y.view(), in.dy.view(), out.dresidual.view());
  cpu().batch_norm_backward_training(in.x.view(), out.dresidual.view(), in.gamma.view(), forward.saved_mean.view(),
                                     forward.saved_invstd.view(), out.dx.view(), out.dgamma.view(),
                                     out.dbeta.view());
  return out;
}

TEST(BatchNormReluBackwardTraining, IsReluBackwardThenBatchNormBackward) {
  const Inputs in;
  for (const bool with_residual : {false, true}) {
    SCOPED_TRACE(with_residual ? "with a residual" : "without a residual");
    const Forward forward = fused_forward(in, with_residual);
    const Backward expected = separate_backward(in, forward);
    Backward fused;
    cpu().batch_norm_relu_backward_training(in.x.view(), forward.y.view(), in.dy.view(), in.gamma.view(),
                                            in.beta.view(), forward.saved_mean.view(), forward.saved_invstd.view(),
                                            fused.dx.view(), with_residual ? fused.dresidual.view() : Tensor(),
                                            fused.dgamma.view(), fused.dbeta.view());
    EXPECT_EQ(values(fused.dx), values(expected.dx));
    EXPECT_EQ(values(fused.dgamma), values(expected.dgamma));
    EXPECT_EQ(values(fused.dbeta), values(expected.dbeta));
    if (with_residual) {
      EXPECT_EQ(values(fused.dresidual), values(expected.dresidual));
    }
  }
}

TEST(BatchNormReluBackwardTraining, DxAndDresidualMayAliasDy) {
  const Inputs in;
  const Forward forward = fused_forward(in, true);
  const Backward expected = separate_backward(in, forward);
  HostTensor<float> dx_in_dy = in.dy, dresidual_in_dy = in.dy, dx(kShape), dresidual(kShape), dgamma({kC}),
      dbeta({kC});
  cpu().batch_norm_relu_backward_training(in.x.view(), forward.y.view(), dx_in_dy.view(), in.gamma.view(),
                                          in.beta.view(), forward.saved_mean.view(), forward.saved_invstd.view(),
                                          dx_in_dy.view(), dresidual.view(), dgamma.view(), dbeta.view());
  EXPECT_EQ(values(dx_in_dy), values(expected.dx));
  EXPECT_EQ(values(dresidual), values(expected.dresidual));
  cpu().batch_norm_relu_backward_training(in.x.view(), forward.y.view(), dresidual_in_dy.view(), in.gamma.view(),
                                          in.beta.view(), forward.saved_mean.view(), forward.saved_invstd.view(),
                                          dx.view(), dresidual_in_dy.view(), dgamma.view(), dbeta.view());
  EXPECT_EQ(values(dx), values(expected.dx));
  EXPECT_EQ(values(dresidual_in_dy), values(expected.dresidual));
}

TEST(BatchNormReluChecks, WrongResidualNamesTheFusedOpAndBothShapes) {
  HostTensor<float> x({2, 4, 3, 3}), y({2, 4, 3, 3}), residual({2, 4, 3, 2}), v({4});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().batch_norm_relu_forward_training(x.view(), v.view(), v.view(), v.view(), v.view(), residual.view(),
                                               y.view(), v.view(), v.view(), BatchNormParams{});
      },
      {"batch_norm_relu_forward_training", "residual", "[2, 4, 3, 2]", "[2, 4, 3, 3]"}));
}

TEST(BatchNormReluChecks, BackwardWrongYNamesTheFusedOpAndBothShapes) {
  HostTensor<float> x({2, 4, 3, 3}), y({2, 4, 1, 3}), dy({2, 4, 3, 3}), dx({2, 4, 3, 3}), v({4}), beta({3});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().batch_norm_relu_backward_training(x.view(), y.view(), dy.view(), v.view(), v.view(), v.view(),
                                                v.view(), dx.view(), Tensor(), v.view(), v.view());
      },
      {"batch_norm_relu_backward_training", "y", "[2, 4, 1, 3]", "[2, 4, 3, 3]"}));
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().batch_norm_relu_backward_training(x.view(), dy.view(), dy.view(), v.view(), beta.view(), v.view(),
                                                v.view(), dx.view(), Tensor(), v.view(), v.view());
      },
      {"batch_norm_relu_backward_training", "beta", "[3]", "[4]"}));
}

}  // namespace
}  // namespace r50
