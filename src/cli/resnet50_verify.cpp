// resnet50_verify: one forward and backward of ResNet-50 on given weights and input, written out
// tensor by tensor so that anyone can compare this implementation with PyTorch's.
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>

#include "ops/select_backend.h"
#include "train/verify.h"

int main(int argc, char** argv) {
  CLI::App app{
      "One forward and backward of ResNet-50 (torchvision v1.5), no parameter update.\n"
      "Writes logits, loss, grad/<parameter> and, with --bn train, state/<buffer> (the updated\n"
      "running statistics), all under torchvision's names, to a safetensors file."};
  r50::VerifyOptions options;
  std::string device = "auto";
  std::string bn = "train";
  r50::BackendOptions backend_options;
  std::string gpu_memory_limit;
  int classes = 0;
  std::string precision = "fp32";
  app.add_option("--weights", options.weights_path, "torchvision resnet50 state_dict (safetensors)")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--input", options.input_path,
                 "'images' F32 [N,3,H,W], normalised; 'labels' I64 or I32 [N] (safetensors)")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--output", options.output_path, "where to write the results (safetensors)")->required();
  app.add_option("--device", device, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--gpu", backend_options.gpu, "GPU index")->capture_default_str();
  app.add_option("--threads", backend_options.threads, "CPU backend threads (0: every core)")
      ->capture_default_str();
  app.add_flag("--cudnn-benchmark", backend_options.cudnn_benchmark,
               "time cuDNN's candidate algorithms instead of trusting its heuristics");
  app.add_option("--gpu-memory-limit", gpu_memory_limit,
                 "cap on reserved device memory: 6GiB, 512MiB, 0.5 or 50% of the device (default: none)");
  app.add_option("--classes", classes, "class count (default: the rows of fc.weight)")
      ->check(CLI::PositiveNumber);
  app.add_option("--bn", bn,
                 "train: batch statistics, running statistics updated (model.train()); "
                 "eval: running statistics (model.eval())")
      ->check(CLI::IsMember({"train", "eval"}))->capture_default_str();
  app.add_option("--precision", precision,
                 "fp32, tf32 (GPU), or fp16 or bf16 mixed precision as torch.autocast (results still F32, "
                 "gradients unscaled)")
      ->check(CLI::IsMember({"fp32", "tf32", "fp16", "bf16"}))->capture_default_str();
  bool channels_last = false;
  app.add_flag("--channels-last", channels_last,
               "keep activations and convolution weights channels-last (NHWC) inside; the files stay NCHW");
  CLI11_PARSE(app, argc, argv);

  try {
    options.bn_mode = bn == "eval" ? r50::BatchNormMode::RunningStatistics
                                   : r50::BatchNormMode::BatchStatistics;
    if (classes > 0) options.classes = classes;
    backend_options.precision = r50::parse_precision(precision);
    options.compute_dtype = r50::compute_dtype(backend_options.precision);
    options.layout = channels_last ? r50::Layout::ChannelsLast : r50::Layout::RowMajor;
    backend_options.choice = r50::parse_backend_choice(device);
    if (!gpu_memory_limit.empty()) {
      backend_options.gpu_memory_limit = r50::parse_memory_limit(gpu_memory_limit);
    }
    auto backend = r50::select_backend(backend_options, std::cerr);
    const r50::NamedTensors results = r50::run_verification(*backend, options);
    float loss = 0.0f;
    for (const auto& [name, tensor] : results) {
      if (name == "loss") std::memcpy(&loss, tensor.bytes.data(), sizeof(float));
    }
    std::cout << "loss " << loss << " on " << backend->name() << "; wrote " << results.size()
              << " tensors to " << options.output_path << "\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
