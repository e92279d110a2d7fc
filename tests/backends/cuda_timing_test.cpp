// Time and clocks on the GPU: the backend's event timer, the copy stream's upload times, NVML's
// clocks, and the per-layer profile on the CUDA backend.
#include <chrono>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "backends/cuda_backend_for_tests.h"
#include "core/rng.h"
#include "gpu_skip.h"
#include "memory/buffer.h"
#include "memory/cuda_memory.h"
#include "ops/cuda/cuda_backend.h"
#include "train/layer_profile.h"

namespace r50 {
namespace {

// Device work that takes a while: fills of a 256 MiB tensor.
void busy_work(Backend& backend, const Tensor& tensor, int fills) {
  for (int i = 0; i < fills; ++i) backend.fill(tensor, static_cast<float>(i));
}

TEST(CudaTiming, EventTimerMeasuresTheWorkBetweenItsMarksWithinTheHostsWallClock) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  const OwnedTensor tensor(backend.allocator(), {64 << 20}, DType::F32, backend.device());
  const std::unique_ptr<Backend::Timer> timer = backend.make_timer(3);
  backend.synchronize();
  const auto start = std::chrono::steady_clock::now();
  timer->record(0);
  busy_work(backend, tensor, 10);
  timer->record(1);
  busy_work(backend, tensor, 40);
  timer->record(2);
  const double short_ms = timer->milliseconds(0, 1), long_ms = timer->milliseconds(1, 2);
  const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(short_ms, 0);
  EXPECT_LE(short_ms + long_ms, wall_ms);
  // Four times the fills take about four times as long (generously: between 2 and 8).
  EXPECT_GT(long_ms, 2 * short_ms);
  EXPECT_LT(long_ms, 8 * short_ms);
}

TEST(CudaTiming, AFinishedUploadSaysHowLongItsCopyTook) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  const std::unique_ptr<Allocator> pinned = make_pinned_host_allocator();
  const std::size_t bytes = 64u << 20;
  const Buffer host(*pinned, bytes);
  const OwnedTensor device(backend.allocator(), {static_cast<std::int64_t>(bytes)}, DType::U8, backend.device());
  Backend::UploadTicket ticket = backend.upload(device, host.data());
  backend.finish_upload(ticket);
  EXPECT_EQ(ticket.event, nullptr);
  // 64 MiB over PCIe or NVLink-C2C: more than 0.5 ms (at most ~130 GB/s), less than a second.
  EXPECT_GT(ticket.milliseconds, 0.5);
  EXPECT_LT(ticket.milliseconds, 1000.0);
}

// A GPU that answers CUDA has a driver, and with it NVML.
TEST(CudaTiming, NvmlGivesClocksPowerAndTheDriverVersion) {
  R50_REQUIRE_GPU_OR_SKIP();
  const auto& backend = dynamic_cast<const CudaBackend&>(cuda());
  const GpuClocks clocks = backend.clocks();
  ASSERT_TRUE(clocks.known) << clocks.unknown_why;
  EXPECT_GT(clocks.max_sm_mhz, 0);
  EXPECT_GT(clocks.sm_mhz, 0);
  EXPECT_LE(clocks.sm_mhz, clocks.max_sm_mhz);
  EXPECT_GT(clocks.max_memory_mhz, 0);
  EXPECT_GT(clocks.power_limit_watts, 0);
  const DeviceInfo info = backend.device_info();
  EXPECT_EQ(info.max_sm_clock_mhz, clocks.max_sm_mhz);
  EXPECT_FALSE(info.driver_release.empty());
}

TEST(CudaTiming, ProfilesEveryLayerOnTheDevice) {
  R50_REQUIRE_GPU_OR_SKIP();
  Backend& backend = cuda();
  constexpr int kBatch = 4, kSize = 64;
  ResNet50 model(backend, 10);
  model.initialize(0);
  TrainStep step(model, SgdParams{});
  std::vector<float> pixels(kBatch * 3 * kSize * kSize);
  Rng rng(5);
  for (float& value : pixels) value = static_cast<float>(rng.normal());
  const std::vector<std::int32_t> classes = {0, 3, 6, 9};
  const OwnedTensor images(backend.allocator(), {kBatch, 3, kSize, kSize}, DType::F32, backend.device());
  const OwnedTensor labels(backend.allocator(), {kBatch}, DType::I32, backend.device());
  backend.copy_from_host(images, pixels.data());
  backend.copy_from_host(labels, classes.data());

  const LayerProfile profile = profile_layers(step, images, labels, 2);
  // 53 convolutions, 53 batch norms (each with its ReLU, and bn3 with the residual sum, fused), fc;
  // maxpool, avgpool; loss, optimizer.
  EXPECT_EQ(profile.layers.size(), 53u + 53u + 1u + 2u + 2u);
  std::set<std::string> names;
  for (const LayerTime& layer : profile.layers) {
    names.insert(layer.layer);
    EXPECT_GT(layer.backward_ms, 0) << layer.layer;
  }
  EXPECT_TRUE(names.count("layer3.5.conv2"));
  EXPECT_GT(profile.forward_ms(), 0);
  EXPECT_LE(profile.forward_ms() + profile.backward_ms(), profile.step_ms * 1.0001);
  EXPECT_EQ(model.observer(), nullptr);
}

}  // namespace
}  // namespace r50
