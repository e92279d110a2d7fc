// The batch-norm rows of the CUDA-against-CPU table on channels-last (NHWC) tensors, F32 and F16.
// Inputs and bounds are those of the row-major rows: backend_compare_batchnorm.cpp derives each
// term for F32, backend_compare_half.cpp adds the rounding of half outputs. Memory order changes
// none of them: the CPU backend computes on row-major F32 copies (ops/cpu/f32_staging.h) and
// rounds each output once into its tensor, and the CUDA kernels only sum in another order, which
// the bounds allow (γ holds for any order of summation).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include "backends/backend_compare.h"
#include "core/half.h"

namespace r50::backend_compare {
namespace {

struct NhwcShape {
  const char* name;
  Shape x;
  bool odd;
};

const NhwcShape kNhwcShapes[] = {
    {"Layer2", {4, 128, 28, 28}, false},     // channels a multiple of 4: 4 per access
    {"StemLike", {2, 16, 112, 112}, false},  // few long channels: the reductions split
    {"Odd", {3, 5, 13, 13}, true},           // 5 channels: one per access
};

struct Precision {
  const char* suffix;  // of the row's name
  DType dtype;
};

const Precision kPrecisions[] = {{"", DType::F32}, {"F16", DType::F16}};

// `values` as `dtype` holds them: each rounded to nearest even and widened back.
HostTensor<float> rounded(const HostTensor<float>& values, DType dtype) {
  std::vector<unsigned char> stored(static_cast<std::size_t>(values.numel()) * dtype_size(dtype));
  floats_into(values.data(), values.numel(), stored.data(), dtype);
  HostTensor<float> result(values.shape());
  floats_from(stored.data(), dtype, values.numel(), result.data());
  return result;
}

// An activation output's tolerance: the F32 row's `f32`, and for F16 the rounding of the output on
// each backend, as backend_compare_half.cpp's rounded_to (3·2^-11 relative, and 2^-24 absolute
// for values below F16's normal range).
Tolerance stored_in(DType dtype, Tolerance f32, const HostTensor<float>& values) {
  if (dtype == DType::F32) return f32;
  const double rtol = 3 * 0x1p-11, atol = 0x1p-24;
  Tolerance tolerance = f32;
  tolerance.atol += atol;
  tolerance.rtol += rtol;
  if (f32.norm >= 0) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < values.numel(); ++i) sum += std::pow(atol + rtol * std::abs(values[i]), 2);
    tolerance.norm += std::sqrt(sum);
  }
  return tolerance;
}

// One row's tensors on one backend: activations and their gradients channels-last in the row's
// dtype, filled from and read back as NCHW host values; per-channel tensors F32 through f32().
// With `one_element_off` each activation starts one element past an allocation, so that no
// tensor is aligned to 4 elements and the kernels take their one-channel path, as on a view.
class ChannelsLastStage {
 public:
  ChannelsLastStage(Backend& backend, DType dtype, bool one_element_off = false)
      : backend_(backend), dtype_(dtype), offset_(one_element_off ? 1 : 0), f32_(backend) {}

  // `values` must be ones the dtype holds (rounded), so that both backends read them exactly.
  const Tensor& input(const HostTensor<float>& values) {
    const OwnedTensor& block = blocks_.emplace_back(backend_.allocator(), Shape{values.numel() + offset_}, dtype_,
                                                    backend_.device());
    auto* first = static_cast<unsigned char*>(block.tensor().data()) + offset_ * dtype_size(dtype_);
    const Tensor& tensor =
        views_.emplace_back(first, values.shape(), dtype_, backend_.device(), Layout::ChannelsLast);
    std::vector<unsigned char> stored(tensor.nbytes());
    floats_into(values.data(), values.numel(), stored.data(), dtype_);
    copy_from_host_nchw(backend_, tensor, stored.data());
    return tensor;
  }
  const Tensor& output(const Shape& shape) {
    return input(HostTensor<float>(shape, std::numeric_limits<float>::quiet_NaN()));
  }
  HostTensor<float> read(const Tensor& tensor) {
    const std::vector<float> values = copy_to_host_as_floats(backend_, tensor);
    HostTensor<float> host(tensor.shape());
    std::copy(values.begin(), values.end(), host.data());
    return host;
  }

  Stage& f32() { return f32_; }

