// Softmax cross-entropy against its oracle, its stability on large logits, the oracle's backward
// against finite differences, and the label checks.
#include "reference/softmax_cross_entropy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "ops/backend.h"
#include "ops/op_test_util.h"
#include "reference/numerics.h"

namespace r50 {
namespace {

using reference::HostTensor;
using reference::kF32UnitRoundoff;

constexpr std::int64_t kN = 7, kK = 101;  // Food-101's classes

HostTensor<std::int32_t> label_tensor(const std::vector<std::int32_t>& labels) {
  HostTensor<std::int32_t> tensor({static_cast<std::int64_t>(labels.size())});
  for (std::size_t i = 0; i < labels.size(); ++i) tensor[static_cast<std::int64_t>(i)] = labels[i];
  return tensor;
}

std::vector<std::int32_t> random_labels(Rng& rng, std::int64_t n, std::int64_t k) {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(n));
  for (auto& label : labels)
    label = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(k)));
  return labels;
}

TEST(SoftmaxCrossEntropyForward, MatchesOracle) {
  Rng rng(71);
  const auto logits = reference::uniform<float>({kN, kK}, rng, -8.0, 8.0);
  const auto labels = random_labels(rng, kN, kK);
  HostTensor<float> probs({kN, kK}, 7.0f), loss({1}, 7.0f);
  cpu().softmax_cross_entropy_forward(logits.view(), label_tensor(labels).view(), probs.view(),
                                      loss.view());
  const auto expected = reference::softmax_cross_entropy_forward(logits.cast<double>(), labels);
  // Both are computed in double (exp and log are good to a few 2^-53) and rounded once to fp32.
  const double rtol = kF32UnitRoundoff + reference::fp64_sum_error_bound(kK);
  EXPECT_TRUE(reference::all_close(probs, expected.probs, 0.0, rtol));
  EXPECT_NEAR(loss[0], expected.loss, rtol * std::abs(expected.loss));
}

TEST(SoftmaxCrossEntropyForward, StaysFiniteForHugeLogits) {
  // exp(1000) overflows even double; through the log-sum-exp the loss is
  // 1000 + log(1 + e^-1000) - 0 = 1000 for a row that bets everything on the wrong class.
  HostTensor<float> logits({1, 2}), probs({1, 2}), loss({1});
  logits[0] = 1000.0f;
  logits[1] = 0.0f;
  cpu().softmax_cross_entropy_forward(logits.view(), label_tensor({1}).view(), probs.view(),
                                      loss.view());
  EXPECT_EQ(loss[0], 1000.0f);
  EXPECT_EQ(probs[0], 1.0f);
  EXPECT_EQ(probs[1], 0.0f);
}

TEST(SoftmaxCrossEntropyBackward, MatchesOracle) {
  Rng rng(72);
  const auto logits = reference::uniform<float>({kN, kK}, rng, -8.0, 8.0);
  const auto labels = random_labels(rng, kN, kK);
  HostTensor<float> probs({kN, kK}), loss({1}), dlogits({kN, kK}, 7.0f);
  cpu().softmax_cross_entropy_forward(logits.view(), label_tensor(labels).view(), probs.view(),
                                      loss.view());
  const float loss_grad = 0.75f;
  cpu().softmax_cross_entropy_backward(probs.view(), label_tensor(labels).view(), dlogits.view(),
                                       loss_grad);
  const auto expected =
      reference::softmax_cross_entropy_backward(probs.cast<double>(), labels, double(loss_grad));
  // loss_grad/N rounded, probs - onehot rounded, their product rounded: three roundings.
  EXPECT_TRUE(reference::all_close(dlogits, expected, 0.0, reference::fp32_roundings(3)));
}

TEST(SoftmaxCrossEntropyOracle, BackwardMatchesFiniteDifferences) {
  Rng rng(73);
  auto logits = reference::uniform<double>({3, 5}, rng, -3.0, 3.0);
  const std::vector<std::int32_t> labels = {4, 0, 2};
  const double loss_grad = 1.5;
  const auto numeric = reference::numerical_gradient(logits, [&] {
    return loss_grad * reference::softmax_cross_entropy_forward(logits, labels).loss;
  });
  const auto probs = reference::softmax_cross_entropy_forward(logits, labels).probs;
  EXPECT_TRUE(reference::gradient_close(
      reference::softmax_cross_entropy_backward(probs, labels, loss_grad), numeric));
}

TEST(SoftmaxCrossEntropyChecks, LabelOutOfRangeNamesItsBatchIndexAndValue) {
  HostTensor<float> logits({3, 4}), probs({3, 4}), loss({1});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().softmax_cross_entropy_forward(logits.view(), label_tensor({0, 4, 1}).view(),
                                            probs.view(), loss.view());
      },
      {"softmax_cross_entropy_forward", "labels[1]", "is 4"}));
}

TEST(SoftmaxCrossEntropyChecks, NegativeLabelIsRefusedByTheBackward) {
  HostTensor<float> probs({3, 4}), dlogits({3, 4});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().softmax_cross_entropy_backward(probs.view(), label_tensor({0, 1, -1}).view(),
                                             dlogits.view(), 1.0f);
      },
      {"softmax_cross_entropy_backward", "labels[2]", "is -1"}));
}

TEST(SoftmaxCrossEntropyChecks, LabelsMustBeI32) {
  HostTensor<float> logits({3, 4}), probs({3, 4}), loss({1}), labels({3});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().softmax_cross_entropy_forward(logits.view(), labels.view(), probs.view(),
                                            loss.view());
      },
      {"softmax_cross_entropy_forward", "labels", "F32[3]", "I32[3]"}));
}

TEST(SoftmaxCrossEntropyChecks, WrongProbsShapeNamesBothShapes) {
  HostTensor<float> logits({3, 4}), probs({4, 3}), loss({1});
  EXPECT_TRUE(throws_naming(
      [&] {
        cpu().softmax_cross_entropy_forward(logits.view(), label_tensor({0, 1, 2}).view(),
                                            probs.view(), loss.view());
      },
      {"softmax_cross_entropy_forward", "probs", "[4, 3]", "[3, 4]"}));
}

}  // namespace
}  // namespace r50
