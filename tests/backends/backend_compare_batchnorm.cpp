// The batch-norm rows of the CUDA-against-CPU table, F32 and row-major, and the inputs and bounds
// that the half-precision and channels-last batch-norm rows share with them
// (backend_compare_batchnorm.h). The CPU backend reduces in double and rounds each statistic
// once; for the CUDA side the bounds assume an fp32 reduction (Welford's update, Chan's
// combination), which covers its kernels' more accurate double combination too. Inputs of a half
// dtype are values it holds, which both backends widen to F32 exactly, so the bounds hold for
// them as they are.
#include "backends/backend_compare_batchnorm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace r50::backend_compare {

HostTensor<float> activations(const Shape& shape, Rng& rng) {
  const std::int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
  std::vector<double> centre(C), spread(C);
  for (std::int64_t c = 0; c < C; ++c) {
    centre[c] = rng.uniform(-2.0, 2.0);
    spread[c] = rng.uniform(0.3, 1.5);
  }
  HostTensor<float> x(shape);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < HW; ++i)
        x[(n * C + c) * HW + i] =
            static_cast<float>(centre[c] + spread[c] * rng.uniform(-1.0, 1.0));
  return x;
}

ChannelStatistics channel_statistics(const HostTensor<float>& x) {
  const Shape& shape = x.shape();
  ChannelStatistics s{shape[1], shape[2] * shape[3], shape[0] * shape[2] * shape[3], {}, {}, {}};
  s.mean.assign(s.C, 0.0);
  s.var.assign(s.C, 0.0);
  s.max_abs.assign(s.C, 0.0);
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    s.mean[s.channel(i)] += x[i];
    s.max_abs[s.channel(i)] = std::max(s.max_abs[s.channel(i)], std::abs(double(x[i])));
  }
  for (double& mean : s.mean) mean /= double(s.count);
  for (std::int64_t i = 0; i < x.numel(); ++i)
    s.var[s.channel(i)] += std::pow(x[i] - s.mean[s.channel(i)], 2);
  for (double& var : s.var) var /= double(s.count);
  return s;
}

BatchNormInputs batch_norm_inputs(DType dtype, const Shape& shape, std::uint64_t seed) {
  Rng rng(seed);
  const std::int64_t C = shape[1];
  BatchNormInputs in;
  in.x = rounded(activations(shape, rng), dtype);
  in.gamma = uniform({C}, rng, 0.5, 1.5);
  in.beta = uniform({C}, rng);
  in.running_mean = uniform({C}, rng);
  in.running_var = uniform({C}, rng, 0.5, 2.0);
  in.dy = uniform_in(dtype, shape, rng);
  in.residual = uniform_in(dtype, shape, rng, -2.0, 2.0);
  return in;
}