 private:
  Backend& backend_;
  DType dtype_;
  std::int64_t offset_;
  Stage f32_;
  std::deque<OwnedTensor> blocks_;  // deques keep the tensors' addresses as they grow
  std::deque<Tensor> views_;
};

// The row-major rows' inputs, rounded to the dtype: activations with each channel centred on its
// own mean in [-2, 2] with its own spread in [0.3, 1.5], dy and the residual uniform.
struct BatchNormInputs {
  HostTensor<float> x, gamma, beta, running_mean, running_var, dy, residual;
};

BatchNormInputs batch_norm_inputs(DType dtype, const Shape& shape, std::uint64_t seed) {
  Rng rng(seed);
  const std::int64_t C = shape[1];
  BatchNormInputs in;
  in.x = rounded(activations(shape, rng), dtype);
  in.gamma = uniform({C}, rng, 0.5, 1.5);
  in.beta = uniform({C}, rng);
  in.running_mean = uniform({C}, rng);
  in.running_var = uniform({C}, rng, 0.5, 2.0);
  in.dy = rounded(uniform(shape, rng), dtype);
  in.residual = rounded(uniform(shape, rng, -2.0, 2.0), dtype);
  return in;
}

// What follows batch norm: nothing, or ReLU with or without a residual sum first.
enum class Epilogue { None, Relu, AddRelu };

struct RowCase {
  DType dtype;
  NhwcShape shape;
  Epilogue epilogue;
  bool one_element_off;
};

Outputs forward_training(const RowCase& r, Backend& backend) {
  const Shape& shape = r.shape.x;
  const BatchNormInputs in = batch_norm_inputs(r.dtype, shape, 241);
  const std::int64_t C = shape[1];
  const BatchNormParams params;
  ChannelsLastStage stage(backend, r.dtype, r.one_element_off);
  Stage& f32 = stage.f32();
  const Tensor& y = stage.output(shape);
  const Tensor& x = stage.input(in.x);
  const Tensor& running_mean = f32.input(in.running_mean);
  const Tensor& running_var = f32.input(in.running_var);
  const Tensor& saved_mean = f32.output({C});
  const Tensor& saved_invstd = f32.output({C});
  if (r.epilogue == Epilogue::None) {
    backend.batch_norm_forward_training(x, f32.input(in.gamma), f32.input(in.beta), running_mean, running_var, y,
                                        saved_mean, saved_invstd, params);
  } else {
    const Tensor residual = r.epilogue == Epilogue::AddRelu ? stage.input(in.residual) : Tensor();
    backend.batch_norm_relu_forward_training(x, f32.input(in.gamma), f32.input(in.beta), running_mean, running_var,
                                             residual, y, saved_mean, saved_invstd, params);
  }
  // The F32 rows' bounds, per channel with κ its variance's condition number and γ = γ(count):
  // mean 3γ·max|x| and a rounding per backend; invstd half the variance's 3κγ and 4 roundings;
  // the running statistics m times those and their own roundings; y the mean's and scale's
  // errors carried through, 8 roundings, and 2 for a residual sum (ReLU adds nothing).
  const ChannelStatistics stats = channel_statistics(in.x);
  const double m = params.momentum, g = sum_bound(stats.count);
  HostTensor<double> mean_limit({C}), invstd_limit({C}), running_mean_limit({C}), running_var_limit({C}),
      y_limit(shape);
  std::vector<double> invstd(C), invstd_rtol(C);
  for (std::int64_t c = 0; c < C; ++c) {
    const double kappa = std::sqrt(1.0 + stats.mean[c] * stats.mean[c] / stats.var[c]);
    mean_limit[c] = 3 * g * stats.max_abs[c] + 2 * u * std::abs(stats.mean[c]);
    invstd_rtol[c] = 1.5 * kappa * g + 4 * u;
    invstd[c] = 1.0 / std::sqrt(stats.var[c] + params.eps);
    invstd_limit[c] = invstd_rtol[c] * invstd[c];
    running_mean_limit[c] = m * mean_limit[c] + 5 * u * (std::abs(in.running_mean[c]) + std::abs(stats.mean[c]));
    const double unbiased = stats.var[c] * stats.count / (stats.count - 1.0);
    running_var_limit[c] = (3 * kappa * g + 6 * u) * ((1 - m) * in.running_var[c] + m * unbiased);
  }
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = stats.channel(i);
    const double scale = std::abs(in.gamma[c]) * invstd[c];
    const double centred = std::abs(in.x[i] - stats.mean[c]);
    y_limit[i] = scale * mean_limit[c] + centred * scale * (invstd_rtol[c] + 2 * u) +
                 8 * u * (scale * (std::abs(in.x[i]) + std::abs(stats.mean[c])) + std::abs(in.beta[c]));
    if (r.epilogue == Epilogue::AddRelu) {
      y_limit[i] += 2 * u * (scale * centred + std::abs(in.beta[c]) + std::abs(in.residual[i]));
    }
  }
  const HostTensor<float> y_values = stage.read(y);
  return {{"y", y_values, stored_in(r.dtype, per_element(y_limit), y_values)},
          {"saved_mean", f32.read(saved_mean), per_element(mean_limit)},
          {"saved_invstd", f32.read(saved_invstd), per_element(invstd_limit)},
          {"running_mean", f32.read(running_mean), per_element(running_mean_limit)},
          {"running_var", f32.read(running_var), per_element(running_var_limit)}};
}

