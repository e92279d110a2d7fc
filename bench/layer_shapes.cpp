#include "layer_shapes.h"

#include <tuple>

#include "recording_backend.h"
#include "train/train_step.h"

namespace r50 {
namespace {

bool same_call(const LayerShape& a, const LayerShape& b) {
  return std::tie(a.op, a.x, a.w, a.conv.stride, a.conv.padding, a.pool.kernel, a.pool.stride, a.pool.padding,
                  a.in_place, a.accumulate) ==
         std::tie(b.op, b.x, b.w, b.conv.stride, b.conv.padding, b.pool.kernel, b.pool.stride, b.pool.padding,
                  b.in_place, b.accumulate);
}

LayerShape call_of(LayerOp op, const Shape& x) {
  LayerShape call;
  call.op = op;
  call.x = x;
  return call;
}

LayerShape convolution_of(LayerOp op, const Shape& x, const Shape& w, const Conv2dParams& params) {
  LayerShape call = call_of(op, x);
  call.w = w;
  call.conv = params;
  return call;
}

// A backend that notes the shapes of every layer op on its way to a RecordingBackend, which checks
// the arguments as the real backends do and computes nothing.
class LayerTrace final : public Backend {
 public:
  std::vector<LayerShape>& layers() { return layers_; }

  std::string name() const override { return inner_.name(); }
  Device device() const override { return inner_.device(); }
  DeviceInfo device_info() const override { return inner_.device_info(); }
  Allocator& allocator() override { return inner_.allocator(); }
  void synchronize() override {}

  void copy_from_host(const Tensor& dst, const void* host) override { inner_.copy_from_host(dst, host); }
  void copy_to_host(void* host, const Tensor& src) override { inner_.copy_to_host(host, src); }
  void copy(const Tensor& dst, const Tensor& src) override { inner_.copy(dst, src); }
  void fill(const Tensor& dst, float value) override { inner_.fill(dst, value); }
  UploadTicket upload(const Tensor& dst, const void* host) override { return inner_.upload(dst, host); }
  void wait_for_upload(const UploadTicket& ticket) override { inner_.wait_for_upload(ticket); }
  void finish_upload(UploadTicket& ticket) override { inner_.finish_upload(ticket); }

  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& params) override {
    inner_.conv2d_forward(x, w, y, params);
    note(convolution_of(LayerOp::ConvForward, x.shape(), w.shape(), params));
  }
  void conv2d_backward_data(const Tensor& dy, const Tensor& w, const Tensor& dx, const Conv2dParams& params,
                            bool accumulate) override {
    inner_.conv2d_backward_data(dy, w, dx, params, accumulate);
    LayerShape layer = convolution_of(LayerOp::ConvBackwardData, dx.shape(), w.shape(), params);
    layer.accumulate = accumulate;
    note(layer);
  }
  void conv2d_backward_filter(const Tensor& x, const Tensor& dy, const Tensor& dw,
                              const Conv2dParams& params) override {
    inner_.conv2d_backward_filter(x, dy, dw, params);
    note(convolution_of(LayerOp::ConvBackwardFilter, x.shape(), dw.shape(), params));
  }