// Channel c, with count values, exact mean and biased variance, M = max|x| and the condition
// number κ = sqrt(1 + mean²/var) of its variance (Chan, Golub and LeVeque, "Algorithms for
// computing the sample variance", 1983), γ = γ(count):
// - mean: every Welford update or Chan combination rounds values no larger than M a few times,
//   and an earlier error is carried on with a factor at most 1: |Δ| <= 3γ·M, plus each
//   backend's final rounding, u·|mean| each.
// - variance: the updating algorithm's relative error is at most count·κ·u in the worst case;
//   with γ in place of count·u, 3κγ.
// - invstd = 1/sqrt(var + eps): half the variance's relative error, plus at most 3 roundings on
//   the GPU (the sum, the square root, the division; or rsqrtf's 2 ulp) and 1 on the CPU.
// - running_mean = (1 - m)·running_mean + m·mean: m times the mean's error, plus at most 4
//   roundings on the GPU (1 - m, two products, the sum) and 1 on the CPU of terms no larger
//   than |running_mean| + |mean|.
// - running_var = (1 - m)·running_var + m·var·count/(count - 1), a sum of two positive terms:
//   relative error at most the variance's, plus 4 roundings in the second term, 1 in the sum
//   and 1 on the CPU.
// - y = (x - mean)·scale + beta, scale = gamma·invstd: the difference in mean times |scale|, in
//   scale (invstd's plus one rounding each) times |x - mean|, and each backend's at most 4
//   roundings of values no larger than |scale|·(|x| + |mean|) + |beta|.
// - A residual sum rounds once more on each backend a value no larger than the sum of the
//   magnitudes, and ReLU, 1-Lipschitz, adds nothing.
BatchNormForwardTolerances batch_norm_forward_training_tolerances(const BatchNormInputs& in,
                                                                  Epilogue epilogue,
                                                                  const BatchNormParams& params) {
  const std::int64_t C = in.x.shape()[1];
  const ChannelStatistics stats = channel_statistics(in.x);
  const double m = params.momentum, g = sum_bound(stats.count);
  HostTensor<double> mean_limit({C}), invstd_rtol({C}), invstd({C}), invstd_limit({C}),
      running_mean_limit({C}), running_var_limit({C}), y_limit(in.x.shape());
  for (std::int64_t c = 0; c < C; ++c) {
    const double kappa = std::sqrt(1.0 + stats.mean[c] * stats.mean[c] / stats.var[c]);
    mean_limit[c] = 3 * g * stats.max_abs[c] + 2 * u * std::abs(stats.mean[c]);
    invstd_rtol[c] = 1.5 * kappa * g + 4 * u;
    invstd[c] = 1.0 / std::sqrt(stats.var[c] + params.eps);
    invstd_limit[c] = invstd_rtol[c] * invstd[c];
    running_mean_limit[c] =
        m * mean_limit[c] + 5 * u * (std::abs(in.running_mean[c]) + std::abs(stats.mean[c]));
    const double unbiased = stats.var[c] * stats.count / (stats.count - 1.0);
    running_var_limit[c] =
        (3 * kappa * g + 6 * u) * ((1 - m) * in.running_var[c] + m * unbiased);
  }
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = stats.channel(i);
    const double scale = std::abs(in.gamma[c]) * invstd[c];
    const double centred = std::abs(in.x[i] - stats.mean[c]);
    y_limit[i] = scale * mean_limit[c] + centred * scale * (invstd_rtol[c] + 2 * u) +
                 8 * u * (scale * (std::abs(in.x[i]) + std::abs(stats.mean[c])) +
                          std::abs(in.beta[c]));
    if (epilogue == Epilogue::AddRelu) {
      y_limit[i] += 2 * u * (scale * centred + std::abs(in.beta[c]) + std::abs(in.residual[i]));
    }
  }
  return {per_element(y_limit), per_element(mean_limit), per_element(invstd_limit),
          per_element(running_mean_limit), per_element(running_var_limit)};
}

// y = (x - running_mean)·scale + beta: scale = gamma/sqrt(running_var + eps) carries at most 4
// roundings on the GPU (the sum, square root, division, product) and 1 on the CPU; then each
// backend rounds at most 4 times values no larger than |scale|·(|x| + |running_mean|) + |beta|.
Tolerance batch_norm_forward_inference_tolerance(const BatchNormInputs& in, float eps) {
  const Shape& shape = in.x.shape();
  const std::int64_t C = shape[1], HW = shape[2] * shape[3];
  HostTensor<double> limit(shape);
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = i / HW % C;
    const double mean = in.running_mean[c];
    const double scale = std::abs(in.gamma[c]) / std::sqrt(double(in.running_var[c]) + eps);
    limit[i] = 5 * u * std::abs(in.x[i] - mean) * scale +
               8 * u * (scale * (std::abs(in.x[i]) + std::abs(mean)) + std::abs(in.beta[c]));
  }
  return per_element(limit);
}

SavedStatistics saved_statistics(const HostTensor<float>& x) {
  SavedStatistics saved{channel_statistics(x), {}, {}, {}, {}};
  const std::int64_t C = saved.exact.C;
  saved.saved_mean = HostTensor<float>({C});
  saved.saved_invstd = HostTensor<float>({C});
  saved.mean.resize(C);
  saved.invstd.resize(C);
  for (std::int64_t c = 0; c < C; ++c) {
    saved.saved_mean[c] = static_cast<float>(saved.exact.mean[c]);
    saved.saved_invstd[c] = static_cast<float>(1.0 / std::sqrt(saved.exact.var[c] + 1e-5));
    saved.mean[c] = saved.saved_mean[c];
    saved.invstd[c] = saved.saved_invstd[c];
  }
  return saved;
}