Outputs forward_inference(const RowCase& r, Backend& backend) {
  const Shape& shape = r.shape.x;
  const BatchNormInputs in = batch_norm_inputs(r.dtype, shape, 242);
  const float eps = 1e-5f;
  ChannelsLastStage stage(backend, r.dtype);
  Stage& f32 = stage.f32();
  const Tensor& y = stage.output(shape);
  backend.batch_norm_forward_inference(stage.input(in.x), f32.input(in.gamma), f32.input(in.beta),
                                       f32.input(in.running_mean), f32.input(in.running_var), y, eps);
  // The F32 rows' bound: scale = gamma/sqrt(running_var + eps) within 5 roundings of both
  // backends together, then at most 8 roundings of values no larger than
  // |scale|·(|x| + |running_mean|) + |beta|.
  const std::int64_t C = shape[1], HW = shape[2] * shape[3];
  HostTensor<double> limit(shape);
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = i / HW % C;
    const double mean = in.running_mean[c];
    const double scale = std::abs(in.gamma[c]) / std::sqrt(double(in.running_var[c]) + eps);
    limit[i] = 5 * u * std::abs(in.x[i] - mean) * scale +
               8 * u * (scale * (std::abs(in.x[i]) + std::abs(mean)) + std::abs(in.beta[c]));
  }
  const HostTensor<float> y_values = stage.read(y);
  return {{"y", y_values, stored_in(r.dtype, per_element(limit), y_values)}};
}

// Per channel, with xhat = (x - mean)·invstd: Σ g, Σ g·xhat, and the same over magnitudes.
struct GradientSums {
  std::vector<double> dbeta, dgamma, abs_dbeta, abs_dgamma;
};

