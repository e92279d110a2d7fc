// The batch-norm rows of the CUDA-against-CPU table on channels-last (NHWC) tensors, F32, F16 and BF16.
// Inputs and bounds are those of the row-major rows (backend_compare_batchnorm.h), and half outputs
// add their rounding (half_output), as in backend_compare_half.cpp. Memory order changes
// none of them: the CPU backend computes on row-major F32 copies (ops/cpu/f32_staging.h) and
// rounds each output once into its tensor, and the CUDA kernels only sum in another order, which
// the bounds allow (γ holds for any order of summation).
#include <string>
#include <vector>

#include "backends/backend_compare_batchnorm.h"

namespace r50::backend_compare {
namespace {

constexpr Layout kNhwc = Layout::ChannelsLast;

const ShapeCase kNhwcShapes[] = {
    {"Layer2", {4, 128, 28, 28}, false},     // channels a multiple of 4: 4 per access
    {"StemLike", {2, 16, 112, 112}, false},  // few long channels: the reductions split
    {"Odd", {3, 5, 13, 13}, true},           // 5 channels: one per access
    {"Wide", {2, 200, 5, 5}, true},  // 50 groups of 4: a second block column, partly filled; rows unsplit
};

struct Precision {
  const char* suffix;  // of the row's name
  DType dtype;
};

const Precision kPrecisions[] = {{"", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}};

struct RowCase {
  DType dtype;
  ShapeCase shape;
  Epilogue epilogue;
  bool one_element_off;
};

Outputs forward_training(const RowCase& r, Backend& backend) {
  const Shape& shape = r.shape.x;
  const BatchNormInputs in = batch_norm_inputs(r.dtype, shape, 241);
  const std::int64_t C = shape[1];
  const BatchNormParams params;
  DTypeStage stage(backend, r.dtype, CpuTensors::SameDType, r.one_element_off);
  Stage& f32 = stage.f32();
  const Tensor& y = stage.output(shape, kNhwc);
  const Tensor& x = stage.input(in.x, kNhwc);
  const Tensor& running_mean = f32.input(in.running_mean);
  const Tensor& running_var = f32.input(in.running_var);
  const Tensor& saved_mean = f32.output({C});
  const Tensor& saved_invstd = f32.output({C});
  if (r.epilogue == Epilogue::None) {
    backend.batch_norm_forward_training(x, f32.input(in.gamma), f32.input(in.beta), running_mean, running_var, y,
                                        saved_mean, saved_invstd, params);
  } else {
    const Tensor residual = r.epilogue == Epilogue::AddRelu ? stage.input(in.residual, kNhwc) : Tensor();
    backend.batch_norm_relu_forward_training(x, f32.input(in.gamma), f32.input(in.beta), running_mean, running_var,
                                             residual, y, saved_mean, saved_invstd, params);
  }
  const BatchNormForwardTolerances tolerance =
      batch_norm_forward_training_tolerances(in, r.epilogue, params);
  return {half_output("y", stage.read(y), r.dtype, tolerance.y),
          {"saved_mean", f32.read(saved_mean), tolerance.saved_mean},
          {"saved_invstd", f32.read(saved_invstd), tolerance.saved_invstd},
          {"running_mean", f32.read(running_mean), tolerance.running_mean},
          {"running_var", f32.read(running_var), tolerance.running_var}};
}

Outputs forward_inference(const RowCase& r, Backend& backend) {
  const Shape& shape = r.shape.x;
  const BatchNormInputs in = batch_norm_inputs(r.dtype, shape, 242);
  const float eps = 1e-5f;
  DTypeStage stage(backend, r.dtype, CpuTensors::SameDType);
  Stage& f32 = stage.f32();
  const Tensor& y = stage.output(shape, kNhwc);
  backend.batch_norm_forward_inference(stage.input(in.x, kNhwc), f32.input(in.gamma), f32.input(in.beta),
                                       f32.input(in.running_mean), f32.input(in.running_var), y, eps);
  return {half_output("y", stage.read(y), r.dtype, batch_norm_forward_inference_tolerance(in, eps))};
}

Outputs backward_training(const RowCase& r, Backend& backend) {
  const Shape& shape = r.shape.x;
  BatchNormInputs in = batch_norm_inputs(r.dtype, shape, 243);
  const std::int64_t C = shape[1];
  const SavedStatistics saved = saved_statistics(in.x);
  const ReluGradient relu = relu_gradient(in, saved, r.epilogue, r.dtype, ReluMask::FromStoredY);
  DTypeStage stage(backend, r.dtype, CpuTensors::SameDType, r.one_element_off);
  Stage& f32 = stage.f32();
  const Tensor& dx = stage.output(shape, kNhwc);
  const Tensor& dgamma = f32.output({C});
  const Tensor& dbeta = f32.output({C});
  const Tensor dresidual = r.epilogue == Epilogue::AddRelu ? stage.output(shape, kNhwc) : Tensor();
  const Tensor& x = stage.input(in.x, kNhwc);
  const Tensor& dy = stage.input(in.dy, kNhwc);
  if (r.epilogue == Epilogue::None) {
    backend.batch_norm_backward_training(x, dy, f32.input(in.gamma), f32.input(saved.saved_mean),
                                         f32.input(saved.saved_invstd), dx, dgamma, dbeta);
  } else {
    backend.batch_norm_relu_backward_training(x, stage.input(relu.y, kNhwc), dy, f32.input(in.gamma),
                                              f32.input(in.beta), f32.input(saved.saved_mean),
                                              f32.input(saved.saved_invstd), dx, dresidual, dgamma, dbeta);
  }
  const BatchNormBackwardTolerances tolerance =
      batch_norm_backward_training_tolerances(in, relu.grad, saved);
  Outputs outputs{half_output("dx", stage.read(dx), r.dtype, tolerance.dx),
                  {"dgamma", f32.read(dgamma), tolerance.dgamma},
                  {"dbeta", f32.read(dbeta), tolerance.dbeta}};
  if (r.epilogue == Epilogue::AddRelu) outputs.push_back({"dresidual", stage.read(dresidual), kExact});
  return outputs;
}

Outputs backward_inference(const RowCase& r, Backend& backend) {
  const Shape& shape = r.shape.x;
  const BatchNormInputs in = batch_norm_inputs(r.dtype, shape, 244);
  const std::int64_t C = shape[1];
  const float eps = 1e-5f;
  DTypeStage stage(backend, r.dtype, CpuTensors::SameDType);
  Stage& f32 = stage.f32();
  const Tensor& dx = stage.output(shape, kNhwc);
  const Tensor& dgamma = f32.output({C});
  const Tensor& dbeta = f32.output({C});
  backend.batch_norm_backward_inference(stage.input(in.x, kNhwc), stage.input(in.dy, kNhwc), f32.input(in.gamma),
                                        f32.input(in.running_mean), f32.input(in.running_var), eps, dx, dgamma,
                                        dbeta);
  const BatchNormBackwardTolerances tolerance = batch_norm_backward_inference_tolerances(in, eps);
  return {half_output("dx", stage.read(dx), r.dtype, tolerance.dx),
          {"dgamma", f32.read(dgamma), tolerance.dgamma},
          {"dbeta", f32.read(dbeta), tolerance.dbeta}};
}

}  // namespace

std::vector<Row> nhwc_batch_norm_rows() {
  std::vector<Row> rows;
  const auto add = [&rows](const std::string& op, const RowCase& r, const std::string& suffix,
                           Outputs (*run)(const RowCase&, Backend&)) {
    rows.push_back({op + r.shape.name + "Nhwc" + suffix, r.shape.odd, [r, run](Backend& b) { return run(r, b); }});
    rows.back().dtype = r.dtype;
  };
  for (const Precision& p : kPrecisions) {
    for (const ShapeCase& s : kNhwcShapes) {
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
  const ShapeCase offset{"OneElementOff", {3, 8, 8, 8}, true};
  add("BatchNormAddReluForwardTraining", {DType::F32, offset, Epilogue::AddRelu, true}, "", forward_training);
  add("BatchNormReluBackwardTraining", {DType::F32, offset, Epilogue::Relu, true}, "", backward_training);
  add("BatchNormAddReluBackwardTraining", {DType::F32, offset, Epilogue::AddRelu, true}, "", backward_training);
  return rows;
}

}  // namespace r50::backend_compare