namespace {

// The dtype's smallest positive value, below half of which it rounds a positive v to 0: F16's
// subnormal 2^-24, BF16's 2^-133. The F32 rows add none.
double smallest_positive(DType dtype) {
  if (dtype == DType::F16) return 0x1p-24;
  if (dtype == DType::BF16) return 0x1p-133;
  return 0.0;
}

// The sums both batch-norm backwards take per channel, in double: Σ g, Σ g·xhat and the same
// over magnitudes, with xhat = (x - mean)·invstd.
struct GradientSums {
  std::vector<double> dbeta, dgamma, abs_dbeta, abs_dgamma;
};

GradientSums gradient_sums(const HostTensor<float>& x, const HostTensor<float>& g,
                           const std::vector<double>& mean, const std::vector<double>& invstd) {
  const std::int64_t C = x.shape()[1], HW = x.shape()[2] * x.shape()[3];
  GradientSums sums{std::vector<double>(C), std::vector<double>(C), std::vector<double>(C),
                    std::vector<double>(C)};
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const std::int64_t c = i / HW % C;
    const double xhat = (x[i] - mean[c]) * invstd[c];
    sums.dbeta[c] += g[i];
    sums.dgamma[c] += g[i] * xhat;
    sums.abs_dbeta[c] += std::abs(g[i]);
    sums.abs_dgamma[c] += std::abs(g[i] * xhat);
  }
  return sums;
}

// dbeta = Σ g: the GPU's fp32 sum is within γ·Σ|g|, γ = γ(count), and each backend rounds the
// result once. dgamma = Σ g·xhat the same, with `xhat_roundings` more on each term.
void sum_limits(const GradientSums& sums, std::int64_t count, int xhat_roundings,
                HostTensor<double>& dbeta_limit, HostTensor<double>& dgamma_limit) {
  const double g = sum_bound(count);
  for (std::size_t c = 0; c < sums.dbeta.size(); ++c) {
    const auto k = static_cast<std::int64_t>(c);
    dbeta_limit[k] = g * sums.abs_dbeta[c] + 2 * u * std::abs(sums.dbeta[c]);
    dgamma_limit[k] =
        (g + xhat_roundings * u) * sums.abs_dgamma[c] + 2 * u * std::abs(sums.dgamma[c]);
  }
}

}  // namespace

// Behind a ReLU, batch norm's output gradient `grad` is dy where the forward's y = max(v, 0) is
// positive, v = (x - mean)·invstd·gamma + beta (+ residual), made here in double. A backend may
// find where y > 0 from y or recompute v from x (kernels.h): both agree away from 0, so dy is
// zeroed wherever v lies within 64 roundings of 0, and `grad` is then exact whichever they
// decide.
// - ReluMask::FromValue (the row-major F32 rows below): the mask is v > 0, and dy is zeroed near
//   0 behind either epilogue.
// - ReluMask::FromStoredY (the half rows, and the channels-last rows of either dtype): the mask
//   is y > 0 with y rounded to the dtype as the forward stores it. With a residual both backends
//   must read y (backend.h), so their masks are y's exactly and dy stays whole. Without one a
//   backend may recompute v in fp32 from x and the saved statistics, rounded to the dtype before
//   its sign is tested as y was (kernels.h): positive exactly where v exceeds half the dtype's
//   smallest positive value, and that v is within a few roundings of the exact one, so the
//   margin of 64 roundings takes that smallest value too.
ReluGradient relu_gradient(BatchNormInputs& in, const SavedStatistics& saved, Epilogue epilogue,
                           DType dtype, ReluMask mask) {
  ReluGradient result{HostTensor<float>(in.x.shape()), in.dy};
  if (epilogue == Epilogue::None) return result;
  HostTensor<float>& y = result.y;
  const bool zero_near_0 = mask == ReluMask::FromValue || epilogue == Epilogue::Relu;
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = saved.exact.channel(i);
    const double centred = (double(in.x[i]) - saved.mean[c]) * saved.invstd[c] * in.gamma[c];
    const double r = epilogue == Epilogue::AddRelu ? in.residual[i] : 0.0;
    const double v = centred + in.beta[c] + r;
    if (zero_near_0 && std::abs(v) <= 64 * u * (std::abs(centred) + std::abs(in.beta[c]) +
                                                std::abs(r)) + smallest_positive(dtype)) {
      in.dy[i] = 0.0f;
    }
    y[i] = static_cast<float>(v > 0.0 ? v : 0.0);
    if (mask == ReluMask::FromValue) result.grad[i] = v > 0.0 ? in.dy[i] : 0.0f;
  }
  if (mask == ReluMask::FromStoredY) {
    y = rounded(y, dtype);
    for (std::int64_t i = 0; i < y.numel(); ++i) result.grad[i] = y[i] > 0.0f ? in.dy[i] : 0.0f;
  }
  return result;
}