GradientSums gradient_sums(const HostTensor<float>& x, const HostTensor<float>& g, const std::vector<double>& mean,
                           const std::vector<double>& invstd) {
  const std::int64_t C = x.shape()[1], HW = x.shape()[2] * x.shape()[3];
  const auto channels = static_cast<std::size_t>(C);
  GradientSums sums{std::vector<double>(channels), std::vector<double>(channels), std::vector<double>(channels),
                    std::vector<double>(channels)};
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

// The F32 rows' bounds on dbeta = Σ g and dgamma = Σ g·xhat, γ = γ(count): γ·Σ|terms| and a
// rounding per backend, with `xhat_roundings` more per term of dgamma.
void sum_limits(const GradientSums& sums, std::int64_t count, int xhat_roundings, HostTensor<double>& dbeta_limit,
                HostTensor<double>& dgamma_limit) {
  const double g = sum_bound(count);
  for (std::size_t c = 0; c < sums.dbeta.size(); ++c) {
    const auto k = static_cast<std::int64_t>(c);
    dbeta_limit[k] = g * sums.abs_dbeta[c] + 2 * u * std::abs(sums.dbeta[c]);
    dgamma_limit[k] = (g + xhat_roundings * u) * sums.abs_dgamma[c] + 2 * u * std::abs(sums.dgamma[c]);
  }
}

Outputs backward_training(const RowCase& r, Backend& backend) {
  const Shape& shape = r.shape.x;
  BatchNormInputs in = batch_norm_inputs(r.dtype, shape, 243);
  const std::int64_t C = shape[1];
  // The saved statistics as the forward leaves them: exact, rounded once to F32.
  const ChannelStatistics stats = channel_statistics(in.x);
  HostTensor<float> saved_mean({C}), saved_invstd({C});
  std::vector<double> mean(C), invstd(C);
  for (std::int64_t c = 0; c < C; ++c) {
    saved_mean[c] = static_cast<float>(stats.mean[c]);
    saved_invstd[c] = static_cast<float>(1.0 / std::sqrt(stats.var[c] + 1e-5));
    mean[c] = saved_mean[c];
    invstd[c] = saved_invstd[c];
  }
  // Behind the ReLU, batch norm's gradient `grad` is dy where the forward's stored y = max(v, 0)
  // is positive, v = (x - mean)·invstd·gamma + beta (+ residual) made here in double and y rounded
  // to the dtype. With a residual both backends read y, so their masks are y's exactly. Without
  // one a backend may recompute v in fp32 from x and the saved statistics and round it to the
  // dtype before testing its sign (kernels.h), so dy is zeroed where v lies within 64 roundings of
  // 0, plus F16's smallest positive value 2^-24 below which F16 rounds a positive v to 0
  // (backend_compare_half.cpp): `grad` is then exact whichever mask a backend takes.
  HostTensor<float> y(shape), grad = in.dy;
  if (r.epilogue != Epilogue::None) {
    const double smallest = r.dtype == DType::F16 ? 0x1p-24 : 0.0;
    for (std::int64_t i = 0; i < in.x.numel(); ++i) {
      const std::int64_t c = stats.channel(i);
      const double centred = (double(in.x[i]) - mean[c]) * invstd[c] * in.gamma[c];
      const double residual = r.epilogue == Epilogue::AddRelu ? in.residual[i] : 0.0;
      const double v = centred + in.beta[c] + residual;
      if (r.epilogue == Epilogue::Relu &&
          std::abs(v) <= 64 * u * (std::abs(centred) + std::abs(in.beta[c])) + smallest) {
        in.dy[i] = 0.0f;
      }
      y[i] = static_cast<float>(v > 0.0 ? v : 0.0);
    }
    y = rounded(y, r.dtype);
    for (std::int64_t i = 0; i < y.numel(); ++i) grad[i] = y[i] > 0.0f ? in.dy[i] : 0.0f;
  }
  ChannelsLastStage stage(backend, r.dtype, r.one_element_off);
  Stage& f32 = stage.f32();
  const Tensor& dx = stage.output(shape);
  const Tensor& dgamma = f32.output({C});
  const Tensor& dbeta = f32.output({C});
  const Tensor dresidual = r.epilogue == Epilogue::AddRelu ? stage.output(shape) : Tensor();
  const Tensor& x = stage.input(in.x);
  const Tensor& dy = stage.input(in.dy);
  if (r.epilogue == Epilogue::None) {
    backend.batch_norm_backward_training(x, dy, f32.input(in.gamma), f32.input(saved_mean), f32.input(saved_invstd),
                                         dx, dgamma, dbeta);
  } else {
    backend.batch_norm_relu_backward_training(x, stage.input(y), dy, f32.input(in.gamma), f32.input(in.beta),
                                              f32.input(saved_mean), f32.input(saved_invstd), dx, dresidual, dgamma,
                                              dbeta);
  }
  // The F32 rows' bounds: dbeta and dgamma as sum_limits says (3 roundings in xhat and the
  // product); dx = scale·(grad - dbeta/count - xhat·dgamma/count) their errors over count and 6
  // roundings per backend of the three terms, all times |scale|.
  const double count = double(stats.count);
  const GradientSums sums = gradient_sums(in.x, grad, mean, invstd);
  HostTensor<double> dbeta_limit({C}), dgamma_limit({C}), dx_limit(shape);
  sum_limits(sums, stats.count, 3, dbeta_limit, dgamma_limit);
  for (std::int64_t i = 0; i < in.x.numel(); ++i) {
    const std::int64_t c = stats.channel(i);
    const double xhat = std::abs((in.x[i] - mean[c]) * invstd[c]);
    const double scale = std::abs(in.gamma[c]) * invstd[c];
    const double terms = std::abs(grad[i]) + (std::abs(sums.dbeta[c]) + xhat * std::abs(sums.dgamma[c])) / count;
    dx_limit[i] = scale * ((dbeta_limit[c] + xhat * dgamma_limit[c]) / count + 12 * u * terms);
  }
  const HostTensor<float> dx_values = stage.read(dx);
  Outputs outputs{{"dx", dx_values, stored_in(r.dtype, per_element(dx_limit), dx_values)},
                  {"dgamma", f32.read(dgamma), per_element(dgamma_limit)},
                  {"dbeta", f32.read(dbeta), per_element(dbeta_limit)}};
  if (r.epilogue == Epilogue::AddRelu) outputs.push_back({"dresidual", stage.read(dresidual), kExact});
  return outputs;
}

Outputs backward_inference(const RowCase& r, Backend& backend) {
  const Shape& shape = r.shape.x;
  const BatchNormInputs in = batch_norm_inputs(r.dtype, shape, 244);
  const std::int64_t C = shape[1];
  const float eps = 1e-5f;
  ChannelsLastStage stage(backend, r.dtype);
  Stage& f32 = stage.f32();
  const Tensor& dx = stage.output(shape);
  const Tensor& dgamma = f32.output({C});
  const Tensor& dbeta = f32.output({C});
  backend.batch_norm_backward_inference(stage.input(in.x), stage.input(in.dy), f32.input(in.gamma),
                                        f32.input(in.running_mean), f32.input(in.running_var), eps, dx, dgamma,
                                        dbeta);
  // The F32 rows' bounds: dx = dy·scale within 7 roundings of both backends together; dbeta as in
  // the training backward, dgamma's terms with 3 more roundings from invstd.
  std::vector<double> mean(C), invstd(C);
  for (std::int64_t c = 0; c < C; ++c) {
    mean[c] = in.running_mean[c];
    invstd[c] = 1.0 / std::sqrt(double(in.running_var[c]) + eps);
  }
  HostTensor<double> dbeta_limit({C}), dgamma_limit({C});
  sum_limits(gradient_sums(in.x, in.dy, mean, invstd), shape[0] * shape[2] * shape[3], 6, dbeta_limit, dgamma_limit);
  const HostTensor<float> dx_values = stage.read(dx);
  return {{"dx", dx_values, stored_in(r.dtype, elementwise(0.0, 7 * u), dx_values)},
          {"dgamma", f32.read(dgamma), per_element(dgamma_limit)},
          {"dbeta", f32.read(dbeta), per_element(dbeta_limit)}};
}

}  // namespace