  void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) override {
    inner_.linear_forward(x, w, b, y);
  }
  void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx, const Tensor& dw,
                       const Tensor& db) override {
    inner_.linear_backward(x, w, dy, dx, dw, db);
  }

  void batch_norm_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   const Tensor& running_mean, const Tensor& running_var, const Tensor& y,
                                   const Tensor& saved_mean, const Tensor& saved_invstd,
                                   const BatchNormParams& params) override {
    inner_.batch_norm_forward_training(x, gamma, beta, running_mean, running_var, y, saved_mean, saved_invstd,
                                       params);
    note(call_of(LayerOp::BatchNormForward, x.shape()));
  }
  void batch_norm_relu_forward_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                        const Tensor& running_mean, const Tensor& running_var,
                                        const Tensor& residual, const Tensor& y, const Tensor& saved_mean,
                                        const Tensor& saved_invstd, const BatchNormParams& params) override {
    inner_.batch_norm_relu_forward_training(x, gamma, beta, running_mean, running_var, residual, y, saved_mean,
                                            saved_invstd, params);
    note(call_of(residual.defined() ? LayerOp::BatchNormAddReluForward : LayerOp::BatchNormReluForward, x.shape()));
  }
  void batch_norm_relu_backward_training(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                         const Tensor& beta, const Tensor& saved_mean,
                                         const Tensor& saved_invstd, const Tensor& dx, const Tensor& dresidual,
                                         const Tensor& dgamma, const Tensor& dbeta) override {
    inner_.batch_norm_relu_backward_training(x, y, dy, gamma, beta, saved_mean, saved_invstd, dx, dresidual,
                                             dgamma, dbeta);
    note(call_of(dresidual.defined() ? LayerOp::BatchNormAddReluBackward : LayerOp::BatchNormReluBackward,
                 x.shape()));
  }
  void batch_norm_forward_inference(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                    const Tensor& running_mean, const Tensor& running_var, const Tensor& y,
                                    float eps) override {
    inner_.batch_norm_forward_inference(x, gamma, beta, running_mean, running_var, y, eps);
  }
  void batch_norm_backward_training(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                    const Tensor& saved_mean, const Tensor& saved_invstd, const Tensor& dx,
                                    const Tensor& dgamma, const Tensor& dbeta) override {
    inner_.batch_norm_backward_training(x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta);
    note(call_of(LayerOp::BatchNormBackward, x.shape()));
  }
  void batch_norm_backward_inference(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                     const Tensor& running_mean, const Tensor& running_var, float eps,
                                     const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) override {
    inner_.batch_norm_backward_inference(x, dy, gamma, running_mean, running_var, eps, dx, dgamma, dbeta);
  }

  void relu_forward(const Tensor& x, const Tensor& y) override {
    inner_.relu_forward(x, y);
    LayerShape layer = call_of(LayerOp::ReluForward, x.shape());
    layer.in_place = y.data() == x.data();
    note(layer);
  }
  void relu_backward(const Tensor& y, const Tensor& dy, const Tensor& dx) override {
    inner_.relu_backward(y, dy, dx);
    LayerShape layer = call_of(LayerOp::ReluBackward, y.shape());
    layer.in_place = dx.data() == dy.data();
    note(layer);
  }
  void add(const Tensor& a, const Tensor& b, const Tensor& y) override {
    inner_.add(a, b, y);
    LayerShape layer = call_of(LayerOp::Add, a.shape());
    layer.in_place = y.data() == a.data();
    note(layer);
  }

  void max_pool2d_forward(const Tensor& x, const Tensor& y, const Pool2dParams& params) override {
    inner_.max_pool2d_forward(x, y, params);
    LayerShape layer = call_of(LayerOp::MaxPoolForward, x.shape());
    layer.pool = params;
    note(layer);
  }
  void max_pool2d_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& dx,
                           const Pool2dParams& params) override {
    inner_.max_pool2d_backward(x, y, dy, dx, params);
    LayerShape layer = call_of(LayerOp::MaxPoolBackward, x.shape());
    layer.pool = params;
    note(layer);
  }
  void global_avg_pool_forward(const Tensor& x, const Tensor& y) override {
    inner_.global_avg_pool_forward(x, y);
    note(call_of(LayerOp::GlobalAvgPoolForward, x.shape()));
  }
  void global_avg_pool_backward(const Tensor& dy, const Tensor& dx) override {
    inner_.global_avg_pool_backward(dy, dx);
    note(call_of(LayerOp::GlobalAvgPoolBackward, dx.shape()));
  }

  void softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& probs,
                                     const Tensor& loss) override {
    inner_.softmax_cross_entropy_forward(logits, labels, probs, loss);
  }
  void softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels, const Tensor& dlogits,
                                      float loss_grad) override {
    inner_.softmax_cross_entropy_backward(probs, labels, dlogits, loss_grad);
  }
  using Backend::softmax_cross_entropy_backward;
  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdParams& params,
                bool first_step) override {
    inner_.sgd_step(param, grad, momentum_buffer, params, first_step);
  }
  void normalize_images(const Tensor& images, const Tensor& y, const std::array<float, 3>& mean,
                        const std::array<float, 3>& std) override {
    inner_.normalize_images(images, y, mean, std);
  }

 private:
  void note(LayerShape call) {
    for (LayerShape& seen : layers_) {
      if (same_call(seen, call)) {
        ++seen.calls_per_step;
        return;
      }
    }
    call.calls_per_step = 1;
    layers_.push_back(call);
  }

  RecordingBackend inner_;
  std::vector<LayerShape> layers_;
};