// dbeta and dgamma as sum_limits says, xhat and the product adding 3 roundings to each term of
// dgamma. dx = scale·(grad - dbeta/count - xhat·dgamma/count), scale = gamma·invstd: the
// differences in dbeta and dgamma divided by count (times |xhat| for dgamma), plus each backend's
// at most 6 roundings of the three terms (tests/ops/batchnorm_test), all times |scale|.
BatchNormBackwardTolerances batch_norm_backward_training_tolerances(const BatchNormInputs& in,
                                                                    const HostTensor<float>& grad,
                                                                    const SavedStatistics& saved) {
  const ChannelStatistics& stats = saved.exact;
  const std::int64_t C = stats.C;
  const std::vector<double>& mean = saved.mean;
  const std::vector<double>& invstd = saved.invstd;
  const double count = double(stats.count);
  const GradientSums sums = gradient_sums(in.x, grad, mean, invstd);
  HostTensor<double> dbeta_limit({C}), dgamma_limit({C}), dx_limit(in.x.shape());
  sum_limits(sums, stats.count, 3, dbeta_limit, dgamma_limit);
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = stats.channel(i);
    const double xhat = std::abs((in.x[i] - mean[c]) * invstd[c]);
    const double scale = std::abs(in.gamma[c]) * invstd[c];
    const double terms =
        std::abs(grad[i]) + (std::abs(sums.dbeta[c]) + xhat * std::abs(sums.dgamma[c])) / count;
    dx_limit[i] = scale * ((dbeta_limit[c] + xhat * dgamma_limit[c]) / count + 12 * u * terms);
  }
  return {per_element(dx_limit), per_element(dgamma_limit), per_element(dbeta_limit)};
}

// dx = dy·scale, scale = gamma/sqrt(running_var + eps): at most 4 roundings in scale and 1 in the
// product on the GPU, 2 on the CPU, 7 relative for both. dbeta as in the training backward;
// dgamma's terms carry 3 more roundings from invstd, 6 in all.
BatchNormBackwardTolerances batch_norm_backward_inference_tolerances(const BatchNormInputs& in,
                                                                     float eps) {
  const Shape& shape = in.x.shape();
  const std::int64_t C = shape[1];
  std::vector<double> mean(C), invstd(C);
  for (std::int64_t c = 0; c < C; ++c) {
    mean[c] = in.running_mean[c];
    invstd[c] = 1.0 / std::sqrt(double(in.running_var[c]) + eps);
  }
  HostTensor<double> dbeta_limit({C}), dgamma_limit({C});
  sum_limits(gradient_sums(in.x, in.dy, mean, invstd), shape[0] * shape[2] * shape[3], 6,
             dbeta_limit, dgamma_limit);
  return {elementwise(0.0, 7 * u), per_element(dgamma_limit), per_element(dbeta_limit)};
}