std::vector<Row> nhwc_batch_norm_rows() {
  std::vector<Row> rows;
  const auto add = [&rows](const std::string& op, const RowCase& r, const std::string& suffix,
                           Outputs (*run)(const RowCase&, Backend&)) {
    rows.push_back({op + r.shape.name + "Nhwc" + suffix, r.shape.odd, [r, run](Backend& b) { return run(r, b); }});
  };
  for (const Precision& p : kPrecisions) {
    for (const NhwcShape& s : kNhwcShapes) {
      const auto with = [&](Epilogue epilogue) { return RowCase{p.dtype, s, epilogue, false}; };
      add("BatchNormForwardTraining", with(Epilogue::None), p.suffix, forward_training);
      add("BatchNormReluForwardTraining", with(Epilogue::Relu), p.suffix, forward_training);
      add("BatchNormAddReluForwardTraining", with(Epilogue::AddRelu), p.suffix, forward_training);
      add("BatchNormForwardInference", with(Epilogue::None), p.suffix, forward_inference);
      add("BatchNormBackwardTraining", with(Epilogue::None), p.suffix, backward_training);
      add("BatchNormReluBackwardTraining", with(Epilogue::Relu), p.suffix, backward_training);
      add("BatchNormAddReluBackwardTraining", with(Epilogue::AddRelu), p.suffix, backward_training);
      add("BatchNormBackwardInference", with(Epilogue::None), p.suffix, backward_inference);
    }
  }
  // Rows of 8 channels, a multiple of 4, one element off alignment: the one-channel path.
  const NhwcShape offset{"OneElementOff", {3, 8, 8, 8}, true};
  add("BatchNormAddReluForwardTraining", {DType::F32, offset, Epilogue::AddRelu, true}, "", forward_training);
  add("BatchNormReluBackwardTraining", {DType::F32, offset, Epilogue::Relu, true}, "", backward_training);
  add("BatchNormAddReluBackwardTraining", {DType::F32, offset, Epilogue::AddRelu, true}, "", backward_training);
  return rows;
}

}  // namespace r50::backend_compare