std::string dims_label(const Shape& x) {
  std::string label = "C" + std::to_string(x[1]) + "_H" + std::to_string(x[2]);
  if (x[3] != x[2]) label += "_W" + std::to_string(x[3]);
  return label;
}

}  // namespace

std::vector<LayerShape> training_step_layers(int batch, int image_size, int classes, bool fused) {
  LayerTrace trace;
  {
    // The weights' values do not matter to shapes, so the model is left uninitialised.
    ResNet50 model(trace, classes);
    model.set_fused_batch_norm_relu(fused);
    TrainStep step(model, SgdParams{});
    const OwnedTensor images(trace.allocator(), {batch, 3, image_size, image_size}, DType::F32, trace.device());
    const OwnedTensor labels(trace.allocator(), {batch}, DType::I32, trace.device());
    step.run(images, labels);
  }
  return trace.layers();
}

std::string layer_op_name(LayerOp op) {
  switch (op) {
    case LayerOp::ConvForward: return "conv_forward";
    case LayerOp::ConvBackwardData: return "conv_backward_data";
    case LayerOp::ConvBackwardFilter: return "conv_backward_filter";
    case LayerOp::BatchNormForward: return "batch_norm_forward";
    case LayerOp::BatchNormBackward: return "batch_norm_backward";
    case LayerOp::BatchNormReluForward: return "batch_norm_relu_forward";
    case LayerOp::BatchNormReluBackward: return "batch_norm_relu_backward";
    case LayerOp::BatchNormAddReluForward: return "batch_norm_add_relu_forward";
    case LayerOp::BatchNormAddReluBackward: return "batch_norm_add_relu_backward";
    case LayerOp::ReluForward: return "relu_forward";
    case LayerOp::ReluBackward: return "relu_backward";
    case LayerOp::Add: return "add";
    case LayerOp::MaxPoolForward: return "max_pool_forward";
    case LayerOp::MaxPoolBackward: return "max_pool_backward";
    case LayerOp::GlobalAvgPoolForward: return "global_avg_pool_forward";
    case LayerOp::GlobalAvgPoolBackward: return "global_avg_pool_backward";
  }
  return "unknown";
}

std::string layer_shape_label(const LayerShape& layer) {
  std::string label = dims_label(layer.x);
  switch (layer.op) {
    case LayerOp::ConvForward:
    case LayerOp::ConvBackwardData:
    case LayerOp::ConvBackwardFilter:
      return label + "_K" + std::to_string(layer.w[0]) + "_R" + std::to_string(layer.w[2]) + "_S" +
             std::to_string(layer.w[3]) + "_stride" + std::to_string(layer.conv.stride) + "_pad" +
             std::to_string(layer.conv.padding) + (layer.accumulate ? "_accumulate" : "");
    case LayerOp::MaxPoolForward:
    case LayerOp::MaxPoolBackward:
      return label + "_R" + std::to_string(layer.pool.kernel) + "_stride" + std::to_string(layer.pool.stride) +
             "_pad" + std::to_string(layer.pool.padding);
    default:
      return layer.in_place ? label + "_inplace" : label;
  }
}

}  // namespace r50