namespace {

const ShapeCase kNormShapes[] = {
    {"Layer2", {4, 128, 28, 28}, false},
    {"FourValuesPerChannel", {4, 96, 1, 1}, false},  // layer4 at 32×32 input, batch 4
    {"Odd", {3, 5, 13, 13}, true},
    // Few long channels, as the stem's: the reductions split across blocks (7 and 8 splits).
    {"StemLike", {2, 16, 112, 112}, false},
    {"OddSplit", {3, 7, 97, 101}, true},
};

// Where the full-size tensors lie: as the allocator hands them out, or one float past that, so
// that planes of a multiple of 4 values are not 16-byte aligned and the kernels must take their
// one-value path (kernels/batchnorm.cu) on a view, as a slice of a larger tensor would be.
enum class Placement { Allocated, OneFloatOff };

Tensor place(Stage& stage, const HostTensor<float>& host, Placement placement) {
  if (placement == Placement::Allocated) return stage.input(host);
  HostTensor<float> padded({host.numel() + 1});
  std::copy(host.data(), host.data() + host.numel(), padded.data() + 1);
  return stage.input(padded).slice(1, host.numel() + 1).reshape(host.shape());
}

Tensor place_output(Stage& stage, const Shape& shape, Placement placement) {
  return place(stage, HostTensor<float>(shape, std::numeric_limits<float>::quiet_NaN()), placement);
}

Outputs batch_norm_forward_training(const ShapeCase& s, Backend& backend, Epilogue epilogue,
                                    Placement placement = Placement::Allocated) {
  BatchNormInputs in = batch_norm_inputs(DType::F32, s.x, 31);
  const std::int64_t C = s.x[1];
  const BatchNormParams params;
  Rng rng(35);
  in.residual = uniform(s.x, rng, -2.0, 2.0);  // these rows draw it from a generator of its own
  Stage stage(backend);
  const Tensor y = place_output(stage, s.x, placement);
  const Tensor x = place(stage, in.x, placement);
  const Tensor& saved_mean = stage.output({C});
  const Tensor& saved_invstd = stage.output({C});
  const Tensor& running_mean = stage.input(in.running_mean);
  const Tensor& running_var = stage.input(in.running_var);
  if (epilogue == Epilogue::None) {
    backend.batch_norm_forward_training(x, stage.input(in.gamma), stage.input(in.beta), running_mean, running_var,
                                        y, saved_mean, saved_invstd, params);
  } else {
    const Tensor residual = epilogue == Epilogue::AddRelu ? place(stage, in.residual, placement) : Tensor();
    backend.batch_norm_relu_forward_training(x, stage.input(in.gamma), stage.input(in.beta), running_mean,
                                             running_var, residual, y, saved_mean, saved_invstd, params);
  }
  const BatchNormForwardTolerances tolerance =
      batch_norm_forward_training_tolerances(in, epilogue, params);
  return {{"y", stage.read(y), tolerance.y},
          {"saved_mean", stage.read(saved_mean), tolerance.saved_mean},
          {"saved_invstd", stage.read(saved_invstd), tolerance.saved_invstd},
          {"running_mean", stage.read(running_mean), tolerance.running_mean},
          {"running_var", stage.read(running_var), tolerance.running_var}};
}

Outputs batch_norm_forward_inference(const ShapeCase& s, Backend& backend) {
  const BatchNormInputs in = batch_norm_inputs(DType::F32, s.x, 32);
  const float eps = 1e-5f;
  Stage stage(backend);
  const Tensor& y = stage.output(s.x);
  backend.batch_norm_forward_inference(stage.input(in.x), stage.input(in.gamma),
                                       stage.input(in.beta), stage.input(in.running_mean),
                                       stage.input(in.running_var), y, eps);
  return {{"y", stage.read(y), batch_norm_forward_inference_tolerance(in, eps)}};
}

Outputs batch_norm_backward_training(const ShapeCase& s, Backend& backend, Epilogue epilogue,
                                     Placement placement = Placement::Allocated) {
  BatchNormInputs in = batch_norm_inputs(DType::F32, s.x, 33);
  Rng rng(36);
  in.residual = uniform(s.x, rng, -2.0, 2.0);  // these rows draw it from a generator of its own
  const std::int64_t C = s.x[1];
  const SavedStatistics saved = saved_statistics(in.x);
  const ReluGradient relu = relu_gradient(in, saved, epilogue, DType::F32, ReluMask::FromValue);
  Stage stage(backend);
  const Tensor dx = place_output(stage, s.x, placement);
  const Tensor& dgamma = stage.output({C});
  const Tensor& dbeta = stage.output({C});
  const Tensor dresidual = epilogue == Epilogue::AddRelu ? place_output(stage, s.x, placement) : Tensor();
  const Tensor x = place(stage, in.x, placement), dy = place(stage, in.dy, placement);
  if (epilogue == Epilogue::None) {
    backend.batch_norm_backward_training(x, dy, stage.input(in.gamma), stage.input(saved.saved_mean),
                                         stage.input(saved.saved_invstd), dx, dgamma, dbeta);
  } else {
    backend.batch_norm_relu_backward_training(x, place(stage, relu.y, placement), dy,
                                              stage.input(in.gamma), stage.input(in.beta),
                                              stage.input(saved.saved_mean),
                                              stage.input(saved.saved_invstd), dx, dresidual,
                                              dgamma, dbeta);
  }
  const BatchNormBackwardTolerances tolerance =
      batch_norm_backward_training_tolerances(in, relu.grad, saved);
  Outputs outputs{{"dx", stage.read(dx), tolerance.dx},
                  {"dgamma", stage.read(dgamma), tolerance.dgamma},
                  {"dbeta", stage.read(dbeta), tolerance.dbeta}};
  if (epilogue == Epilogue::AddRelu) outputs.push_back({"dresidual", stage.read(dresidual), kExact});
  return outputs;
}

Outputs batch_norm_backward_inference(const ShapeCase& s, Backend& backend) {
  const BatchNormInputs in = batch_norm_inputs(DType::F32, s.x, 34);
  const std::int64_t C = s.x[1];
  const float eps = 1e-5f;
  Stage stage(backend);
  const Tensor& dx = stage.output(s.x);
  const Tensor& dgamma = stage.output({C});
  const Tensor& dbeta = stage.output({C});
  backend.batch_norm_backward_inference(stage.input(in.x), stage.input(in.dy),
                                        stage.input(in.gamma), stage.input(in.running_mean),
                                        stage.input(in.running_var), eps, dx, dgamma, dbeta);
  const BatchNormBackwardTolerances tolerance = batch_norm_backward_inference_tolerances(in, eps);
  return {{"dx", stage.read(dx), tolerance.dx},
          {"dgamma", stage.read(dgamma), tolerance.dgamma},
          {"dbeta", stage.read(dbeta), tolerance.dbeta}};
}

}  // namespace

std::vector<Row> batch_norm_rows() {
  std::vector<Row> rows;
  for (const ShapeCase& s : kNormShapes) {
    const std::string name = s.name;
    rows.push_back({"BatchNormForwardTraining" + name, s.odd,
                    [s](Backend& b) { return batch_norm_forward_training(s, b, Epilogue::None); }});
    rows.push_back({"BatchNormReluForwardTraining" + name, s.odd,
                    [s](Backend& b) { return batch_norm_forward_training(s, b, Epilogue::Relu); }});
    rows.push_back({"BatchNormAddReluForwardTraining" + name, s.odd,
                    [s](Backend& b) { return batch_norm_forward_training(s, b, Epilogue::AddRelu); }});
    rows.push_back({"BatchNormForwardInference" + name, s.odd,
                    [s](Backend& b) { return batch_norm_forward_inference(s, b); }});
    rows.push_back({"BatchNormBackwardTraining" + name, s.odd,
                    [s](Backend& b) { return batch_norm_backward_training(s, b, Epilogue::None); }});
    rows.push_back({"BatchNormReluBackwardTraining" + name, s.odd,
                    [s](Backend& b) { return batch_norm_backward_training(s, b, Epilogue::Relu); }});
    rows.push_back({"BatchNormAddReluBackwardTraining" + name, s.odd,
                    [s](Backend& b) { return batch_norm_backward_training(s, b, Epilogue::AddRelu); }});
    rows.push_back({"BatchNormBackwardInference" + name, s.odd,
                    [s](Backend& b) { return batch_norm_backward_inference(s, b); }});
  }
  // Planes of 64 values one float off 16-byte alignment: the one-value path on views.
  const ShapeCase offset{"OneFloatOff", {3, 8, 8, 8}, true};
  rows.push_back({"BatchNormAddReluForwardTrainingOneFloatOff", true, [offset](Backend& b) {
                    return batch_norm_forward_training(offset, b, Epilogue::AddRelu, Placement::OneFloatOff);
                  }});
  rows.push_back({"BatchNormReluBackwardTrainingOneFloatOff", true, [offset](Backend& b) {
                    return batch_norm_backward_training(offset, b, Epilogue::Relu, Placement::OneFloatOff);
                  }});
  rows.push_back({"BatchNormAddReluBackwardTrainingOneFloatOff", true, [offset](Backend& b) {
                    return batch_norm_backward_training(offset, b, Epilogue::AddRelu, Placement::OneFloatOff);
                  }});
  return rows;
}

}  // namespace r50::backend_compare
